// The canonical tensor names and shapes a decoder of a given config must have.
// GGUF names are canonical; the safetensors/HF and llama2.c loaders translate to them.
//   token_embd.weight [V, C]            output_norm.weight [C]      output.weight [V, C] (untied)
//   blk.i.attn_norm.weight [C]          blk.i.ffn_norm.weight [C]
//   blk.i.attn_q.weight [H*D, C]        blk.i.attn_k.weight / attn_v.weight [Hkv*D, C]
//   blk.i.attn_output.weight [C, H*D]   blk.i.attn_{q,k,v}.bias (qwen2)
//   blk.i.attn_q_norm.weight / attn_k_norm.weight [D] (qwen3)
//   blk.i.ffn_gate.weight / ffn_up.weight [F, C]      blk.i.ffn_down.weight [C, F]
#pragma once

#include "model/ModelConfig.h"
#include "model/Weights.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lathe {

struct ExpectedTensor
{
    std::string name;
    std::vector<int64_t> shape;
    bool isNormOrBias = false; // must be F32/F16/BF16 (never block-quantized)
};

std::vector<ExpectedTensor> expectedTensors(const ModelConfig &config);

// Checks that every expected tensor is present with its shape and a dtype the engine
// computes with, and that no tensor is left over (a sign of a wrong config). Throws
// Error naming the tensor: "tensor blk.3.ffn_up.weight: shape [768, 255], expected [768, 256]".
void validateWeights(const ModelConfig &config, const Weights &weights);

} // namespace lathe
