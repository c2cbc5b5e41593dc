// One attempt of one job (see JobWorker.h).
#include "jobs/JobWorker.h"

#include "jobs/CostLedger.h"
#include "jobs/CostTracker.h"
#include "store/StoreFile.h"

#include <cstdio>
#include <filesystem>

namespace lathe::jobs {

namespace {

using Clock = std::chrono::steady_clock;

std::unique_ptr<cost::PowerSource> defaultPower(const JobQueueOptions &o, const store::JobRecord &job,
                                                const std::optional<cost::PriceProfile> &profile)
{
    cost::PowerSourceOptions po;
    po.target = job.resource == store::JobResource::Gpu ? cost::PowerTarget::Gpu : cost::PowerTarget::Cpu;
    po.tdpWatts = po.target == cost::PowerTarget::Gpu ? (profile ? profile->tdpWatts : 0.0) : o.cpuTdpWatts;
    return cost::openPowerSource(po);
}

class Context : public JobContext
{
public:
    Context(const WorkerParams &p, store::Connection &db, int64_t runId, std::string workDir, CostTracker &tracker)
        : m_p(p), m_jobs(db), m_runs(db), m_ledger(db), m_runId(runId), m_workDir(std::move(workDir)),
          m_tracker(tracker), m_lastPoll(Clock::now())
    {
        m_resume = m_runs.latestCheckpoint(runId);
        if (const auto run = m_runs.find(runId)) {
            m_startTrained = m_tokensTrained = run->tokensTrained;
            m_startGenerated = m_tokensGenerated = run->tokensGenerated;
            m_flops = run->flops;
            m_peakVram = run->peakVramBytes;
        }
    }

    const store::JobRecord &job() const override { return m_p.job; }
    int64_t runId() const override { return m_runId; }
    std::string workDir() const override { return m_workDir; }
    std::optional<store::CheckpointRecord> resumeFrom() const override { return m_resume; }

    bool keepGoing() override
    {
        if (stopNow())
            return false;
        if (Clock::now() - m_lastPoll >= m_p.options->pollInterval) {
            m_lastPoll = Clock::now();
            poll(0.0);
        }
        return !stopNow();
    }

    bool pauseRequested() const override { return m_p.active->pause.load(); }

    bool checkpointSaved(int64_t step, const std::string &path, std::optional<int64_t> bytes) override
    {
        // Metrics up to this step are committed before the checkpoint is recorded, so a
        // resume from it never leaves a gap in the curve.
        m_p.metrics->flush();
        m_runs.addCheckpoint({0, m_runId, step, path, bytes, 0});
        m_resume = store::CheckpointRecord{0, m_runId, step, path, bytes, store::nowSeconds()};
        m_runs.setTotals(m_runId, m_tokensTrained, m_tokensGenerated, m_flops, m_peakVram);
        m_tracker.setTokens(m_tokensTrained - m_startTrained, m_tokensGenerated - m_startGenerated);
        m_tracker.persist(true);
        const double live = m_tracker.current().total;
        const double stretch = m_haveCheckpointCost ? live - m_costAtCheckpoint : 0.0;
        m_costAtCheckpoint = live;
        m_haveCheckpointCost = true;
        m_lastPoll = Clock::now();
        poll(stretch);
        return !stopNow() && !m_p.active->pause.load();
    }

    void checkpointRemoved(const std::string &path) override
    {
        m_runs.removeCheckpoint(m_runId, path);
        if (m_resume && m_resume->path == path)
            m_resume = m_runs.latestCheckpoint(m_runId);
    }

    void metric(int64_t step, const std::string &name, double value) override
    {
        store::MetricRow row{m_runId, step, name, value, store::nowSeconds()};
        if (m_p.publish) {
            JobEvent e;
            e.type = JobEvent::Type::Metric;
            e.jobId = m_p.job.id;
            e.metric = row;
            m_p.publish(e);
        }
        m_p.metrics->append(std::move(row));
    }

    void progress(double fraction, const std::string &message) override
    {
        m_progress = std::clamp(fraction, 0.0, 1.0);
        m_message = message;
        if (m_p.publish) {
            JobEvent e;
            e.type = JobEvent::Type::Progress;
            e.jobId = m_p.job.id;
            e.progress = m_progress;
            e.message = message;
            m_p.publish(e);
        }
    }

    void totals(int64_t tokensTrained, int64_t tokensGenerated, double flops,
                std::optional<int64_t> peakVramBytes) override
    {
        m_tokensTrained = tokensTrained;
        m_tokensGenerated = tokensGenerated;
        m_flops = flops;
        if (peakVramBytes)
            m_peakVram = std::max(m_peakVram.value_or(0), *peakVramBytes);
    }

    void finalMetrics(const std::string &json) override { m_finalMetrics = json; }

    // Called once the runner returned.
    void writeTotals()
    {
        m_runs.setTotals(m_runId, m_tokensTrained, m_tokensGenerated, m_flops, m_peakVram);
        m_tracker.setTokens(m_tokensTrained - m_startTrained, m_tokensGenerated - m_startGenerated);
    }
    const std::string &finalMetricsJson() const { return m_finalMetrics; }

private:
    bool stopNow() const { return m_p.active->cancel.load() || m_p.active->shutdown.load(); }

    // Requests from other processes, progress, the cost entry and the budgets.
    void poll(double nextStretch)
    {
        const int64_t id = m_p.job.id;
        if (const auto request = m_jobs.pendingRequest(id)) {
            if (*request == "cancel")
                m_p.active->cancel = true;
            else if (*request == "pause")
                m_p.active->requestPause("paused by the user");
        }
        m_jobs.setProgress(id, m_progress, m_message);
        m_tracker.setTokens(m_tokensTrained - m_startTrained, m_tokensGenerated - m_startGenerated);
        m_tracker.persist();
        const cost::BudgetCheck worst = cost::worst(
            m_ledger.check(m_runId, m_tracker.entryId(), m_tracker.current().total, nextStretch, store::nowSeconds()));
        if (worst.level == cost::BudgetLevel::Exceeded) {
            m_p.active->requestPause(worst.message); // takes effect at the next checkpoint
        } else if (worst.level == cost::BudgetLevel::Warn && !m_warned && m_p.publish) {
            m_warned = true;
            JobEvent e;
            e.type = JobEvent::Type::Warning;
            e.jobId = id;
            e.message = worst.message;
            m_p.publish(e);
        }
    }

    const WorkerParams &m_p;
    store::JobRepository m_jobs;
    store::RunRepository m_runs;
    CostLedger m_ledger;
    int64_t m_runId;
    std::string m_workDir;
    CostTracker &m_tracker;
    Clock::time_point m_lastPoll;
    std::optional<store::CheckpointRecord> m_resume;
    int64_t m_startTrained = 0, m_startGenerated = 0, m_tokensTrained = 0, m_tokensGenerated = 0;
    double m_flops = 0;
    std::optional<int64_t> m_peakVram;
    double m_progress = 0, m_costAtCheckpoint = 0;
    bool m_haveCheckpointCost = false, m_warned = false;
    std::string m_message, m_finalMetrics = "{}";
};

void publishState(const WorkerParams &p, store::JobState state, const std::string &message)
{
    if (!p.publish)
        return;
    JobEvent e;
    e.type = JobEvent::Type::State;
    e.jobId = p.job.id;
    e.state = state;
    e.message = message;
    p.publish(e);
}

void attempt(const WorkerParams &p, store::Connection &db)
{
    const store::JobRecord &job = p.job;
    store::JobRepository jobs(db);
    store::RunRepository runs(db);
    if (!job.runId)
        fail("job " + std::to_string(job.id) + " has no run");
    const int64_t runId = *job.runId;
    const std::filesystem::path dir = std::filesystem::path(p.options->workRoot) / ("run-" + std::to_string(runId));
    std::filesystem::create_directories(dir);
    runs.markStarted(runId);
    publishState(p, store::JobState::Running, {});

    std::optional<std::string> error;
    store::JobState outcome = store::JobState::Failed;
    std::string reason;
    std::string finalMetrics = "{}";
    {
        std::optional<cost::PriceProfile> profile = CostLedger(db).profileForJob(job);
        std::unique_ptr<cost::PowerSource> power = p.options->powerSource ? p.options->powerSource(job, profile)
                                                                          : defaultPower(*p.options, job, profile);
        CostTracker tracker(db, job, runId, profile, std::move(power), p.options->energyInterval);
        Context context(p, db, runId, dir.string(), tracker);
        try {
            const RunResult r = p.runner->run(context);
            if (r == RunResult::Completed)
                outcome = store::JobState::Completed;
            else if (p.active->cancel.load())
                outcome = store::JobState::Cancelled;
            else if (p.active->pause.load()) {
                outcome = store::JobState::Paused;
                reason = p.active->pauseReason();
            } else if (p.active->shutdown.load()) {
                outcome = store::JobState::Interrupted;
                reason = "the job queue shut down";
            } else {
                outcome = store::JobState::Paused;
                reason = "the runner stopped before the end";
            }
        } catch (const std::exception &e) {
            error = e.what();
        }
        context.writeTotals();
        finalMetrics = context.finalMetricsJson();
        p.metrics->flush();
        tracker.finish();
    }
    const std::string stateName = store::jobStateName(outcome);
    if (outcome == store::JobState::Completed || outcome == store::JobState::Failed ||
        outcome == store::JobState::Cancelled)
        runs.markFinished(runId, stateName, finalMetrics, error);
    else
        runs.setStatus(runId, stateName);
    jobs.finishAttempt(job.id, outcome, error,
                       outcome == store::JobState::Paused ? std::optional<std::string>(reason) : std::nullopt);
    publishState(p, outcome, error ? *error : reason);
}

} // namespace

void runJobAttempt(const WorkerParams &p)
{
    try {
        store::StoreOptions so;
        so.create = false;
        std::unique_ptr<store::Connection> db = store::openStore(p.options->storePath, so);
        try {
            attempt(p, *db);
        } catch (const std::exception &e) {
            // Bookkeeping itself failed (disk full, store gone): record what we can.
            store::JobRepository(*db).finishAttempt(p.job.id, store::JobState::Failed, std::string(e.what()));
            if (p.job.runId)
                store::RunRepository(*db).markFinished(*p.job.runId, "failed", "{}", std::string(e.what()));
            publishState(p, store::JobState::Failed, e.what());
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "lathe: job %lld: %s\n", (long long)p.job.id, e.what());
    }
    p.active->done = true;
    if (p.finished)
        p.finished();
}

} // namespace lathe::jobs
