// JobWorker: one attempt of one job on a worker thread — the glue between the queue's
// bookkeeping (job and run rows, checkpoints, cost entry, budgets) and a JobRunner.
// Internal to engine/jobs: JobQueue starts it, and the control block below is how the
// queue (and the store's request column) reach a running job.
#pragma once

#include "jobs/JobQueue.h"

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

namespace lathe::jobs {

struct JobQueue::Active
{
    int64_t jobId = 0;
    store::JobResource resource = store::JobResource::Gpu;
    std::atomic<bool> cancel{false}, pause{false}, shutdown{false}, done{false};
    std::thread thread;

    // The first reason wins: a user's pause is not renamed by a later budget pause.
    void requestPause(const std::string &reason)
    {
        std::lock_guard lock(m_mutex);
        if (!pause.load()) {
            m_reason = reason;
            pause = true;
        }
    }
    std::string pauseReason() const
    {
        std::lock_guard lock(m_mutex);
        return m_reason;
    }

private:
    mutable std::mutex m_mutex;
    std::string m_reason;
};

struct WorkerParams
{
    const JobQueueOptions *options = nullptr;
    store::MetricWriter *metrics = nullptr;
    std::shared_ptr<JobRunner> runner;
    std::shared_ptr<JobQueue::Active> active;
    store::JobRecord job; // as claimed (state running)
    std::function<void(const JobEvent &)> publish;
    std::function<void()> finished; // called last, after done is set
};

// Runs the attempt to its end and records the outcome (completed, failed, cancelled,
// paused with its reason, or interrupted by shutdown). Never throws: a failure to
// record is logged to stderr, and the job is found running by the next start-up check.
void runJobAttempt(const WorkerParams &params);

} // namespace lathe::jobs
