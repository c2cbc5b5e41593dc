// Reports: the cost ledger turned into text a user can read or paste — a run's cost
// card, a before/after table of two runs (CSV and Markdown), and monthly spend with a
// simple linear trend forecast. Pure functions over plain values; no I/O.
#pragma once

#include "cost/CostModel.h"
#include "cost/WhatIf.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lathe::cost {

struct CostCard
{
    std::string runName;
    std::string profileName;
    CostBreakdown cost;
    int64_t tokensTrained = 0, tokensGenerated = 0;
    std::string powerDescription;         // where the energy figure came from
    std::vector<std::string> budgetNotes; // warnings and limits hit
    std::vector<WhatIfEstimate> whatIf;
};
std::string formatCostCard(const CostCard &card);

// The figures of one run that a before/after comparison shows.
struct RunFigures
{
    std::string name;
    double seconds = 0;
    double cost = 0;
    std::string currency = "USD";
    int64_t tokens = 0;
    std::optional<double> peakVramBytes;
    std::map<std::string, double> quality; // "eval_loss", "perplexity", "bleu", ...
};

struct ComparisonRow
{
    std::string metric;
    std::optional<double> before, after;
    std::optional<double> changePercent; // (after - before) / before x 100
    std::optional<double> savingPercent; // (before - after) / before x 100, resources only
};

// Rows: time (s), cost, cost per 1k tokens, peak VRAM (GiB), then every quality metric
// either run has (missing values stay empty).
std::vector<ComparisonRow> compareRuns(const RunFigures &before, const RunFigures &after);
std::string comparisonCsv(const std::vector<ComparisonRow> &rows, const std::string &beforeName,
                          const std::string &afterName);
std::string comparisonMarkdown(const std::vector<ComparisonRow> &rows, const std::string &beforeName,
                               const std::string &afterName);

struct MonthTotal
{
    std::string month; // "2026-11"
    double total = 0;
};

struct SpendForecast
{
    double nextMonth = 0;     // forecast for the month after the last one given
    double slopePerMonth = 0; // trend of the least-squares line
    int monthsUsed = 0;       // points the line was fitted to (at most 6, the latest)
    std::optional<double> lastMonthProjected; // the last month extrapolated to its end
};

// Fits a line to the last (up to) six months. lastMonthFraction in (0, 1] says how much
// of the last month has passed; a partial month is extrapolated (total / fraction)
// before fitting. The forecast is never negative. Empty input gives zeros.
SpendForecast forecastSpend(const std::vector<MonthTotal> &months, double lastMonthFraction = 1.0);
std::string formatMonthlyReport(const std::vector<MonthTotal> &months, const SpendForecast &forecast,
                                const std::string &currency = "USD");

} // namespace lathe::cost
