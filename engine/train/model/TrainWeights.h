// TrainWeights: everything TrainModel computes with, built once from the loaded base:
// in LoRA mode the frozen base (matrices as FrozenMatrix in options.baseFormat, norm and
// bias vectors as Real copies) plus the adapters; in full mode a trainable Real copy of
// every tensor. Parameters keep a fixed order (TrainModel.h names them):
//   LoRA: layer by layer, modules in loraModuleNames() order, lora_A then lora_B;
//   full: the order of expectedTensors() (WeightNames.h).
// Views are rebuilt for every pass (layerView) because the trainer may replace a
// parameter's storage between steps (checkpoint restore).
#pragma once

#include "model/ModelConfig.h"
#include "model/Weights.h"
#include "train/TrainModel.h"
#include "train/model/FrozenMatrix.h"
#include "train/model/TrainLayer.h"

#include <array>
#include <vector>

namespace lathe::train {

template <class Real>
struct TrainWeights
{
    bool full = false;
    bool tied = false; // the head reuses token_embd (no output.weight in the base)

    // LoRA mode: the frozen base.
    FrozenMatrix embedding, output;
    std::vector<std::array<FrozenMatrix, kModules>> matrices;
    std::vector<Real> outputNorm;
    struct Vectors
    {
        std::vector<Real> attnNorm, ffnNorm, qNorm, kNorm, bq, bk, bv;
    };
    std::vector<Vectors> vectors;

    std::vector<TrainParam<Real>> params;
    // Indices into params, -1 where absent.
    std::vector<std::array<int, kModules>> loraA, loraB;
    struct FullIndex
    {
        std::array<int, kModules> matrices{};
        int attnNorm = -1, ffnNorm = -1, qNorm = -1, kNorm = -1, bq = -1, bk = -1, bv = -1;
    };
    std::vector<FullIndex> fullIndex;
    int embeddingParam = -1, outputNormParam = -1, outputParam = -1;

    int64_t frozenBytes() const;
};

// Validates options (throws Error naming the field: "lora.rank", "lora.targets", ...)
// and the base's tensors (names and shapes as WeightNames.h), then builds everything.
template <class Real>
void buildTrainWeights(const ModelConfig &config, const Weights &base, const TrainModelOptions &options,
                       TrainWeights<Real> &out);

// Pointers for layer i (gradients included when withGrads).
template <class Real>
LayerView<Real> layerView(TrainWeights<Real> &w, const ModelConfig &config, const TrainModelOptions &options, int i,
                          bool withGrads);

// "all-linear" expanded, order as loraModuleNames(); throws for an unknown name.
std::array<bool, kModules> loraTargets(const LoraSpec &spec);

} // namespace lathe::train
