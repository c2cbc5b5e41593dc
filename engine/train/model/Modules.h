// Modules: the seven linear layers of a decoder layer in LoraSpec's fixed order (q k v o
// gate up down), with their canonical tensor names and shapes [out, in].
#pragma once

#include "model/ModelConfig.h"

#include <cstdint>
#include <string>
#include <utility>

namespace lathe::train {

enum Module : int { kQ = 0, kK = 1, kV = 2, kO = 3, kGate = 4, kUp = 5, kDown = 6, kModules = 7 };

inline const char *moduleTensorSuffix(int m)
{
    static const char *const names[kModules] = {"attn_q.weight",   "attn_k.weight",   "attn_v.weight",  "attn_output.weight",
                                                "ffn_gate.weight", "ffn_up.weight",   "ffn_down.weight"};
    return names[m];
}

inline std::string layerTensorName(int layer, const char *suffix)
{
    return "blk." + std::to_string(layer) + "." + suffix;
}

// {out, in} of module m.
inline std::pair<int64_t, int64_t> moduleShape(const ModelConfig &c, int m)
{
    const int64_t C = c.dim, F = c.ffnDim;
    const int64_t q = int64_t(c.nHeads) * c.headDim, kv = int64_t(c.nKvHeads) * c.headDim;
    switch (m) {
    case kQ: return {q, C};
    case kK:
    case kV: return {kv, C};
    case kO: return {C, q};
    case kGate:
    case kUp: return {F, C};
    default: return {C, F};
    }
}

} // namespace lathe::train
