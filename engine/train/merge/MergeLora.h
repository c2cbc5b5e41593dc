// MergeLora: folds a LoRA adapter into its base model, W' = W + s·B·A for every adapted
// matrix (s = alpha / r, or alpha / sqrt(r) with rsLoRA), with W dequantised to f32 first.
// The merged model runs at the base's speed with the adapter's behaviour, and is what
// `lathe-cli merge` exports (GGUF or a Hugging Face folder through the model writers).
#pragma once

#include "core/DType.h"
#include "model/LoadedModel.h"
#include "train/checkpoint/PeftAdapter.h"

#include <string>
#include <vector>

namespace lathe {

class ThreadPool;

// The canonical (GGUF) weight name of a LoRA target in layer i: q_proj -> blk.i.attn_q.weight.
std::string loraTargetWeightName(int layer, const std::string &module);

// The base weights with every adapted matrix replaced by its merged f32 value; the other
// tensors are the base's views. The adapter must match the model (readPeftAdapter
// checks that). pool may be null.
Weights mergeLoraWeights(const LoadedModel &base, const PeftAdapter &adapter, ThreadPool *pool = nullptr);

struct MergeReport
{
    int64_t matrices = 0; // matrices changed
    double scaling = 0.0; // s
    std::vector<std::string> notes;
};

// Loads modelPath and the adapter folder (a PEFT folder, or a training run folder: its
// newest checkpoint), merges, and writes out (a .gguf file or a
// Hugging Face folder) with matrices of type `type`. Throws Error naming the file.
MergeReport mergeLoraToFile(const std::string &modelPath, const std::string &adapterDir, const std::string &out,
                            DType type, ThreadPool *pool = nullptr);

} // namespace lathe
