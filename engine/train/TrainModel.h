// TrainModel: the trainable decoder on the CPU reference path: forward and backward
// for every ArchSpec (llama, mistral, qwen2, qwen3), over packed batches (TrainBatch),
// with a frozen base and LoRA adapters, or with every weight trained (full fine-tune).
// It is a template on the arithmetic type: float for training, double for the
// finite-difference gradient checks. The CUDA trainer implements the same contract with
// the same semantics; the optimiser, schedule, checkpoints and the loop (Trainer) sit
// above it and only see parameters, gradients and losses.
//
// Determinism: for a fixed thread count, the same batch, parameters and dropout seed give
// bit-identical losses and gradients (no reductions whose order depends on scheduling).
#pragma once

#include "train/LoraSpec.h"
#include "train/TrainBatch.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lathe {

struct ModelConfig;
class Weights;
class ThreadPool;

enum class TrainMode : uint8_t { Lora = 0, Full = 1 };

// How the frozen base weights are held during training. AsLoaded keeps the file's
// tensors (mapped, any dtype, dequantised row by row when used); the others convert once
// at start-up. Nf4 is QLoRA: 4-bit NormalFloat with per-64 block scales, optionally with
// the scales themselves quantised (double quantisation); never stored dequantised. As in
// QLoRA, Nf4 applies to the decoder's linear layers; the embedding and an untied head are
// held in BF16. Norm and bias vectors are always f32 copies. Full mode ignores this.
enum class BaseFormat : uint8_t { AsLoaded = 0, F32 = 1, F16 = 2, BF16 = 3, Q8_0 = 4, Nf4 = 5 };

// Where activations are rounded, emulating a GPU mixed-precision policy on the CPU:
// F32 rounds nothing; BF16/F16 round the outputs of every matmul, norm and attention and
// the activation gradients flowing back through them, exactly where the GPU kernels
// store 16-bit values. Master weights, optimiser state and reductions stay f32.
enum class ComputePrecision : uint8_t { F32 = 0, BF16 = 1, F16 = 2 };

struct TrainModelOptions
{
    TrainMode mode = TrainMode::Lora;
    LoraSpec lora;
    BaseFormat baseFormat = BaseFormat::AsLoaded;
    bool doubleQuant = false; // Nf4 only
    ComputePrecision precision = ComputePrecision::F32;
    bool checkpointActivations = false; // keep only each layer's input; recompute in backward
    uint64_t seed = 0;                  // LoRA A initialisation
};

// One trainable tensor: row-major value and gradient of the same shape.
// Names: LoRA "layers.{i}.{module}.lora_A" [r, in] and ".lora_B" [out, r], module as in
// loraModuleNames(); full fine-tuning uses the canonical GGUF names (WeightNames.h).
template <class Real>
struct TrainParam
{
    std::string name;
    std::vector<int64_t> shape;
    std::vector<Real> value;
    std::vector<Real> grad;
    int64_t size() const { return int64_t(value.size()); }
};

// Bytes held by the model, by component (the metric stream and the VRAM planner report
// these). Optimiser state belongs to the optimiser and is reported there.
struct TrainMemory
{
    int64_t weights = 0;     // frozen base (as held: mapped, converted or NF4)
    int64_t trainable = 0;   // parameter values + gradients
    int64_t activations = 0; // saved for backward at the peak of the last step
    int64_t workspace = 0;   // scratch at the peak of the last step
};

template <class Real>
class TrainModel
{
public:
    // Validates options against config (rank >= 1, targets the model has) and throws
    // Error naming the field. base must hold every tensor the arch needs; it must outlive
    // the model when baseFormat is AsLoaded. pool may be null (single-threaded).
    TrainModel(const ModelConfig &config, const Weights &base, const TrainModelOptions &options,
               ThreadPool *pool);
    ~TrainModel();
    TrainModel(const TrainModel &) = delete;
    TrainModel &operator=(const TrainModel &) = delete;

    const ModelConfig &config() const;
    const TrainModelOptions &options() const;

    std::vector<TrainParam<Real>> &params();
    const std::vector<TrainParam<Real>> &params() const;
    void zeroGrads();

    // Forward and backward over batch. Returns the summed NLL over its targets (natural
    // log, in double). Adds gradWeight * d(sum NLL)/d(param) to every param's grad (the
    // trainer passes lossScale / targets-in-the-accumulated-step). dropoutSeed drives
    // LoRA dropout (ignored when dropout is 0); the same seed gives the same mask.
    double forwardBackward(const TrainBatch &batch, double gradWeight, uint64_t dropoutSeed);

    // Summed NLL over batch targets; no dropout, no gradients.
    double evaluate(const TrainBatch &batch);

    // logits [B*T, V] of the current weights (adapters applied), no dropout.
    void logits(const TrainBatch &batch, std::vector<Real> &out);

    TrainMemory memory() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

extern template class TrainModel<float>;
extern template class TrainModel<double>;

} // namespace lathe
