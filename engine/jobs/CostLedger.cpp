// The cost ledger over the store (see CostLedger.h).
#include "jobs/CostLedger.h"

#include "cost/WhatIf.h"
#include "store/RunRepository.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <ctime>

namespace lathe::jobs {

cost::PriceProfile toProfile(const store::PriceProfileRecord &r)
{
    cost::PriceProfile p;
    p.name = r.name;
    p.kind = cost::parseProfileKind(r.kind);
    p.currency = r.currency;
    p.hourlyRate = r.hourlyRate;
    p.purchasePrice = r.purchasePrice;
    p.lifetimeHours = r.lifetimeHours;
    p.kwhPrice = r.kwhPrice;
    p.tdpWatts = r.tdpWatts;
    p.denseTflops = r.denseTflops;
    p.memoryGb = r.memoryGb;
    p.note = r.note;
    return p;
}

store::PriceProfileRecord toRecord(const cost::PriceProfile &p)
{
    store::PriceProfileRecord r;
    r.name = p.name;
    r.kind = cost::profileKindName(p.kind);
    r.currency = p.currency;
    r.hourlyRate = p.hourlyRate;
    r.purchasePrice = p.purchasePrice;
    r.lifetimeHours = p.lifetimeHours;
    r.kwhPrice = p.kwhPrice;
    r.tdpWatts = p.tdpWatts;
    r.denseTflops = p.denseTflops;
    r.memoryGb = p.memoryGb;
    r.note = p.note;
    return r;
}

double utcDayStart(double t)
{
    return std::floor(t / 86400.0) * 86400.0;
}

double utcMonthStart(double t)
{
    const std::time_t s = std::time_t(std::floor(t));
    std::tm tm = {};
    gmtime_r(&s, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    return double(timegm(&tm));
}

double utcNextMonthStart(double t)
{
    const std::time_t s = std::time_t(std::floor(t));
    std::tm tm = {};
    gmtime_r(&s, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_mon += 1; // timegm normalises December + 1 into January of the next year
    return double(timegm(&tm));
}

void CostLedger::ensureExampleProfiles()
{
    store::Transaction tx(m_db);
    const bool empty = m_repo.profiles().empty();
    for (const cost::PriceProfile &p : cost::exampleProfiles()) {
        if (m_repo.findProfile(p.name))
            continue;
        store::PriceProfileRecord r = toRecord(p);
        r.isExample = true;
        m_repo.saveProfile(r);
    }
    if (empty)
        m_repo.setDefaultProfile(kInitialDefaultProfile);
    tx.commit();
}

std::vector<cost::PriceProfile> CostLedger::profiles()
{
    std::vector<cost::PriceProfile> out;
    for (const store::PriceProfileRecord &r : m_repo.profiles())
        out.push_back(toProfile(r));
    return out;
}

std::optional<cost::PriceProfile> CostLedger::profile(const std::string &name)
{
    const auto r = m_repo.findProfile(name);
    return r ? std::optional<cost::PriceProfile>(toProfile(*r)) : std::nullopt;
}

std::optional<cost::PriceProfile> CostLedger::defaultProfile()
{
    const auto r = m_repo.defaultProfile();
    return r ? std::optional<cost::PriceProfile>(toProfile(*r)) : std::nullopt;
}

void CostLedger::saveProfile(const cost::PriceProfile &profile)
{
    cost::validate(profile);
    store::PriceProfileRecord r = toRecord(profile);
    if (const auto old = m_repo.findProfile(profile.name))
        r.isDefault = old->isDefault;
    m_repo.saveProfile(r);
}

void CostLedger::setDefaultProfile(const std::string &name)
{
    m_repo.setDefaultProfile(name);
}

std::optional<cost::PriceProfile> CostLedger::profileForJob(const store::JobRecord &job)
{
    const nlohmann::json spec = nlohmann::json::parse(job.specJson, nullptr, false);
    if (spec.is_object() && spec.contains("price_profile") && spec["price_profile"].is_string()) {
        const std::string name = spec["price_profile"].get<std::string>();
        auto p = profile(name);
        if (!p)
            fail("job " + std::to_string(job.id) + ": spec field price_profile: no profile named '" + name + "'");
        return p;
    }
    return defaultProfile();
}

void CostLedger::setBudget(const cost::Budget &b)
{
    for (const std::optional<double> &v : {b.warn, b.limit})
        if (v && !(std::isfinite(*v) && *v >= 0))
            fail(std::string("budget ") + cost::budgetScopeName(b.scope) + ": amounts must be finite and >= 0");
    m_repo.saveBudget({cost::budgetScopeName(b.scope), b.warn, b.limit, b.currency});
}

std::vector<cost::Budget> CostLedger::budgets()
{
    std::vector<cost::Budget> out;
    for (const store::BudgetRecord &r : m_repo.budgets())
        out.push_back({cost::parseBudgetScope(r.scope), r.warnAmount, r.limitAmount, r.currency});
    return out;
}

std::vector<cost::BudgetCheck> CostLedger::check(int64_t runId, int64_t liveEntry, double liveCost,
                                                 double nextStretch, double now)
{
    std::vector<cost::BudgetCheck> out;
    for (const cost::Budget &b : budgets()) {
        double spent = liveCost;
        switch (b.scope) {
        case cost::BudgetScope::Run: {
            store::Statement st(m_db, "SELECT COALESCE(SUM(total_cost), 0) FROM cost_entries WHERE run_id = ? "
                                      "AND id != ?");
            st.bind(1, runId).bind(2, liveEntry);
            st.step();
            spent += st.columnDouble(0);
            break;
        }
        case cost::BudgetScope::Day:
            spent += m_repo.totalBetween(utcDayStart(now), utcDayStart(now) + 86400.0, liveEntry);
            break;
        case cost::BudgetScope::Month:
            spent += m_repo.totalBetween(utcMonthStart(now), utcNextMonthStart(now), liveEntry);
            break;
        }
        out.push_back(cost::checkBudget(b, spent, nextStretch));
    }
    return out;
}

cost::CostCard CostLedger::costCard(int64_t runId)
{
    store::RunRepository runs(m_db);
    const auto run = runs.find(runId);
    if (!run)
        fail("run " + std::to_string(runId) + ": no such run");
    cost::CostCard card;
    card.runName = run->name;
    card.tokensTrained = run->tokensTrained;
    card.tokensGenerated = run->tokensGenerated;
    cost::CostBreakdown &c = card.cost;
    c.energyMeasured = true;
    std::string lastProfile;
    for (const store::CostEntryRecord &e : m_repo.entriesForRun(runId)) {
        c.seconds += e.durationS;
        c.gpuHours += e.gpuHours;
        c.energyJoules += e.energyJ;
        c.timeCost += e.timeCost;
        c.energyCost += e.energyCost;
        c.total += e.totalCost;
        c.currency = e.currency;
        c.energyMeasured = c.energyMeasured && e.measured;
        c.energySource = c.energySource.empty() || c.energySource == e.powerSource ? e.powerSource : "mixed";
        if (lastProfile.empty() || lastProfile == e.profileName)
            card.profileName = e.profileName;
        else
            card.profileName = "several (last: " + e.profileName + ")";
        lastProfile = e.profileName;
    }
    if (c.seconds == 0)
        c.energyMeasured = false;
    const std::optional<cost::PriceProfile> ranOn = lastProfile.empty() ? std::nullopt : profile(lastProfile);
    if (ranOn && c.seconds > 0 && (ranOn->denseTflops > 0 || run->flops > 0)) {
        std::vector<cost::PriceProfile> others;
        for (const cost::PriceProfile &p : profiles())
            if (p.name != ranOn->name)
                others.push_back(p);
        cost::RunMeasurement m;
        m.seconds = c.seconds;
        m.flops = run->flops;
        m.tokens = run->tokensTrained + run->tokensGenerated;
        if (run->peakVramBytes)
            m.peakMemoryGb = double(*run->peakVramBytes) / 1e9;
        card.whatIf = cost::whatIf(m, *ranOn, others);
    }
    return card;
}

cost::RunFigures CostLedger::runFigures(int64_t runId)
{
    const cost::CostCard card = costCard(runId);
    const auto run = store::RunRepository(m_db).find(runId);
    cost::RunFigures f;
    f.name = run->name;
    f.seconds = card.cost.seconds;
    f.cost = card.cost.total;
    f.currency = card.cost.currency;
    f.tokens = run->tokensTrained + run->tokensGenerated;
    if (run->peakVramBytes)
        f.peakVramBytes = double(*run->peakVramBytes);
    const nlohmann::json metrics = nlohmann::json::parse(run->finalMetricsJson, nullptr, false);
    if (metrics.is_object())
        for (const auto &[key, value] : metrics.items())
            if (value.is_number() && key != "tokens_trained" && key != "tokens_generated" && key != "flops" &&
                key != "peak_vram_bytes" && key != "peak_memory_bytes" && key != "steps")
                f.quality[key] = value.get<double>();
    return f;
}

std::vector<cost::MonthTotal> CostLedger::monthlyTotals()
{
    std::vector<cost::MonthTotal> out;
    for (const store::MonthSpend &m : m_repo.monthlySpend())
        out.push_back({m.month, m.total});
    return out;
}

} // namespace lathe::jobs
