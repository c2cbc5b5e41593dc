// Cost ledger rows (see CostRepository.h).
#include "store/CostRepository.h"

namespace lathe::store {

namespace {

const char *const kProfileColumns = "id, name, kind, currency, hourly_rate, purchase_price, lifetime_hours, "
                                    "kwh_price, tdp_watts, dense_tflops, memory_gb, is_example, is_default, note";

PriceProfileRecord readProfile(const Statement &st)
{
    PriceProfileRecord p;
    int i = 0;
    p.id = st.columnInt(i++);
    p.name = st.columnText(i++);
    p.kind = st.columnText(i++);
    p.currency = st.columnText(i++);
    p.hourlyRate = st.columnDouble(i++);
    p.purchasePrice = st.columnDouble(i++);
    p.lifetimeHours = st.columnDouble(i++);
    p.kwhPrice = st.columnDouble(i++);
    p.tdpWatts = st.columnDouble(i++);
    p.denseTflops = st.columnDouble(i++);
    p.memoryGb = st.columnDouble(i++);
    p.isExample = st.columnInt(i++) != 0;
    p.isDefault = st.columnInt(i++) != 0;
    p.note = st.columnText(i++);
    return p;
}

const char *const kEntryColumns = "id, run_id, job_id, profile_name, kind, started_at, duration_s, energy_j, "
                                  "power_source, measured, time_cost, energy_cost, total_cost, currency, "
                                  "tokens_trained, tokens_generated, gpu_hours";

CostEntryRecord readEntry(const Statement &st)
{
    CostEntryRecord e;
    int i = 0;
    e.id = st.columnInt(i++);
    e.runId = st.columnOptInt(i++);
    e.jobId = st.columnOptInt(i++);
    e.profileName = st.columnText(i++);
    e.kind = st.columnText(i++);
    e.startedAt = st.columnDouble(i++);
    e.durationS = st.columnDouble(i++);
    e.energyJ = st.columnDouble(i++);
    e.powerSource = st.columnText(i++);
    e.measured = st.columnInt(i++) != 0;
    e.timeCost = st.columnDouble(i++);
    e.energyCost = st.columnDouble(i++);
    e.totalCost = st.columnDouble(i++);
    e.currency = st.columnText(i++);
    e.tokensTrained = st.columnInt(i++);
    e.tokensGenerated = st.columnInt(i++);
    e.gpuHours = st.columnDouble(i++);
    return e;
}

// Binds the entry's fields (all but id) to parameters 1..16.
void bindEntry(Statement &st, const CostEntryRecord &e)
{
    st.bind(1, e.runId).bind(2, e.jobId).bind(3, e.profileName).bind(4, e.kind).bind(5, e.startedAt);
    st.bind(6, e.durationS).bind(7, e.energyJ).bind(8, e.powerSource).bind(9, int64_t(e.measured));
    st.bind(10, e.timeCost).bind(11, e.energyCost).bind(12, e.totalCost).bind(13, e.currency);
    st.bind(14, e.tokensTrained).bind(15, e.tokensGenerated).bind(16, e.gpuHours);
}

} // namespace

int64_t CostRepository::saveProfile(const PriceProfileRecord &p)
{
    Statement st(m_db, "INSERT INTO price_profiles (name, kind, currency, hourly_rate, purchase_price, lifetime_hours, "
                       "kwh_price, tdp_watts, dense_tflops, memory_gb, is_example, is_default, note) "
                       "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, "
                       "currency = excluded.currency, hourly_rate = excluded.hourly_rate, "
                       "purchase_price = excluded.purchase_price, lifetime_hours = excluded.lifetime_hours, "
                       "kwh_price = excluded.kwh_price, tdp_watts = excluded.tdp_watts, "
                       "dense_tflops = excluded.dense_tflops, memory_gb = excluded.memory_gb, "
                       "is_example = excluded.is_example, note = excluded.note");
    st.bind(1, p.name).bind(2, p.kind).bind(3, p.currency).bind(4, p.hourlyRate).bind(5, p.purchasePrice);
    st.bind(6, p.lifetimeHours).bind(7, p.kwhPrice).bind(8, p.tdpWatts).bind(9, p.denseTflops);
    st.bind(10, p.memoryGb).bind(11, int64_t(p.isExample)).bind(12, int64_t(p.isDefault)).bind(13, p.note);
    st.exec();
    const std::optional<PriceProfileRecord> saved = findProfile(p.name);
    if (p.isDefault)
        setDefaultProfile(p.name);
    return saved ? saved->id : 0;
}

std::optional<PriceProfileRecord> CostRepository::findProfile(const std::string &name)
{
    Statement st(m_db, std::string("SELECT ") + kProfileColumns + " FROM price_profiles WHERE name = ?");
    st.bind(1, name);
    if (!st.step())
        return std::nullopt;
    return readProfile(st);
}

std::vector<PriceProfileRecord> CostRepository::profiles()
{
    Statement st(m_db, std::string("SELECT ") + kProfileColumns + " FROM price_profiles ORDER BY id");
    std::vector<PriceProfileRecord> out;
    while (st.step())
        out.push_back(readProfile(st));
    return out;
}

std::optional<PriceProfileRecord> CostRepository::defaultProfile()
{
    Statement st(m_db, std::string("SELECT ") + kProfileColumns +
                           " FROM price_profiles WHERE is_default = 1 ORDER BY id LIMIT 1");
    if (!st.step())
        return std::nullopt;
    return readProfile(st);
}

void CostRepository::setDefaultProfile(const std::string &name)
{
    if (!findProfile(name))
        fail("price profile '" + name + "': no such profile");
    Statement st(m_db, "UPDATE price_profiles SET is_default = (name = ?)");
    st.bind(1, name).exec();
}

int64_t CostRepository::insertEntry(const CostEntryRecord &e)
{
    Statement st(m_db, "INSERT INTO cost_entries (run_id, job_id, profile_name, kind, started_at, duration_s, energy_j, "
                       "power_source, measured, time_cost, energy_cost, total_cost, currency, tokens_trained, "
                       "tokens_generated, gpu_hours) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    bindEntry(st, e);
    st.exec();
    return m_db.lastInsertId();
}

void CostRepository::updateEntry(const CostEntryRecord &e)
{
    Statement st(m_db, "UPDATE cost_entries SET run_id = ?, job_id = ?, profile_name = ?, kind = ?, started_at = ?, "
                       "duration_s = ?, energy_j = ?, power_source = ?, measured = ?, time_cost = ?, energy_cost = ?, "
                       "total_cost = ?, currency = ?, tokens_trained = ?, tokens_generated = ?, gpu_hours = ? "
                       "WHERE id = ?");
    bindEntry(st, e);
    st.bind(17, e.id).exec();
}

std::vector<CostEntryRecord> CostRepository::entriesForRun(int64_t runId)
{
    Statement st(m_db, std::string("SELECT ") + kEntryColumns + " FROM cost_entries WHERE run_id = ? ORDER BY id");
    st.bind(1, runId);
    std::vector<CostEntryRecord> out;
    while (st.step())
        out.push_back(readEntry(st));
    return out;
}

double CostRepository::totalForRun(int64_t runId)
{
    Statement st(m_db, "SELECT COALESCE(SUM(total_cost), 0) FROM cost_entries WHERE run_id = ?");
    st.bind(1, runId);
    st.step();
    return st.columnDouble(0);
}

double CostRepository::totalBetween(double from, double to, int64_t except)
{
    Statement st(m_db, "SELECT COALESCE(SUM(total_cost), 0) FROM cost_entries WHERE started_at >= ? AND "
                       "started_at < ? AND id != ?");
    st.bind(1, from).bind(2, to).bind(3, except);
    st.step();
    return st.columnDouble(0);
}

std::vector<MonthSpend> CostRepository::monthlySpend()
{
    Statement st(m_db, "SELECT strftime('%Y-%m', started_at, 'unixepoch') AS month, SUM(total_cost), COUNT(*) "
                       "FROM cost_entries GROUP BY month ORDER BY month");
    std::vector<MonthSpend> out;
    while (st.step())
        out.push_back({st.columnText(0), st.columnDouble(1), st.columnInt(2)});
    return out;
}

void CostRepository::saveBudget(const BudgetRecord &b)
{
    if (b.scope != "run" && b.scope != "day" && b.scope != "month")
        fail("budget scope: unknown value '" + b.scope + "' (expected run, day or month)");
    Statement st(m_db, "INSERT INTO budgets (scope, warn_amount, limit_amount, currency) VALUES (?,?,?,?) "
                       "ON CONFLICT (scope) DO UPDATE SET warn_amount = excluded.warn_amount, "
                       "limit_amount = excluded.limit_amount, currency = excluded.currency");
    st.bind(1, b.scope).bind(2, b.warnAmount).bind(3, b.limitAmount).bind(4, b.currency).exec();
}

std::vector<BudgetRecord> CostRepository::budgets()
{
    Statement st(m_db, "SELECT scope, warn_amount, limit_amount, currency FROM budgets ORDER BY scope");
    std::vector<BudgetRecord> out;
    while (st.step())
        out.push_back({st.columnText(0), st.columnOptDouble(1), st.columnOptDouble(2), st.columnText(3)});
    return out;
}

} // namespace lathe::store
