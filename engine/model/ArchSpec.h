// ArchSpec: what distinguishes one supported architecture from another. The forward
// pass is one generic decoder (engine/infer); each architecture is a small file under
// engine/model/arch/ describing its features and the names it goes by in GGUF
// (general.architecture) and Hugging Face (config.json model_type).
#pragma once

#include "model/ModelConfig.h"

#include <string>
#include <vector>

namespace lathe {

struct ArchSpec
{
    std::string name;                     // our name, stored in ModelConfig::arch
    std::vector<std::string> ggufNames;   // general.architecture values
    std::vector<std::string> hfModelTypes; // config.json "model_type" values
    bool qkvBias = false;
    bool qkNorm = false;
    // RoPE layout of this architecture's GGUF files (HF files are always RotateHalf).
    RopeLayout ggufRopeLayout = RopeLayout::Interleaved;
    bool defaultTiedEmbeddings = false;
};

// The registry. Lookups are by our name, a GGUF name or an HF model_type.
const std::vector<ArchSpec> &allArchs();
const ArchSpec *findArch(const std::string &name);
const ArchSpec *findArchByGguf(const std::string &ggufArch);
const ArchSpec *findArchByHf(const std::string &modelType);
std::string supportedArchNames(); // "llama, mistral, qwen2, qwen3"

// Each arch file defines one of these.
ArchSpec llamaArch();
ArchSpec mistralArch();
ArchSpec qwen2Arch();
ArchSpec qwen3Arch();

} // namespace lathe
