// Checkpoint: a training run's state on disk, one folder per save:
//   RUN/checkpoint-{step}/adapter_config.json, adapter_model.safetensors  (LoRA, PEFT format)
//                         model.gguf or model/                             (full: the model itself)
//                         trainer_state.json        step, schedule, loss scale, data cursor,
//                                                   seed, model identity, spec, metric history,
//                                                   sizes + checksums of the other files, its own checksum
//                         trainer_state.safetensors AdamW moments (adam.m.NAME, adam.v.NAME) and,
//                                                   for full fine-tuning, the f32 weights (param.NAME)
// A save writes RUN/checkpoint-{step}.tmp/ and renames it into place, so a crash never
// leaves a half checkpoint under the final name. Loading refuses a checkpoint whose files
// are truncated or edited (sizes, checksums) or that was made for another model.
#pragma once

#include "model/LoadedModel.h"
#include "train/LoraSpec.h"
#include "train/TrainModel.h"
#include "train/batch/BatchBuilder.h"
#include "train/checkpoint/ModelIdentity.h"
#include "train/optim/AdamW.h"
#include "train/schedule/LrSchedule.h"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace lathe {

struct TrainerState
{
    int64_t step = 0; // optimiser steps done
    int64_t tokensSeen = 0;
    DataCursor cursor;
    std::string dataHash;
    int64_t optimizerSteps = 0; // AdamW's t (skipped fp16 steps do not count)
    double lossScale = 1.0;
    int64_t goodSteps = 0;
    int64_t skippedSteps = 0;
    LrSchedule schedule;
    uint64_t seed = 0; // every random stream (dropout, shuffles) derives from it and the step
    double elapsedSeconds = 0.0;
    ModelIdentity model;
    nlohmann::json spec;                                 // RunSpec::toJson()
    nlohmann::json history = nlohmann::json::array(); // one object per step / evaluation
};

struct CheckpointWrite
{
    const LoadedModel *base = nullptr;
    TrainMode mode = TrainMode::Lora;
    LoraSpec lora;
    std::string baseModelName;
    const std::vector<TrainParam<float>> *params = nullptr;
    const AdamW *optimizer = nullptr;
    TrainerState state;
};

// Writes runDir/checkpoint-{state.step}/ (runDir is created if needed), replacing an older
// save of the same step. Returns the folder. Throws Error; on failure the previous
// checkpoints are untouched.
std::string saveCheckpoint(const std::string &runDir, const CheckpointWrite &what);

struct LoadedCheckpoint
{
    std::string dir;
    TrainerState state;
    TrainMode mode = TrainMode::Lora;
    LoraSpec lora; // from adapter_config.json (LoRA)
    std::map<std::string, std::vector<float>> params; // by TrainModel parameter name
    std::map<std::string, std::vector<float>> adamM, adamV;
};

// dir: a checkpoint folder, or a run folder (its newest complete checkpoint-N).
// Checks the files against their recorded sizes and checksums, and the recorded model
// identity against current. Throws Error with the folder and what is wrong.
LoadedCheckpoint loadCheckpoint(const std::string &dir, const ModelConfig &config, const ModelIdentity &current);

// The checkpoint folder dir names (see loadCheckpoint); throws Error when there is none.
std::string resolveCheckpointDir(const std::string &dir);

} // namespace lathe
