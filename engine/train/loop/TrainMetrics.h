// TrainMetrics: what the trainer reports after every optimiser step (and for the
// evaluation of the base model before the first one), through a callback that returns
// whether to keep going — the one channel for progress lines, plots, the store and
// cancellation. Plain values only: subscribers copy what they need.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>

namespace lathe {

// Bytes by component. weights: the frozen (or, for a full fine-tune, trained) base as
// held; adapter: trainable values + gradients; optimizer: AdamW moments; activations:
// saved for backward at the step's peak; workspace: scratch at the peak.
struct TrainMemoryReport
{
    int64_t weights = 0;
    int64_t adapter = 0;
    int64_t optimizer = 0;
    int64_t activations = 0;
    int64_t workspace = 0;
    int64_t total() const { return weights + adapter + optimizer + activations + workspace; }
};

struct TrainMetrics
{
    static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();

    int64_t step = 0;       // optimiser steps done, this one included
    int64_t totalSteps = 0; // the schedule's length
    bool trained = true;    // false: the record of the evaluation before step 1
    double loss = kNone;    // mean NLL per target over the step's micro-batches
    double lr = 0.0;        // the rate this step used
    double gradNorm = kNone; // global norm before clipping (unscaled)
    bool skipped = false;   // fp16 overflow: no update was made
    double lossScale = 1.0;
    int64_t tokens = 0;     // non-padding tokens this step
    int64_t targets = 0;    // tokens that carried loss
    int64_t tokensSeen = 0; // since the start of the run (resumes included)
    double tokensPerSecond = 0.0;
    double epoch = 0.0;     // fractional passes over the training split
    double elapsedSeconds = 0.0;
    TrainMemoryReport memory;
    TrainMemoryReport peakMemory; // component-wise maxima so far
    bool evaluated = false;
    double evalLoss = kNone;
    double evalPerplexity = kNone;
    int64_t evalTargets = 0;
    std::string checkpoint; // folder saved after this step, if any
};

// Return false to stop the run (it ends after the step just reported, with a checkpoint
// when the spec asks for one at stop).
using TrainCallback = std::function<bool(const TrainMetrics &)>;

} // namespace lathe
