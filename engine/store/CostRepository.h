// CostRepository: the cost ledger's rows — price profiles (editable), cost entries (one
// per job attempt, inserted when it starts and updated as it runs, so a crash loses at
// most the last few seconds of a job's cost), and budgets. Amounts are plain numbers in
// the entry's currency; the arithmetic lives in engine/cost.
#pragma once

#include "store/Sqlite.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lathe::store {

struct PriceProfileRecord
{
    int64_t id = 0;
    std::string name;
    std::string kind = "rental"; // "rental" or "owned"
    std::string currency = "USD";
    double hourlyRate = 0, purchasePrice = 0, lifetimeHours = 0, kwhPrice = 0;
    double tdpWatts = 0, denseTflops = 0, memoryGb = 0;
    bool isExample = false, isDefault = false;
    std::string note;
};

struct CostEntryRecord
{
    int64_t id = 0;
    std::optional<int64_t> runId, jobId;
    std::string profileName;
    std::string kind; // job kind, or "chat"
    double startedAt = 0, durationS = 0, energyJ = 0;
    std::string powerSource; // "nvml", "rapl", "tdp"
    bool measured = false;
    double timeCost = 0, energyCost = 0, totalCost = 0;
    std::string currency = "USD";
    int64_t tokensTrained = 0, tokensGenerated = 0;
    double gpuHours = 0;
};

struct BudgetRecord
{
    std::string scope; // "run", "day", "month"
    std::optional<double> warnAmount, limitAmount;
    std::string currency = "USD";
};

struct MonthSpend
{
    std::string month; // "2026-11" (UTC)
    double total = 0;
    int64_t entries = 0;
};

class CostRepository
{
public:
    explicit CostRepository(Connection &connection) : m_db(connection) {}

    // Inserts or replaces by name; returns the id.
    int64_t saveProfile(const PriceProfileRecord &profile);
    std::optional<PriceProfileRecord> findProfile(const std::string &name);
    std::vector<PriceProfileRecord> profiles();
    std::optional<PriceProfileRecord> defaultProfile();
    void setDefaultProfile(const std::string &name); // Error if there is no such profile

    int64_t insertEntry(const CostEntryRecord &entry);
    void updateEntry(const CostEntryRecord &entry); // by id
    std::vector<CostEntryRecord> entriesForRun(int64_t runId);
    double totalForRun(int64_t runId);
    // Sum of entries started in [from, to) (Unix seconds), excluding entry `except`.
    double totalBetween(double from, double to, int64_t except = 0);
    // Spend per calendar month (UTC), oldest first.
    std::vector<MonthSpend> monthlySpend();

    void saveBudget(const BudgetRecord &budget);
    std::vector<BudgetRecord> budgets();

private:
    Connection &m_db;
};

} // namespace lathe::store
