// JobQueue: the persistent job queue. submit() writes the job (and its run) to the store
// before anything runs; a dispatcher thread starts queued jobs by priority, at most
// gpuSlots GPU jobs (1 by default) and cpuSlots CPU jobs at a time, each on its own
// worker thread with its own store connection. Cancel, pause and resume work from this
// process directly and from any other process through the store (a request column the
// worker polls), so `lathe-cli jobs cancel` reaches a job the GUI runs.
//
// Pause happens at the job's next checkpoint, asked by the user or by a budget hard
// limit that would be exceeded (the reason is recorded); a job paused for budget is
// queued again by itself once the limits allow it. On start, jobs left `running` by a
// process that no longer exists become `interrupted`; resume() continues them from their
// last checkpoint, with the metrics already stored kept as they are.
#pragma once

#include "cost/PowerSource.h"
#include "cost/PriceProfile.h"
#include "jobs/JobRunner.h"
#include "store/JobRepository.h"
#include "store/MetricWriter.h"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace lathe::jobs {

struct JobSpec
{
    store::JobKind kind = store::JobKind::Train;
    std::string name;          // the run's name; empty gives "<kind> #<job id>"
    std::string specJson = "{}"; // for the runner; "price_profile" picks the profile charged
    int priority = 0;
    std::optional<store::JobResource> resource; // default: CPU for prepare_dataset, else GPU
    std::optional<int64_t> baseModelId, datasetId, resumedFrom; // the run's lineage
};

struct JobEvent
{
    enum class Type { State, Progress, Metric, Warning };
    Type type = Type::State;
    int64_t jobId = 0;
    store::JobState state = store::JobState::Queued; // State
    double progress = 0;                             // Progress
    std::string message;                             // Progress, Warning, State (reason)
    store::MetricRow metric;                         // Metric
};

struct JobQueueOptions
{
    std::string storePath;
    int gpuSlots = 1;
    int cpuSlots = 2;
    std::string workRoot; // run folders (checkpoints); default: "runs" beside the store
    std::chrono::milliseconds pollInterval{250}; // store polls: requests, budgets, queue
    std::chrono::milliseconds energyInterval{1000};
    store::MetricWriterOptions metrics;
    // The power source of a job; default: openPowerSource (NVML or TDP for GPU jobs,
    // RAPL or cpuTdpWatts for CPU jobs).
    std::function<std::unique_ptr<cost::PowerSource>(const store::JobRecord &,
                                                     const std::optional<cost::PriceProfile> &)>
        powerSource;
    double cpuTdpWatts = 65; // stated estimate for a CPU package without RAPL
    // Called from worker and caller threads; must be thread-safe and quick.
    std::function<void(const JobEvent &)> listener;
    std::vector<int64_t> onlyJobs; // non-empty: run only these jobs (lathe-cli jobs resume --run)
    bool seedExampleProfiles = true;
};

class JobQueue
{
public:
    // Opens the store (checked and migrated) and seeds the example price profiles.
    explicit JobQueue(JobQueueOptions options);
    ~JobQueue(); // shutdown()
    JobQueue(const JobQueue &) = delete;
    JobQueue &operator=(const JobQueue &) = delete;

    // Before start(). Jobs of kinds without a runner stay queued (for another process).
    void registerRunner(store::JobKind kind, std::shared_ptr<JobRunner> runner);
    // Marks jobs left running by dead processes interrupted; returns their ids. start()
    // calls it, and the dispatcher repeats it every few seconds.
    std::vector<int64_t> recoverInterrupted();
    void start();
    // Stops dispatching; running jobs are told to stop (keepGoing() false) and end as
    // interrupted, resumable from their last checkpoint; queued jobs stay queued.
    void shutdown();

    int64_t submit(const JobSpec &spec);
    store::JobState cancel(int64_t id);
    bool pause(int64_t id);  // at the next checkpoint; false if not running
    bool resume(int64_t id); // paused, interrupted or a cancelled train job -> queued
    void budgetsChanged();   // re-check budget-paused jobs now

    std::optional<store::JobRecord> job(int64_t id);
    // Blocks until the job is in one of states (or timeout); returns the last state seen.
    store::JobState waitFor(int64_t id, const std::vector<store::JobState> &states,
                            std::chrono::milliseconds timeout);

    struct Active; // a running job's control block (JobQueue.cpp)

private:
    void dispatchLoop();
    void dispatchOnce();
    void resumeBudgetPaused();
    void startJob(const store::JobRecord &job);
    void reapFinished();
    void publish(const JobEvent &event) const;

    JobQueueOptions m_options;
    std::unique_ptr<store::Connection> m_db; // dispatcher and API calls, under m_dbMutex
    std::mutex m_dbMutex;
    std::unique_ptr<store::MetricWriter> m_metrics;
    std::map<store::JobKind, std::shared_ptr<JobRunner>> m_runners;
    std::mutex m_mutex; // m_active, m_stopping, m_wakeRequested
    std::condition_variable m_wake;
    std::map<int64_t, std::shared_ptr<Active>> m_active;
    bool m_stopping = false, m_started = false, m_budgetsChanged = false;
    std::thread m_dispatcher;
    std::chrono::steady_clock::time_point m_lastRecovery, m_lastBudgetCheck;
};

} // namespace lathe::jobs
