// Cost reports (see Reports.h).
#include "cost/Reports.h"

#include "core/Error.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

namespace lathe::cost {

namespace {

std::string fmt(const char *format, double v)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

std::string duration(double seconds)
{
    char buf[64];
    if (seconds < 60) {
        std::snprintf(buf, sizeof buf, "%.1f s", seconds);
        return buf;
    }
    const int64_t s = int64_t(std::llround(seconds));
    if (s < 3600)
        std::snprintf(buf, sizeof buf, "%lldm %02llds", (long long)(s / 60), (long long)(s % 60));
    else
        std::snprintf(buf, sizeof buf, "%lldh %02lldm %02llds", (long long)(s / 3600), (long long)(s / 60 % 60),
                      (long long)(s % 60));
    return buf;
}

std::optional<double> relative(std::optional<double> from, std::optional<double> to, bool saving)
{
    if (!from || !to || *from == 0)
        return std::nullopt;
    return saving ? (*from - *to) / *from * 100.0 : (*to - *from) / *from * 100.0;
}

std::string csvField(const std::string &s)
{
    if (s.find_first_of(",\"\n\r") == std::string::npos)
        return s;
    std::string out = "\"";
    for (char c : s)
        out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string number(std::optional<double> v, const char *format = "%.6g")
{
    return v ? fmt(format, *v) : std::string();
}

std::string markdownCell(const std::string &s)
{
    std::string out;
    for (char c : s)
        out += c == '|' ? std::string("\\|") : c == '\n' ? std::string(" ") : std::string(1, c);
    return out;
}

} // namespace

std::string formatCostCard(const CostCard &card)
{
    const CostBreakdown &c = card.cost;
    std::ostringstream out;
    out << "Cost card: " << card.runName << "\n";
    out << "  profile:        " << card.profileName << "\n";
    out << "  duration:       " << duration(c.seconds) << " (" << fmt("%.4g", c.gpuHours) << " GPU-hours)\n";
    out << "  energy:         " << fmt("%.4g", kwhFromJoules(c.energyJoules)) << " kWh (" << c.energyLabel()
        << ", " << (card.powerDescription.empty() ? c.energySource : card.powerDescription) << ")\n";
    // A cost that depends on estimated energy is itself an estimate; time is always measured.
    const char *estimated = c.dependsOnEnergy() && !c.energyMeasured ? " (estimated)" : "";
    out << "  time cost:      " << formatMoney(c.timeCost, c.currency) << "\n";
    out << "  energy cost:    " << formatMoney(c.energyCost, c.currency) << estimated << "\n";
    out << "  total:          " << formatMoney(c.total, c.currency) << estimated << "\n";
    if (auto per = costPerThousandTokens(c.total, card.tokensTrained))
        out << "  per 1k trained:   " << formatMoney(*per, c.currency) << " (" << card.tokensTrained << " tokens)\n";
    if (auto per = costPerThousandTokens(c.total, card.tokensGenerated))
        out << "  per 1k generated: " << formatMoney(*per, c.currency) << " (" << card.tokensGenerated << " tokens)\n";
    for (const std::string &note : card.budgetNotes)
        out << "  ! " << note << "\n";
    if (!card.whatIf.empty()) {
        out << "  what if (estimated):\n";
        for (const WhatIfEstimate &w : card.whatIf)
            out << "    " << w.profile << ": " << duration(w.seconds) << ", "
                << formatMoney(w.cost.total, w.cost.currency) << (w.fits ? "" : " (does not fit in memory)") << "\n";
    }
    return out.str();
}

std::vector<ComparisonRow> compareRuns(const RunFigures &b, const RunFigures &a)
{
    std::vector<ComparisonRow> rows;
    auto resource = [&](const std::string &name, std::optional<double> before, std::optional<double> after) {
        rows.push_back({name, before, after, relative(before, after, false), relative(before, after, true)});
    };
    resource("time_s", b.seconds, a.seconds);
    resource("cost_" + b.currency, b.cost, a.cost);
    resource("cost_per_1k_tokens", costPerThousandTokens(b.cost, b.tokens), costPerThousandTokens(a.cost, a.tokens));
    auto gib = [](std::optional<double> bytes) {
        return bytes ? std::optional<double>(*bytes / (1024.0 * 1024.0 * 1024.0)) : std::nullopt;
    };
    resource("peak_vram_gib", gib(b.peakVramBytes), gib(a.peakVramBytes));
    std::set<std::string> names;
    for (const auto &[k, v] : b.quality)
        names.insert(k);
    for (const auto &[k, v] : a.quality)
        names.insert(k);
    for (const std::string &k : names) {
        auto get = [&](const RunFigures &r) {
            auto it = r.quality.find(k);
            return it == r.quality.end() ? std::nullopt : std::optional<double>(it->second);
        };
        rows.push_back({k, get(b), get(a), relative(get(b), get(a), false), std::nullopt});
    }
    return rows;
}

std::string comparisonCsv(const std::vector<ComparisonRow> &rows, const std::string &beforeName,
                          const std::string &afterName)
{
    std::ostringstream out;
    out << "metric," << csvField(beforeName) << "," << csvField(afterName) << ",change_percent,saving_percent\n";
    for (const ComparisonRow &r : rows)
        out << csvField(r.metric) << "," << number(r.before) << "," << number(r.after) << ","
            << number(r.changePercent, "%.2f") << "," << number(r.savingPercent, "%.2f") << "\n";
    return out.str();
}

std::string comparisonMarkdown(const std::vector<ComparisonRow> &rows, const std::string &beforeName,
                               const std::string &afterName)
{
    std::ostringstream out;
    out << "| metric | " << markdownCell(beforeName) << " | " << markdownCell(afterName) << " | change | saving |\n";
    out << "|---|---:|---:|---:|---:|\n";
    for (const ComparisonRow &r : rows) {
        auto pct = [](std::optional<double> v) { return v ? fmt("%+.1f%%", *v) : std::string("–"); };
        auto val = [](std::optional<double> v) { return v ? fmt("%.4g", *v) : std::string("–"); };
        out << "| " << markdownCell(r.metric) << " | " << val(r.before) << " | " << val(r.after) << " | "
            << pct(r.changePercent) << " | " << (r.savingPercent ? fmt("%.1f%%", *r.savingPercent) : "–") << " |\n";
    }
    return out.str();
}

SpendForecast forecastSpend(const std::vector<MonthTotal> &months, double lastMonthFraction)
{
    SpendForecast f;
    if (months.empty())
        return f;
    if (!(lastMonthFraction > 0 && lastMonthFraction <= 1))
        fail("spend forecast: the fraction of the last month passed must be in (0, 1]");
    const size_t n = std::min<size_t>(6, months.size());
    std::vector<double> y;
    for (size_t i = months.size() - n; i < months.size(); ++i)
        y.push_back(months[i].total);
    if (lastMonthFraction < 1) {
        y.back() /= lastMonthFraction;
        f.lastMonthProjected = y.back();
    }
    f.monthsUsed = int(n);
    // Least squares on x = 0..n-1; the forecast is the line at x = n.
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; ++i) {
        mx += double(i);
        my += y[i];
    }
    mx /= double(n);
    my /= double(n);
    double sxy = 0, sxx = 0;
    for (size_t i = 0; i < n; ++i) {
        sxy += (double(i) - mx) * (y[i] - my);
        sxx += (double(i) - mx) * (double(i) - mx);
    }
    f.slopePerMonth = sxx > 0 ? sxy / sxx : 0.0;
    f.nextMonth = std::max(0.0, my + f.slopePerMonth * (double(n) - mx));
    return f;
}

std::string formatMonthlyReport(const std::vector<MonthTotal> &months, const SpendForecast &forecast,
                                const std::string &currency)
{
    std::ostringstream out;
    out << "Monthly spend\n";
    if (months.empty())
        return out.str() + "  (no cost entries yet)\n";
    double peak = 0;
    for (const MonthTotal &m : months)
        peak = std::max(peak, m.total);
    for (const MonthTotal &m : months) {
        const int bar = peak > 0 ? int(std::lround(m.total / peak * 30)) : 0;
        char line[64];
        std::snprintf(line, sizeof line, "  %-8s %12s  ", m.month.c_str(), formatMoney(m.total, currency).c_str());
        out << line << std::string(size_t(bar), '#') << "\n";
    }
    if (forecast.lastMonthProjected)
        out << "  " << months.back().month << " projected to month end: "
            << formatMoney(*forecast.lastMonthProjected, currency) << "\n";
    out << "  trend: " << (forecast.slopePerMonth >= 0 ? "+" : "") << formatMoney(forecast.slopePerMonth, currency)
        << " per month over " << forecast.monthsUsed << " month(s); next month forecast "
        << formatMoney(forecast.nextMonth, currency) << " (linear fit, an estimate)\n";
    return out.str();
}

} // namespace lathe::cost
