// Mistral 7B: the llama graph with GQA (8 KV heads) and its own HF model_type.
// Sliding-window attention (4096) only matters beyond 4k context: the config's
// context length is capped to the window by the loaders until the paged KV cache
// implements the window.
#include "model/ArchSpec.h"

namespace lathe {

ArchSpec mistralArch()
{
    ArchSpec a;
    a.name = "mistral";
    a.ggufNames = {}; // llama.cpp writes Mistral 7B as general.architecture = llama
    a.hfModelTypes = {"mistral"};
    a.ggufRopeLayout = RopeLayout::Interleaved;
    return a;
}

} // namespace lathe
