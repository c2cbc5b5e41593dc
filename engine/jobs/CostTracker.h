// CostTracker: the cost of one attempt of one job, live. It starts an energy meter,
// inserts the attempt's cost entry at once and rewrites it as the job runs (at
// checkpoints and every few seconds), so a killed process leaves its cost in the ledger
// up to its last update. Without a price profile the entry still records time and
// energy, at zero cost. Used by one worker thread.
#pragma once

#include "cost/CostModel.h"
#include "cost/EnergyMeter.h"
#include "cost/PriceProfile.h"
#include "store/CostRepository.h"
#include "store/JobRepository.h"

#include <chrono>
#include <memory>
#include <optional>

namespace lathe::jobs {

class CostTracker
{
public:
    CostTracker(store::Connection &connection, const store::JobRecord &job, int64_t runId,
                std::optional<cost::PriceProfile> profile, std::unique_ptr<cost::PowerSource> power,
                std::chrono::milliseconds energyInterval);
    ~CostTracker();
    CostTracker(const CostTracker &) = delete;
    CostTracker &operator=(const CostTracker &) = delete;

    // The attempt's cost so far.
    cost::CostBreakdown current();
    // Tokens this attempt processed (for the entry and per-1k figures).
    void setTokens(int64_t trained, int64_t generated);
    // Rewrites the entry; throttled to one write per few seconds unless force.
    void persist(bool force = false);
    // Stops the meter, writes the final entry and returns the final cost.
    cost::CostBreakdown finish();

    int64_t entryId() const { return m_entry.id; }
    std::string powerDescription() const { return m_meter.description(); }

private:
    store::Connection &m_db;
    std::optional<cost::PriceProfile> m_profile;
    cost::EnergyMeter m_meter;
    std::chrono::steady_clock::time_point m_t0, m_lastPersist;
    store::CostEntryRecord m_entry;
    cost::CostBreakdown m_last; // as last written
    bool m_finished = false;
};

} // namespace lathe::jobs
