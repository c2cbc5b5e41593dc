// The demo's fine-tune as a job of its own store (see Demo.h). The run spec is a plain
// spec file in the demo folder, so the same run can be repeated by hand with
// `lathe-cli train`.
#include "Demo.h"

#include "CliStore.h"
#include "CliTrain.h"
#include "core/Error.h"
#include "jobs/CostLedger.h"
#include "jobs/JobQueue.h"
#include "jobs/TrainRunner.h"
#include "store/StoreFile.h"
#include "train/spec/RunSpec.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <mutex>

namespace lathe::cli::demo {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using store::JobState;

const char *const kRunName = "demo-train"; // what `lathe-cli train demo-train.json` names it too
const char *const kProfileName = "This computer (CPU, energy only)";
constexpr double kKwhPrice = 0.30;

// What the model learns from: every line of the corpus is a record (ending in EOS),
// packed into rows of 128 tokens; 24 lines are held out for the validation loss.
// Tuned on this corpus: lr 3e-3 with a cosine decay reaches its lowest validation loss
// around 600 steps (~15 epochs); beyond that the model memorises the training lines.
json runSpec(const Setup &s)
{
    return {{"model", fs::path(s.model).filename().string()},
            {"mode", "full"},
            {"data", {{"path", "corpus.txt"}, {"format", "text"}, {"validation_count", 24}, {"seed", 1}}},
            {"optimizer", {{"lr", 3e-3}}},
            {"schedule",
             {{"kind", "cosine"}, {"warmup_steps", std::min<int64_t>(10, s.steps / 10)}, {"steps", s.steps}}},
            {"batch", {{"micro_batch", 8}, {"seq_len", 128}}},
            {"eval", {{"every", std::max<int64_t>(1, s.steps / 4)}}},
            {"checkpoint", {{"every", 0}, {"at_stop", true}}},
            {"seed", 1},
            {"threads", s.threads}};
}

// The demo charges its CPU run to a profile of its own: no purchase price, only the
// energy, measured (RAPL) when the system allows it and estimated at kCpuWatts otherwise.
cost::PriceProfile cpuProfile()
{
    cost::PriceProfile p;
    p.name = kProfileName;
    p.kind = cost::ProfileKind::Owned;
    p.kwhPrice = kKwhPrice;
    p.tdpWatts = kCpuWatts;
    p.note = "lathe-cli demo: electricity only, at 0.30 per kWh; CPU package power from RAPL when readable, "
             "else 65 W (estimate)";
    return p;
}

// The progress lines, written from the queue's worker thread; the main thread reads the
// result after the job has ended.
class Progress
{
public:
    explicit Progress(int64_t steps) : m_every(std::max<int64_t>(1, steps / 12)) {}

    void step(const TrainMetrics &m)
    {
        std::lock_guard lock(m_mutex);
        if (!m.trained) { // the evaluation of the untrained model
            m_summary.evalBefore = m.evalLoss;
            std::printf("  step %4d/%lld  validation loss %.3f (perplexity %.1f) before training\n", 0,
                        (long long)m.totalSteps, m.evalLoss, m.evalPerplexity);
            std::fflush(stdout);
            return;
        }
        const double seconds = m.tokensPerSecond > 0 ? double(m.tokens) / m.tokensPerSecond : 0.0;
        m_tokens += m.tokens;
        m_seconds += seconds;
        m_summary.stepSeconds += seconds;
        m_summary.tokens = m.tokensSeen;
        if (m.step % m_every != 0 && m.step != m.totalSteps && !m.evaluated)
            return;
        std::printf("  step %4lld/%lld  loss %.3f  %6.0f tok/s  %6.1f s", (long long)m.step, (long long)m.totalSteps,
                    m.loss, m_seconds > 0 ? double(m_tokens) / m_seconds : 0.0, m.elapsedSeconds);
        if (m.evaluated)
            std::printf("  validation loss %.3f", m.evalLoss);
        std::printf("\n");
        std::fflush(stdout);
        m_tokens = 0;
        m_seconds = 0;
    }

    void finished(const TrainResult &r)
    {
        std::lock_guard lock(m_mutex);
        m_summary.steps = r.steps;
        m_summary.evalAfter = r.lastEvalLoss;
        m_summary.seconds = r.seconds;
        m_summary.peak = r.peakMemory;
        m_summary.checkpoint = r.lastCheckpoint;
    }

    Summary summary()
    {
        std::lock_guard lock(m_mutex);
        return m_summary;
    }

private:
    std::mutex m_mutex;
    int64_t m_every;
    int64_t m_tokens = 0; // since the last line
    double m_seconds = 0; // step time since the last line (evaluations excluded)
    Summary m_summary;
};

// Runs job id of the store in this process until it ends; Ctrl-C cancels it.
store::JobRecord runJob(const Setup &setup, int64_t id, Progress &progress)
{
    jobs::JobQueueOptions o;
    o.storePath = setup.dbPath;
    o.onlyJobs = {id};
    o.cpuTdpWatts = kCpuWatts;
    jobs::TrainObserver observer;
    observer.step = [&](const TrainMetrics &m) { progress.step(m); };
    observer.finished = [&](const TrainResult &r) { progress.finished(r); };
    return runTrainJobInQueue(o, id, observer, "\ncancelling: the training stops after the current step\n");
}

} // namespace

Summary train(const Setup &setup)
{
    writeTextFile(setup.dir + "/corpus.txt", std::string(corpus()));
    const json spec = runSpec(setup);
    writeTextFile(setup.specPath, spec.dump(2) + "\n");
    RunSpec::fromFile(setup.specPath); // every check that needs no model, before anything is recorded

    json jobSpec = spec; // the spec file plus the queue's keys (see jobs/TrainRunner.h)
    jobSpec["spec_dir"] = setup.dir;
    jobSpec["price_profile"] = kProfileName;
    jobs::JobSpec job;
    job.kind = store::JobKind::Train;
    job.resource = store::JobResource::Cpu;
    job.name = kRunName;
    job.specJson = jobSpec.dump();
    int64_t id = 0, runId = 0;
    {
        jobs::JobQueueOptions o;
        o.storePath = setup.dbPath;
        jobs::JobQueue queue(o); // creates the store; the job is in it before it runs
        const auto db = store::openStore(setup.dbPath);
        jobs::CostLedger ledger(*db);
        if (!ledger.profile(kProfileName)) // an edited profile stays as the user left it
            ledger.saveProfile(cpuProfile());
        id = queue.submit(job);
        runId = queue.job(id)->runId.value_or(0);
    }
    std::printf("  job %lld (run %lld) recorded in %s; charged to the price profile \"%s\"\n", (long long)id,
                (long long)runId, setup.dbPath.c_str(), kProfileName);
    std::fflush(stdout);

    Progress progress(setup.steps);
    const store::JobRecord record = runJob(setup, id, progress);
    if (record.state == JobState::Failed)
        fail("the demo's training (job " + std::to_string(id) + ") failed: " + record.error.value_or("?"));
    if (record.state != JobState::Completed)
        fail("the demo's training (job " + std::to_string(id) + ") ended " + store::jobStateName(record.state) +
             " before its last step; run the demo again to train from the start");
    Summary s = progress.summary();
    s.jobId = id;
    s.runId = runId;
    if (s.checkpoint.empty() || !fs::exists(s.trainedModel()))
        fail("the demo's training saved no model (expected " + s.trainedModel() + ")");
    saveSummary(setup, s);
    return s;
}


} // namespace lathe::cli::demo
