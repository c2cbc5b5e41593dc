// TrainRunner: runs a train job with the Trainer (engine/train). The job's spec is a
// run spec (train/spec/RunSpec.h) plus keys of the queue's own, removed before the run
// spec is read: "price_profile" (the profile charged), "spec_dir" (the folder relative
// paths in the spec are resolved against) and "resume_from" (a checkpoint folder, or a
// run folder, to start from when the run has no checkpoint of its own yet: `lathe-cli
// train --resume`). Without a checkpoint dir the run's folder is used, so every train
// job can pause and resume.
//
// Per optimiser step it records loss, lr, grad_norm, tokens_per_s and memory_bytes (and
// eval_loss / eval_perplexity when evaluated); checkpoints the trainer saves are
// recorded and are where a pause (user or budget) takes effect, and those it deletes
// under checkpoint.keep are forgotten. A run spec without periodic checkpoints pauses at
// once, through the trainer's checkpoint at stop.
//
// A spec with "simulated": true runs SimulatedTrainRunner instead (a queue demo that
// needs no model).
#pragma once

#include "jobs/JobRunner.h"
#include "train/loop/Trainer.h"

#include <functional>

namespace lathe::jobs {

// What a front end shows while the runner trains (lathe-cli's progress lines): the same
// trainer, seen from outside the store. Each is optional and called on the worker thread.
struct TrainObserver
{
    // The trainer is built (and restored: resumedAt > 0 is the step it continues from).
    std::function<void(const Trainer &trainer, int64_t resumedAt)> started;
    std::function<void(const TrainMetrics &metrics)> step;
    std::function<void(const TrainResult &result)> finished;
};

class TrainRunner : public JobRunner
{
public:
    TrainRunner() = default;
    explicit TrainRunner(TrainObserver observer) : m_observer(std::move(observer)) {}
    RunResult run(JobContext &context) override;

private:
    TrainObserver m_observer;
};

} // namespace lathe::jobs
