// CostLedger: the bridge between the cost arithmetic (engine/cost, no I/O) and its rows
// in the store: price profiles (seeded with the editable examples), budgets, budget
// checks against what was spent, and the reports read back from the ledger. Day and
// month boundaries are UTC, as the monthly report groups them.
#pragma once

#include "cost/Budget.h"
#include "cost/PriceProfile.h"
#include "cost/Reports.h"
#include "store/CostRepository.h"
#include "store/JobRepository.h"

#include <optional>
#include <string>
#include <vector>

namespace lathe::jobs {

// The example marked default the first time the examples are seeded: Lathe's user has
// a 16 GB card at home. Change it with CostLedger::setDefaultProfile.
inline constexpr const char *kInitialDefaultProfile = "RTX 4060 Ti 16GB (owned)";

cost::PriceProfile toProfile(const store::PriceProfileRecord &record);
store::PriceProfileRecord toRecord(const cost::PriceProfile &profile);

class CostLedger
{
public:
    explicit CostLedger(store::Connection &connection) : m_db(connection), m_repo(connection) {}

    // Adds the example profiles missing by name (never overwrites an edit); when the
    // store had no profile at all, marks kInitialDefaultProfile as the default.
    void ensureExampleProfiles();
    std::vector<cost::PriceProfile> profiles();
    std::optional<cost::PriceProfile> profile(const std::string &name);
    std::optional<cost::PriceProfile> defaultProfile();
    void saveProfile(const cost::PriceProfile &profile); // validates first
    void setDefaultProfile(const std::string &name);
    // The job's spec "price_profile" if set (Error if unknown), else the default.
    std::optional<cost::PriceProfile> profileForJob(const store::JobRecord &job);

    void setBudget(const cost::Budget &budget);
    std::vector<cost::Budget> budgets();
    // Checks every budget for a run at time now (Unix s): the run's recorded entries,
    // today's and this month's, with entry `liveEntry` replaced by liveCost (the running
    // attempt, whose stored row lags), one stretch of nextStretch ahead.
    std::vector<cost::BudgetCheck> check(int64_t runId, int64_t liveEntry, double liveCost, double nextStretch,
                                         double now);

    // A run's cost card from its entries (what-if against every other profile with a
    // published throughput). Error if the run is unknown.
    cost::CostCard costCard(int64_t runId);
    cost::RunFigures runFigures(int64_t runId);
    std::vector<cost::MonthTotal> monthlyTotals();

private:
    store::Connection &m_db;
    store::CostRepository m_repo;
};

// UTC day and month starts (Unix seconds) for a time t.
double utcDayStart(double t);
double utcMonthStart(double t);
double utcNextMonthStart(double t);

} // namespace lathe::jobs
