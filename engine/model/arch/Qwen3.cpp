// Qwen3 (dense): no q/k/v biases, but an RMSNorm over each q and k head (weights of
// head_dim) before RoPE; head_dim is explicit and need not equal dim / n_heads.
#include "model/ArchSpec.h"

namespace lathe {

ArchSpec qwen3Arch()
{
    ArchSpec a;
    a.name = "qwen3";
    a.ggufNames = {"qwen3"};
    a.hfModelTypes = {"qwen3"};
    a.qkNorm = true;
    a.ggufRopeLayout = RopeLayout::RotateHalf;
    return a;
}

} // namespace lathe
