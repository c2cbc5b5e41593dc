// Llama 1/2/3/3.1 and the models that share its graph: TinyLlama, SmolLM/SmolLM2,
// the llama2.c stories models. Llama 3.1's frequency scaling comes through
// ModelConfig::ropeScaling (kind Llama3).
#include "model/ArchSpec.h"

namespace lathe {

ArchSpec llamaArch()
{
    ArchSpec a;
    a.name = "llama";
    a.ggufNames = {"llama"};
    a.hfModelTypes = {"llama"};
    a.ggufRopeLayout = RopeLayout::Interleaved; // convert_hf_to_gguf permutes q/k
    return a;
}

} // namespace lathe
