// TrainRunner: runs a train job with the Trainer (engine/train). The job's spec is a
// run spec (train/spec/RunSpec.h) plus two keys of the queue's own, removed before the
// run spec is read: "price_profile" (the profile charged) and "spec_dir" (the folder
// relative paths in the spec are resolved against). Without a checkpoint dir the run's
// folder is used, so every train job can pause and resume.
//
// Per optimiser step it records loss, lr, grad_norm, tokens_per_s and memory_bytes (and
// eval_loss / eval_perplexity when evaluated); checkpoints the trainer saves are
// recorded and are where a pause (user or budget) takes effect. A run spec without
// periodic checkpoints pauses at once, through the trainer's checkpoint at stop.
//
// A spec with "simulated": true runs SimulatedTrainRunner instead (a queue demo that
// needs no model).
#pragma once

#include "jobs/JobRunner.h"

namespace lathe::jobs {

class TrainRunner : public JobRunner
{
public:
    RunResult run(JobContext &context) override;
};

} // namespace lathe::jobs
