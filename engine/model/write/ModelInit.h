// ModelInit: random weights for a ModelConfig, reproducible from a seed on every
// platform (our own splitmix64 + Box-Muller, no std distributions). Each tensor draws
// from its own stream seeded by (seed, name), so adding a tensor never shifts another.
// Weights are F32 with canonical names (WeightNames.h) in the Hugging Face q/k layout
// (rotate-half), which is what config.ropeLayout says after completeConfig().
#pragma once

#include "model/ModelConfig.h"
#include "model/Weights.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lathe {

struct InitOptions
{
    uint64_t seed = 0;
    // Std of matrix entries (HF's initializer_range). The output projections of each
    // layer (attn_output, ffn_down) are scaled by 1/sqrt(2 * layers), GPT-2 style, so the
    // residual stream of a deep model stays O(1).
    float stddev = 0.02f;
    float normNoise = 0.05f; // norms are 1 + N(0, normNoise): a swapped norm changes logits
    float biasStd = 0.02f;
};

struct InitTensor
{
    std::vector<int64_t> shape;
    std::vector<float> data;
};

struct InitializedModel
{
    ModelConfig config;
    std::map<std::string, InitTensor> tensors;

    // F32 views of the tensors (valid while this object lives and is not modified).
    Weights views() const;
    int64_t parameterCount() const;
};

// Validates config, then draws every tensor of expectedTensors(config). Throws Error
// for an invalid config or OutOfMemoryError when the host cannot hold the weights.
InitializedModel initModel(const ModelConfig &config, const InitOptions &options);

} // namespace lathe
