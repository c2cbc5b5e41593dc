// Trainer::Impl: the state of one run, shared by the loop (Trainer.cpp) and the
// checkpoint plumbing (TrainerResume.cpp). Private to the trainer.
#pragma once

#include "core/ThreadPool.h"
#include "train/batch/BatchBuilder.h"
#include "train/checkpoint/Checkpoint.h"
#include "train/loop/Trainer.h"
#include "train/optim/AdamW.h"
#include "train/optim/LossScaler.h"

#include <chrono>
#include <optional>

namespace lathe {

struct Trainer::Impl
{
    RunSpec spec;
    std::string where;
    std::shared_ptr<const LoadedModel> base;
    PreparedSplits data;
    int32_t padId = 0;
    std::unique_ptr<ThreadPool> pool;
    std::unique_ptr<TrainModel<float>> model;
    std::unique_ptr<BatchBuilder> train;      // holds a reference to data.train
    std::unique_ptr<BatchBuilder> validation; // null without a validation split
    AdamW optimizer{AdamWConfig{}};
    LossScaler scaler;
    LrSchedule schedule;
    ModelIdentity identity;

    int64_t step = 0;
    int64_t tokensSeen = 0;
    double elapsedBefore = 0.0; // training seconds of earlier processes (resumes) and calls
    nlohmann::json history = nlohmann::json::array();
    TrainMemoryReport peak;
    bool baseEvaluated = false;
    int64_t lastSavedStep = -1;

    void build();
    uint64_t dropoutSeed(int64_t step, int64_t micro) const;
    TrainMemoryReport memoryNow() const;
    TrainMetrics runStep();
    EvalResult evaluate();
    void record(const TrainMetrics &m);
    std::optional<TrainStop> stopReason(std::chrono::steady_clock::time_point started) const;
    TrainResult run(const TrainCallback &callback, const CheckpointCallbacks &checkpoints);

    // TrainerResume.cpp
    std::string saveCheckpoint(const std::string &dir);
    void resume(const std::string &dir);
    // Deletes checkpoints beyond checkpoint.keep in the spec's checkpoint dir (newest kept,
    // plus the best by the eval loss measured at a checkpoint's step) and reports them.
    void pruneCheckpoints(const CheckpointCallbacks &checkpoints);
};

} // namespace lathe
