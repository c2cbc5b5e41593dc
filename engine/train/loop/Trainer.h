// Trainer: one training run from a RunSpec on the CPU reference path. It builds the
// TrainModel, then per optimiser step: takes grad_accum micro-batches from the data
// cursor, runs forward/backward on each with the gradient weight lossScale / targets of
// the whole step (so the step's gradient is that of the mean loss over its targets),
// checks for fp16 overflow (skip + back off), unscales, clips to the global norm, and
// applies AdamW at the schedule's rate. It evaluates on the validation split, saves
// checkpoints (keeping checkpoint.keep of them), and reports TrainMetrics through the
// callback, which can cancel.
//
// Determinism: every random stream derives from (seed, step, micro-batch) or (seed,
// epoch), and the state saved in checkpoints is complete, so a run resumed from step k
// repeats the uninterrupted run's losses bit for bit (same thread count).
#pragma once

#include "model/LoadedModel.h"
#include "train/loop/TrainMetrics.h"
#include "train/spec/RunSpec.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace lathe {

enum class TrainStop : uint8_t { Completed = 0, MaxSteps = 1, MaxTokens = 2, MaxSeconds = 3, Cancelled = 4 };
const char *trainStopName(TrainStop r);

struct TrainResult
{
    TrainStop reason = TrainStop::Completed;
    int64_t steps = 0;               // optimiser steps done in total
    double lastLoss = TrainMetrics::kNone;
    double lastEvalLoss = TrainMetrics::kNone;
    std::string lastCheckpoint;
    double seconds = 0.0;            // wall time of this call
    TrainMemoryReport peakMemory;
};

// What run() tells about checkpoint folders besides the per-step callback (each optional).
// Deleting old checkpoints under checkpoint.keep happens only once the newer one is in
// place and reported, so a store that records checkpoints (engine/jobs) never points at a
// deleted folder as its latest.
struct CheckpointCallbacks
{
    // The checkpoint saved as the run stops (checkpoint.at_stop), after the last step
    // callback returned; periodic saves come with their step's TrainMetrics::checkpoint.
    std::function<void(int64_t step, const std::string &path)> savedAtStop;
    // Folders deleted under checkpoint.keep, called after the step callback (or
    // savedAtStop) that reported the newer checkpoint has returned.
    std::function<void(const std::vector<std::string> &paths)> removed;
};

struct EvalResult
{
    double loss = TrainMetrics::kNone; // mean NLL per target
    double perplexity = TrainMetrics::kNone;
    int64_t targets = 0;
    int64_t batches = 0;
};

class Trainer
{
public:
    // Loads the model, tokenizer and data the spec names (see RunInputs.h), then builds
    // the model. where names the spec in messages. Throws Error before any compute.
    explicit Trainer(const RunSpec &spec, const std::string &where = "spec");
    // With the model and tokenized data already at hand (tests, the GUI). padId fills padding.
    Trainer(const RunSpec &spec, std::shared_ptr<const LoadedModel> model, PreparedSplits data, int32_t padId = 0,
            const std::string &where = "spec");
    ~Trainer();
    Trainer(const Trainer &) = delete;
    Trainer &operator=(const Trainer &) = delete;

    // Restores a checkpoint (a checkpoint-N folder or a run folder) before run(). Refuses
    // one made for another model, for a spec whose training math differs (the field is
    // named), or for other data. Throws Error.
    void resume(const std::string &checkpointDir);

    // Trains until the schedule ends, a budget runs out, or callback returns false.
    TrainResult run(const TrainCallback &callback = {}, const CheckpointCallbacks &checkpoints = {});

    // Loss and perplexity on the validation split (eval.max_batches micro-batches; all
    // when 0). Throws Error when the run has no validation split.
    EvalResult evaluate();
    bool hasValidation() const;

    // Writes a checkpoint of the current state to the spec's checkpoint.dir (or dir when
    // given); returns the folder.
    std::string saveCheckpoint(const std::string &dir = {});

    int64_t step() const;
    int64_t totalSteps() const;
    const RunSpec &spec() const;
    const LoadedModel &baseModel() const;
    TrainModel<float> &model();
    TrainMemoryReport memory() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace lathe
