// Run history queries (see RunRepository.h).
#include "store/RunRepository.h"

namespace lathe::store {

const char *const kRunColumns =
    "runs.id, runs.name, runs.kind, runs.status, runs.spec_json, runs.base_model_id, runs.dataset_id, "
    "runs.resumed_from, runs.adapter_path, runs.created_at, runs.started_at, runs.finished_at, "
    "runs.final_metrics_json, runs.error, runs.tokens_trained, runs.tokens_generated, runs.flops, "
    "runs.peak_vram_bytes";

RunRecord readRun(const Statement &st, int i)
{
    RunRecord r;
    r.id = st.columnInt(i++);
    r.name = st.columnText(i++);
    r.kind = st.columnText(i++);
    r.status = st.columnText(i++);
    r.specJson = st.columnText(i++);
    r.baseModelId = st.columnOptInt(i++);
    r.datasetId = st.columnOptInt(i++);
    r.resumedFrom = st.columnOptInt(i++);
    r.adapterPath = st.columnOptText(i++);
    r.createdAt = st.columnDouble(i++);
    r.startedAt = st.columnOptDouble(i++);
    r.finishedAt = st.columnOptDouble(i++);
    r.finalMetricsJson = st.columnText(i++);
    r.error = st.columnOptText(i++);
    r.tokensTrained = st.columnInt(i++);
    r.tokensGenerated = st.columnInt(i++);
    r.flops = st.columnDouble(i++);
    r.peakVramBytes = st.columnOptInt(i++);
    return r;
}

int64_t RunRepository::create(RunRecord run)
{
    Statement st(m_db, "INSERT INTO runs (name, kind, status, spec_json, base_model_id, dataset_id, resumed_from, "
                       "adapter_path, created_at, final_metrics_json) VALUES (?,?,?,?,?,?,?,?,?,?)");
    st.bind(1, run.name).bind(2, run.kind).bind(3, run.status.empty() ? std::string("created") : run.status);
    st.bind(4, run.specJson).bind(5, run.baseModelId).bind(6, run.datasetId).bind(7, run.resumedFrom);
    st.bind(8, run.adapterPath).bind(9, run.createdAt > 0 ? run.createdAt : nowSeconds());
    st.bind(10, run.finalMetricsJson);
    st.exec();
    return m_db.lastInsertId();
}

std::optional<RunRecord> RunRepository::find(int64_t id)
{
    Statement st(m_db, std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?");
    st.bind(1, id);
    if (!st.step())
        return std::nullopt;
    return readRun(st);
}

std::vector<RunSummary> RunRepository::list(int limit, const std::string &status)
{
    // The latest loss comes from the metrics primary key (run_id, name, step): one index
    // probe per run, so the list stays fast however long the runs are.
    Statement st(m_db, std::string("SELECT ") + kRunColumns +
                           ", (SELECT value FROM metrics m WHERE m.run_id = runs.id AND m.name = 'loss' "
                           "ORDER BY step DESC LIMIT 1), "
                           "(SELECT MAX(step) FROM metrics m WHERE m.run_id = runs.id AND m.name = 'loss'), "
                           "(SELECT COALESCE(SUM(total_cost), 0) FROM cost_entries c WHERE c.run_id = runs.id) "
                           "FROM runs WHERE (?1 = '' OR status = ?1) ORDER BY created_at DESC, id DESC LIMIT ?2");
    st.bind(1, status).bind(2, int64_t(limit));
    std::vector<RunSummary> out;
    while (st.step()) {
        RunSummary s;
        s.run = readRun(st);
        s.lastLoss = st.columnOptDouble(18);
        s.lastStep = st.columnInt(19);
        s.totalCost = st.columnDouble(20);
        out.push_back(std::move(s));
    }
    return out;
}

void RunRepository::setStatus(int64_t id, const std::string &status, const std::optional<std::string> &error)
{
    Statement st(m_db, "UPDATE runs SET status = ?, error = COALESCE(?, error) WHERE id = ?");
    st.bind(1, status).bind(2, error).bind(3, id).exec();
}

void RunRepository::markStarted(int64_t id)
{
    Statement st(m_db, "UPDATE runs SET status = 'running', started_at = COALESCE(started_at, ?) WHERE id = ?");
    st.bind(1, nowSeconds()).bind(2, id).exec();
}

void RunRepository::markFinished(int64_t id, const std::string &status, const std::string &finalMetricsJson,
                                 const std::optional<std::string> &error)
{
    Statement st(m_db, "UPDATE runs SET status = ?, finished_at = ?, final_metrics_json = ?, error = ? WHERE id = ?");
    st.bind(1, status).bind(2, nowSeconds()).bind(3, finalMetricsJson).bind(4, error).bind(5, id).exec();
}

void RunRepository::setTotals(int64_t id, int64_t tokensTrained, int64_t tokensGenerated, double flops,
                              std::optional<int64_t> peakVramBytes)
{
    Statement st(m_db, "UPDATE runs SET tokens_trained = ?, tokens_generated = ?, flops = ?, "
                       "peak_vram_bytes = COALESCE(?, peak_vram_bytes) WHERE id = ?");
    st.bind(1, tokensTrained).bind(2, tokensGenerated).bind(3, flops).bind(4, peakVramBytes).bind(5, id).exec();
}

void RunRepository::insertMetrics(const std::vector<MetricRow> &rows)
{
    Statement st(m_db, "INSERT INTO metrics (run_id, name, step, value, wall_time) VALUES (?,?,?,?,?) "
                       "ON CONFLICT (run_id, name, step) DO NOTHING");
    for (const MetricRow &r : rows) {
        st.bind(1, r.runId).bind(2, r.name).bind(3, r.step).bind(4, r.value).bind(5, r.wallTime);
        st.exec();
        st.reset();
    }
}

std::vector<MetricRow> RunRepository::metrics(int64_t runId, const std::string &name)
{
    Statement st(m_db, "SELECT step, value, wall_time FROM metrics WHERE run_id = ? AND name = ? ORDER BY step");
    st.bind(1, runId).bind(2, name);
    std::vector<MetricRow> out;
    while (st.step())
        out.push_back({runId, st.columnInt(0), name, st.columnDouble(1), st.columnDouble(2)});
    return out;
}

std::vector<std::string> RunRepository::metricNames(int64_t runId)
{
    Statement st(m_db, "SELECT DISTINCT name FROM metrics WHERE run_id = ? ORDER BY name");
    st.bind(1, runId);
    std::vector<std::string> out;
    while (st.step())
        out.push_back(st.columnText(0));
    return out;
}

int64_t RunRepository::metricCount(int64_t runId)
{
    Statement st(m_db, "SELECT COUNT(*) FROM metrics WHERE run_id = ?");
    st.bind(1, runId);
    st.step();
    return st.columnInt(0);
}

void RunRepository::addCheckpoint(const CheckpointRecord &c)
{
    Statement st(m_db, "INSERT INTO checkpoints (run_id, step, path, bytes, created_at) VALUES (?,?,?,?,?) "
                       "ON CONFLICT (run_id, step) DO UPDATE SET path = excluded.path, bytes = excluded.bytes, "
                       "created_at = excluded.created_at");
    st.bind(1, c.runId).bind(2, c.step).bind(3, c.path).bind(4, c.bytes);
    st.bind(5, c.createdAt > 0 ? c.createdAt : nowSeconds());
    st.exec();
}

namespace {

CheckpointRecord readCheckpoint(const Statement &st)
{
    return {st.columnInt(0), st.columnInt(1), st.columnInt(2), st.columnText(3), st.columnOptInt(4),
            st.columnDouble(5)};
}

} // namespace

bool RunRepository::removeCheckpoint(int64_t runId, const std::string &path)
{
    Statement st(m_db, "DELETE FROM checkpoints WHERE run_id = ? AND path = ?");
    st.bind(1, runId).bind(2, path).exec();
    return m_db.changes() > 0;
}

std::optional<int64_t> RunRepository::runOfCheckpoint(const std::string &path)
{
    Statement st(m_db, "SELECT run_id FROM checkpoints WHERE path = ? ORDER BY id DESC LIMIT 1");
    st.bind(1, path);
    if (!st.step())
        return std::nullopt;
    return st.columnInt(0);
}

std::optional<CheckpointRecord> RunRepository::latestCheckpoint(int64_t runId)
{
    Statement st(m_db, "SELECT id, run_id, step, path, bytes, created_at FROM checkpoints WHERE run_id = ? "
                       "ORDER BY step DESC LIMIT 1");
    st.bind(1, runId);
    if (!st.step())
        return std::nullopt;
    return readCheckpoint(st);
}

std::vector<CheckpointRecord> RunRepository::checkpoints(int64_t runId)
{
    Statement st(m_db, "SELECT id, run_id, step, path, bytes, created_at FROM checkpoints WHERE run_id = ? "
                       "ORDER BY step");
    st.bind(1, runId);
    std::vector<CheckpointRecord> out;
    while (st.step())
        out.push_back(readCheckpoint(st));
    return out;
}

} // namespace lathe::store
