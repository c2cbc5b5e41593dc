// Running one train job of the store in this process (see CliTrain.h).
#include "CliTrain.h"

#include "core/Error.h"
#include "cost/Reports.h"
#include "jobs/CostLedger.h"
#include "jobs/JobQueue.h"
#include "jobs/TrainRunner.h"
#include "store/StoreFile.h"

#include <algorithm>
#include <cstdio>

namespace lathe::cli {

namespace {

using store::JobState;

// " --db PATH" when path is not the default store, so a printed command works as shown.
std::string dbArgument(const std::string &path)
{
    if (path == store::defaultStorePath())
        return {};
    if (path.find_first_of(" \t'\"\\$`") == std::string::npos)
        return " --db " + path;
    std::string quoted = "'";
    for (char c : path)
        quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return " --db " + quoted + "'";
}

void printOutcome(const std::string &dbPath, const store::JobRecord &job)
{
    const std::string db = dbArgument(dbPath);
    const long long id = (long long)job.id;
    if (!job.runId)
        return;
    const long long run = (long long)*job.runId;
    std::printf("\nrun %lld (job %lld): %s\n", run, id, store::jobStateName(job.state));
    auto conn = store::openStore(dbPath);
    std::fputs(cost::formatCostCard(jobs::CostLedger(*conn).costCard(*job.runId)).c_str(), stdout);
    std::printf("see it with: lathe-cli runs show %lld%s\n", run, db.c_str());
    if (job.state == JobState::Cancelled || job.state == JobState::Paused || job.state == JobState::Interrupted) {
        if (job.pauseReason)
            std::printf("paused: %s\n", job.pauseReason->c_str());
        std::printf("continue it with: lathe-cli jobs resume %lld --run%s\n", id, db.c_str());
    }
    std::fflush(stdout);
}

} // namespace

store::JobRecord runTrainJobInQueue(const jobs::JobQueueOptions &o, int64_t jobId, const jobs::TrainObserver &observer,
                                    const std::string &cancelMessage)
{
    const std::vector<JobState> ends{JobState::Completed, JobState::Failed, JobState::Cancelled, JobState::Paused,
                                     JobState::Interrupted};
    std::optional<store::JobRecord> job;
    {
        jobs::JobQueue queue(o);
        queue.registerRunner(store::JobKind::Train, std::make_shared<jobs::TrainRunner>(observer));
        InterruptGuard guard;
        queue.start();
        bool cancelAsked = false;
        for (;;) {
            const JobState s = queue.waitFor(jobId, ends, std::chrono::milliseconds(100));
            if (std::find(ends.begin(), ends.end(), s) != ends.end())
                break;
            if (!cancelAsked && InterruptGuard::interrupted()) {
                cancelAsked = true;
                queue.cancel(jobId);
                std::fputs(cancelMessage.c_str(), stdout);
                std::fflush(stdout);
            }
        }
        queue.shutdown();
        job = queue.job(jobId);
    }
    if (!job)
        fail("job " + std::to_string(jobId) + ": no such job in " + o.storePath);
    return *job;
}

int runTrainJobHere(const std::string &dbPath, int64_t jobId, int64_t logEvery)
{
    jobs::JobQueueOptions o;
    o.storePath = dbPath;
    o.onlyJobs = {jobId};
    o.listener = [jobId](const jobs::JobEvent &e) {
        if (e.jobId == jobId && e.type == jobs::JobEvent::Type::Warning) {
            std::printf("warning: %s\n", e.message.c_str());
            std::fflush(stdout);
        }
    };
    jobs::TrainObserver observer;
    observer.started = [](const Trainer &trainer, int64_t resumedAt) { printTrainHeader(trainer, resumedAt); };
    observer.step = [logEvery](const TrainMetrics &m) { printTrainStep(m, logEvery); };
    observer.finished = [](const TrainResult &r) { printTrainResult(r); };

    const std::string cancelMessage = "\ncancelling job " + std::to_string(jobId) +
                                      ": it stops after the current step with a checkpoint "
                                      "(Ctrl-C again kills it)\n";
    const store::JobRecord job = runTrainJobInQueue(o, jobId, observer, cancelMessage);
    if (job.state == JobState::Failed) {
        if (job.runId)
            std::printf("\nrun %lld (job %lld): failed\n", (long long)*job.runId, (long long)jobId);
        fail(job.error.value_or("job " + std::to_string(jobId) + " failed"));
    }
    printOutcome(dbPath, job);
    switch (job.state) {
    case JobState::Completed: return 0;
    case JobState::Cancelled: return kExitCancelled;
    default: return kExitPaused;
    }
}

} // namespace lathe::cli
