// RunSpec: one training run as a JSON document — the model, how it is trained (LoRA or
// full, adapter, base format), the data, optimiser, schedule, batching, precision,
// evaluation, checkpoints, budget, seed and threads. The same document drives
// `lathe-cli train spec.json` and the GUI, and a copy travels inside every checkpoint.
//
// fromJson() checks everything that needs no model (types, ranges, unknown keys, a
// missing data file); validateAgainstModel() checks the rest (targets the model lacks,
// seq_len above its context) — both before any compute, with the field named:
//   "spec.json: adapter.rank: must be in [1, 4096], got 0".
// The JSON format (every key optional unless marked):
//   model*, tokenizer, base_model_name, mode lora|full,
//   adapter {rank, alpha, dropout, rslora, targets: [..] | "all-linear"},
//   base_format as_loaded|f32|f16|bf16|q8_0|nf4, double_quant,
//   data* (DatasetSpec, engine/data/DatasetSpec.h),
//   optimizer {lr, betas [b1, b2], eps, weight_decay, grad_clip},
//   schedule {kind constant|linear|cosine, warmup_steps, steps | epochs},
//   batch {micro_batch, seq_len, grad_accum, packing, shuffle, split_long},
//   precision f32|bf16|f16, loss_scale "dynamic" | number | {initial, growth_interval},
//   activation_checkpointing, eval {every, max_batches},
//   checkpoint {dir, every, at_stop, keep}, budget {max_steps, max_tokens, max_seconds},
//   seed, threads.
#pragma once

#include "data/DatasetSpec.h"
#include "train/TrainModel.h"
#include "train/optim/AdamW.h"
#include "train/optim/LossScaler.h"
#include "train/schedule/LrSchedule.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace lathe {

struct ModelConfig;

struct BatchSpec
{
    int64_t microBatch = 4;
    int64_t seqLen = 256;
    int64_t gradAccum = 1;
    bool packing = true;
    bool shuffle = true;
    bool splitLong = false; // records longer than seq_len: cut into pieces (true) or truncated
};

struct EvalSpec
{
    int64_t every = 0;      // optimiser steps between evaluations; 0: only at the end (if data)
    int64_t maxBatches = 0; // micro-batches per evaluation; 0: the whole validation split
};

struct CheckpointSpec
{
    std::string dir;   // empty: no checkpoints
    int64_t every = 0; // optimiser steps; 0: only at stop
    bool atStop = true;
    // Checkpoints kept in dir: the newest `keep`, plus the best by eval loss when the run
    // evaluates; older ones are deleted once a newer one is in place. 0: keep all.
    int64_t keep = 3;
};

struct BudgetSpec
{
    int64_t maxSteps = 0;  // 0: no limit (beyond the schedule)
    int64_t maxTokens = 0; // training tokens (non-padding)
    double maxSeconds = 0; // wall time of this process's training
};

struct RunSpec
{
    std::string model;
    std::string tokenizer;     // empty: the model's own (GGUF vocab, tokenizer.json, tokenizer.bin)
    std::string baseModelName; // adapter_config base_model_name_or_path; empty: model
    TrainMode mode = TrainMode::Lora;
    LoraSpec adapter;
    BaseFormat baseFormat = BaseFormat::AsLoaded;
    bool doubleQuant = false;
    DatasetSpec data;
    AdamWConfig optimizer;
    double gradClip = 1.0; // 0: no clipping
    ScheduleKind schedule = ScheduleKind::Constant;
    int64_t warmupSteps = 0;
    int64_t steps = 0;   // optimiser steps of the schedule, or
    double epochs = 0.0; // passes over the training split (steps derived from it)
    BatchSpec batch;
    ComputePrecision precision = ComputePrecision::F32;
    LossScaleConfig lossScale; // enabled for f16 only
    bool activationCheckpointing = false;
    EvalSpec eval;
    CheckpointSpec checkpoint;
    BudgetSpec budget;
    uint64_t seed = 0;
    int threads = 0; // 0: all hardware threads

    // Parses and checks (see the banner), including that the model, tokenizer and data
    // files exist. where names the document in messages. Relative paths are resolved
    // against baseDir when it is not empty (fromFile() passes the spec's folder).
    static RunSpec fromJson(const nlohmann::json &j, const std::string &where, const std::string &baseDir = {});
    static RunSpec fromFile(const std::string &path);
    // Every field, explicit (defaults written out): what checkpoints store.
    nlohmann::json toJson() const;

    // The checks that need the model: adapter targets it lacks, seq_len above its context,
    // a base format the mode cannot train. Throws Error naming the field.
    void validateAgainstModel(const ModelConfig &config, const std::string &where) const;

    // The subset of toJson() that determines the numbers a run produces (what a resumed
    // run must share with its checkpoint): everything except budget, eval, checkpoint,
    // threads and paths that only say where things are.
    nlohmann::json mathJson() const { return mathSubset(toJson()); }
    static nlohmann::json mathSubset(nlohmann::json full);

    TrainModelOptions modelOptions() const;
};

const char *baseFormatName(BaseFormat f);
const char *precisionName(ComputePrecision p);

} // namespace lathe
