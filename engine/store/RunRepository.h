// RunRepository: run history — one row per training/evaluation/generation run with its
// spec, status, timings, final metrics and lineage, its per-step metrics and its
// checkpoints. Metric rows are immutable once committed: writing a (run, name, step)
// that exists keeps the stored value (a resumed run replays the steps after its last
// checkpoint; the committed rows stand, see MetricWriter).
#pragma once

#include "store/Sqlite.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lathe::store {

struct RunRecord
{
    int64_t id = 0;
    std::string name;
    std::string kind;   // train, evaluate, generate, quantize, prepare
    std::string status; // created, running, paused, completed, failed, cancelled, interrupted
    std::string specJson = "{}";
    std::optional<int64_t> baseModelId, datasetId, resumedFrom;
    std::optional<std::string> adapterPath;
    double createdAt = 0;
    std::optional<double> startedAt, finishedAt;
    std::string finalMetricsJson = "{}";
    std::optional<std::string> error;
    int64_t tokensTrained = 0, tokensGenerated = 0;
    double flops = 0;
    std::optional<int64_t> peakVramBytes;
};

struct MetricRow
{
    int64_t runId = 0;
    int64_t step = 0;
    std::string name; // "loss", "lr", "grad_norm", "tokens_per_s", "vram_bytes", "watts", ...
    double value = 0;
    double wallTime = 0; // Unix seconds
};

struct CheckpointRecord
{
    int64_t id = 0;
    int64_t runId = 0;
    int64_t step = 0;
    std::string path;
    std::optional<int64_t> bytes;
    double createdAt = 0;
};

// A row of the run list: the run and its latest value of each summary metric.
struct RunSummary
{
    RunRecord run;
    std::optional<double> lastLoss;
    int64_t lastStep = 0;
    double totalCost = 0; // from the cost ledger (0 when nothing recorded)
};

class RunRepository
{
public:
    explicit RunRepository(Connection &connection) : m_db(connection) {}

    // Inserts run (id ignored; createdAt 0 means now) and returns its id.
    int64_t create(RunRecord run);
    std::optional<RunRecord> find(int64_t id);
    // Newest first. status empty: any status.
    std::vector<RunSummary> list(int limit = 100, const std::string &status = {});

    void setStatus(int64_t id, const std::string &status, const std::optional<std::string> &error = {});
    void markStarted(int64_t id);
    void markFinished(int64_t id, const std::string &status, const std::string &finalMetricsJson,
                      const std::optional<std::string> &error = {});
    void setTotals(int64_t id, int64_t tokensTrained, int64_t tokensGenerated, double flops,
                   std::optional<int64_t> peakVramBytes);

    // Inserts rows in the caller's transaction (or autocommit); existing keys are kept.
    void insertMetrics(const std::vector<MetricRow> &rows);
    // One metric's rows of a run in step order.
    std::vector<MetricRow> metrics(int64_t runId, const std::string &name);
    std::vector<std::string> metricNames(int64_t runId);
    int64_t metricCount(int64_t runId);

    // Records a checkpoint (a step recorded twice keeps one row, the newer path).
    void addCheckpoint(const CheckpointRecord &checkpoint);
    // Forgets a checkpoint whose folder was deleted (retention); false if none matched.
    // Rows are removed rather than marked: a row means "this folder exists and can be
    // resumed from or exported", which every reader relies on.
    bool removeCheckpoint(int64_t runId, const std::string &path);
    std::optional<CheckpointRecord> latestCheckpoint(int64_t runId);
    // The run that recorded the checkpoint at path (compared as written), if any.
    std::optional<int64_t> runOfCheckpoint(const std::string &path);
    std::vector<CheckpointRecord> checkpoints(int64_t runId);

private:
    Connection &m_db;
};

RunRecord readRun(const Statement &st, int first = 0); // columns in kRunColumns order
extern const char *const kRunColumns;

} // namespace lathe::store
