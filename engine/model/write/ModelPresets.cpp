// The preset table. Token ids follow the byte vocabulary the GGUF writer emits when no
// tokenizer is given (0 <unk>, 1 <s>, 2 </s>), except for real shapes, which keep
// their own ids.
#include "model/write/ModelPresets.h"

#include "core/Error.h"
#include "model/ArchSpec.h"

namespace lathe {

namespace {

ModelConfig base(const char *arch, int vocab, int dim, int layers, int heads, int kvHeads, int ffn, int context)
{
    ModelConfig c;
    c.arch = arch;
    c.vocabSize = vocab;
    c.dim = dim;
    c.nLayers = layers;
    c.nHeads = heads;
    c.nKvHeads = kvHeads;
    c.ffnDim = ffn;
    c.contextLength = context;
    c.bosId = 1;
    c.eosId = 2;
    return c;
}

struct Preset
{
    const char *name;
    ModelConfig (*make)();
};

const Preset kPresets[] = {
    {"tiny-llama", [] { return base("llama", 512, 128, 2, 4, 2, 256, 256); }},
    {"tiny-mistral", [] { return base("mistral", 512, 128, 2, 4, 2, 256, 256); }},
    {"tiny-qwen2", [] {
         ModelConfig c = base("qwen2", 512, 128, 2, 4, 2, 384, 256);
         c.ropeTheta = 1e6f;
         c.normEps = 1e-6f;
         c.tiedEmbeddings = true; // as the small Qwen2/2.5 checkpoints
         return c;
     }},
    {"tiny-qwen3", [] {
         ModelConfig c = base("qwen3", 512, 128, 2, 4, 2, 384, 256);
         c.headDim = 64; // explicit, != dim / heads, as in real Qwen3 checkpoints
         c.ropeTheta = 1e6f;
         c.normEps = 1e-6f;
         return c;
     }},
    // ~150M parameters with llama ratios (ffn ~ 8/3 dim, GQA 3:1): the benchmark model.
    {"llama-150m", [] { return base("llama", 32000, 768, 16, 12, 4, 2048, 2048); }},
    {"llama3-8b-shape", [] {
         ModelConfig c = base("llama", 128256, 4096, 32, 32, 8, 14336, 8192);
         c.ropeTheta = 500000.0f;
         c.bosId = 128000;
         c.eosId = 128001;
         c.stopIds = {128001, 128009};
         return c;
     }},
    {"qwen3-0.6b-shape", [] {
         ModelConfig c = base("qwen3", 151936, 1024, 28, 16, 8, 3072, 40960);
         c.headDim = 128;
         c.ropeTheta = 1e6f;
         c.normEps = 1e-6f;
         c.tiedEmbeddings = true;
         c.bosId = -1;
         c.eosId = 151645;
         return c;
     }},
};

} // namespace

void completeConfig(ModelConfig &c)
{
    const ArchSpec *spec = findArch(c.arch);
    if (!spec)
        fail("unknown architecture '" + c.arch + "' (supported: " + supportedArchNames() + ")");
    if (c.headDim <= 0 && c.nHeads > 0)
        c.headDim = c.dim / c.nHeads;
    c.ropeDim = c.headDim;
    // Weights made here are Hugging Face weights: rotate-half q/k. The GGUF writer
    // permutes them for archs whose GGUF layout is interleaved.
    c.ropeLayout = RopeLayout::RotateHalf;
    c.qkvBias = spec->qkvBias;
    c.qkNorm = spec->qkNorm;
    if (c.stopIds.empty() && c.eosId >= 0)
        c.stopIds = {c.eosId};
}

std::optional<ModelConfig> modelPreset(const std::string &name)
{
    for (const Preset &p : kPresets)
        if (name == p.name) {
            ModelConfig c = p.make();
            completeConfig(c);
            return c;
        }
    return std::nullopt;
}

std::vector<std::string> modelPresetNames()
{
    std::vector<std::string> names;
    for (const Preset &p : kPresets)
        names.push_back(p.name);
    return names;
}

ModelConfig defaultConfigForArch(const std::string &arch)
{
    if (!findArch(arch))
        fail("unknown architecture '" + arch + "' (supported: " + supportedArchNames() + ")");
    std::optional<ModelConfig> c = modelPreset("tiny-" + arch);
    if (!c) {
        c = modelPreset("tiny-llama");
        c->arch = arch;
        completeConfig(*c);
    }
    return *c;
}

} // namespace lathe
