// What `lathe-cli train` and `lathe-cli jobs submit|resume --run` share for training:
// the progress lines (a header, one line per step, a summary), Ctrl-C as "cancel at the
// next step", and running one train job of the store in this process through the job
// queue, as the GUI does, so both record the same rows.
#pragma once

#include "jobs/JobQueue.h"
#include "jobs/TrainRunner.h"
#include "store/JobRepository.h"
#include "train/loop/Trainer.h"

#include <cstdint>
#include <string>

namespace lathe::cli {

void printTrainHeader(const Trainer &trainer, int64_t resumedAt);
// Prints m when it is due: every logEvery-th step, the last one, evaluations and saves.
void printTrainStep(const TrainMetrics &m, int64_t logEvery);
void printTrainResult(const TrainResult &r);

// While alive, the first Ctrl-C sets interrupted() instead of killing the process; the
// handler then reverts to the default, so a second Ctrl-C kills (a job left running by a
// killed process becomes interrupted, resumable, at the next start of a queue).
class InterruptGuard
{
public:
    InterruptGuard();
    ~InterruptGuard();
    InterruptGuard(const InterruptGuard &) = delete;
    InterruptGuard &operator=(const InterruptGuard &) = delete;
    static bool interrupted();
};

// Exit codes of a training command: 0 completed, 130 cancelled (Ctrl-C or `jobs cancel`),
// 3 paused (a budget limit or `jobs pause`; `jobs resume` continues it) or interrupted.
constexpr int kExitCancelled = 130;
constexpr int kExitPaused = 3;

// Runs train job jobId of the store at dbPath in this process (it must be queued) until
// it completes, fails, is cancelled or pauses, printing the progress lines, then the run
// id, its cost card and how to look at it. Ctrl-C cancels it at the next step with a
// checkpoint. Returns the exit code above; throws Error with the job's error when it failed.
int runTrainJobHere(const std::string &dbPath, int64_t jobId, int64_t logEvery);

// The queue loop under runTrainJobHere and the demo: runs train job jobId of the store at
// o.storePath in this process through a JobQueue built from o, with a TrainRunner
// reporting to observer, until the job completes, fails, is cancelled, pauses or is
// interrupted. The first Ctrl-C cancels it (it stops after the current step) and prints
// cancelMessage to stdout once. Returns the job's record after the queue has shut down;
// throws Error when the store has no such job.
store::JobRecord runTrainJobInQueue(const jobs::JobQueueOptions &o, int64_t jobId, const jobs::TrainObserver &observer,
                                    const std::string &cancelMessage);

} // namespace lathe::cli
