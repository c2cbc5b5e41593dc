// Qwen2 / Qwen2.5: the llama graph with biases on q, k and v, NEOX (rotate-half)
// RoPE in GGUF, theta 1e6 and usually tied embeddings on the small sizes.
#include "model/ArchSpec.h"

namespace lathe {

ArchSpec qwen2Arch()
{
    ArchSpec a;
    a.name = "qwen2";
    a.ggufNames = {"qwen2"};
    a.hfModelTypes = {"qwen2"};
    a.qkvBias = true;
    a.ggufRopeLayout = RopeLayout::RotateHalf;
    return a;
}

} // namespace lathe
