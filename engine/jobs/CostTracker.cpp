// Live cost of a job attempt (see CostTracker.h).
#include "jobs/CostTracker.h"

#include <cstdio>

namespace lathe::jobs {

namespace {

constexpr std::chrono::seconds kPersistEvery{5};

cost::PriceProfile freeProfile()
{
    cost::PriceProfile p;
    p.name = "(no price profile)";
    return p;
}

} // namespace

CostTracker::CostTracker(store::Connection &connection, const store::JobRecord &job, int64_t runId,
                         std::optional<cost::PriceProfile> profile, std::unique_ptr<cost::PowerSource> power,
                         std::chrono::milliseconds energyInterval)
    : m_db(connection), m_profile(std::move(profile)),
      m_meter(std::move(power), m_profile ? m_profile->tdpWatts : 0.0, energyInterval),
      m_t0(std::chrono::steady_clock::now()), m_lastPersist(m_t0)
{
    m_entry.runId = runId;
    m_entry.jobId = job.id;
    m_entry.profileName = m_profile ? m_profile->name : freeProfile().name;
    m_entry.kind = store::jobKindName(job.kind);
    m_entry.startedAt = store::nowSeconds();
    m_entry.currency = m_profile ? m_profile->currency : "USD";
    const cost::Energy e = m_meter.energy();
    m_entry.powerSource = e.source;
    m_entry.measured = e.measured;
    m_entry.id = store::CostRepository(m_db).insertEntry(m_entry);
}

CostTracker::~CostTracker()
{
    if (!m_finished) {
        try {
            finish();
        } catch (const std::exception &e) {
            std::fprintf(stderr, "lathe: cost entry %lld: %s\n", (long long)m_entry.id, e.what());
        }
    }
}

cost::CostBreakdown CostTracker::current()
{
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_t0).count();
    return cost::computeCost(m_profile ? *m_profile : freeProfile(), seconds, m_meter.energy());
}

void CostTracker::setTokens(int64_t trained, int64_t generated)
{
    m_entry.tokensTrained = trained;
    m_entry.tokensGenerated = generated;
}

void CostTracker::persist(bool force)
{
    const auto now = std::chrono::steady_clock::now();
    if (!force && now - m_lastPersist < kPersistEvery)
        return;
    m_lastPersist = now;
    const cost::CostBreakdown c = m_last = current();
    m_entry.durationS = c.seconds;
    m_entry.energyJ = c.energyJoules;
    m_entry.powerSource = c.energySource;
    m_entry.measured = c.energyMeasured;
    m_entry.timeCost = c.timeCost;
    m_entry.energyCost = c.energyCost;
    m_entry.totalCost = c.total;
    m_entry.gpuHours = c.gpuHours;
    store::CostRepository(m_db).updateEntry(m_entry);
}

cost::CostBreakdown CostTracker::finish()
{
    m_finished = true;
    m_meter.stop(); // energy() now keeps the final reading
    persist(true);
    return m_last;
}

} // namespace lathe::jobs
