// LoraSpec: which linear layers get a low-rank adapter and how it is scaled.
//   y = x·W^T + s · dropout(x)·A^T·B^T,  A [r, in] random (Kaiming-uniform, as PEFT),
//   B [out, r] zero, s = alpha / r (or alpha / sqrt(r) with rsLoRA).
// Module names are the Hugging Face ones PEFT uses: q_proj k_proj v_proj o_proj
// gate_proj up_proj down_proj ("all-linear" expands to all seven; never lm_head).
#pragma once

#include <cmath>
#include <string>
#include <vector>

namespace lathe {

struct LoraSpec
{
    int rank = 8;
    double alpha = 16.0;
    double dropout = 0.0;
    bool rsLora = false;
    std::vector<std::string> targets{"q_proj", "k_proj", "v_proj", "o_proj"};

    double scaling() const { return rsLora ? alpha / std::sqrt(double(rank)) : alpha / double(rank); }
};

// The seven linear modules of a decoder layer, in a fixed order (used for names,
// checkpoints and iteration).
inline const std::vector<std::string> &loraModuleNames()
{
    static const std::vector<std::string> names{"q_proj", "k_proj", "v_proj", "o_proj",
                                                "gate_proj", "up_proj", "down_proj"};
    return names;
}

} // namespace lathe
