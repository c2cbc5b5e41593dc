// The demo's corpus, model and text samples (see Demo.h).
#include "Demo.h"

#include "CliCommon.h"
#include "core/Error.h"
#include "infer/Generate.h"
#include "infer/ModelTokenizer.h"
#include "model/write/ModelInit.h"
#include "model/write/ModelPresets.h"
#include "model/write/ModelWriter.h"

#include "DemoCorpusData.h" // generated from resources/demo/corpus.txt (CMakeLists.txt)

#include <cstdio>

namespace lathe::cli::demo {

std::string_view corpus()
{
    return {reinterpret_cast<const char *>(kDemoCorpusBytes), sizeof kDemoCorpusBytes};
}

ModelConfig modelConfig()
{
    ModelConfig c = defaultConfigForArch("llama");
    c.dim = 128;
    c.nLayers = 4;
    c.nHeads = 4;
    c.nKvHeads = 2;
    c.headDim = 0; // follows dim / heads
    c.ffnDim = 384;
    c.vocabSize = 260; // exactly the byte vocabulary the GGUF writer emits (see Demo.h)
    c.contextLength = 256;
    c.bosId = 1;
    c.eosId = 2;
    c.stopIds.clear();
    completeConfig(c);
    c.validate();
    return c;
}

void writeModel(const std::string &path)
{
    const ModelConfig config = modelConfig();
    InitOptions init;
    init.seed = 42;
    const InitializedModel model = initModel(config, init);
    GgufWriteOptions options;
    options.weightType = DType::F32; // a full fine-tune trains f32 weights
    options.name = "lathe-demo";
    writeGgufModel(config, model.views(), path, options);
}

void printSamples(const std::string &modelPath, int threads, int maxTokens)
{
    struct Sample
    {
        const char *how;
        const char *prompt;
        float temperature;
        uint64_t seed;
    };
    // Greedy shows the model's single most likely path (a small model soon repeats
    // itself); the sampled lines show the spread of what it learned.
    const Sample samples[] = {{"greedy ", "The lathe", 0.0f, 0},
                              {"sampled", "The lathe", 0.5f, 1},
                              {"sampled", "The turner", 0.5f, 2}};
    std::shared_ptr<const LoadedModel> model = openModel(modelPath);
    const std::optional<Tokenizer> tokenizer = modelTokenizer(*model);
    if (!tokenizer)
        fail(modelPath + ": the model has no tokenizer");
    std::shared_ptr<Device> device = openDevice(threads);
    for (const Sample &s : samples) {
        Session session(model, device);
        GenerateOptions options;
        options.maxTokens = maxTokens;
        options.sampler.temperature = s.temperature;
        options.sampler.topK = 40;
        options.sampler.topP = 0.95f;
        options.sampler.seed = s.seed;
        std::vector<int32_t> ids = tokenizer->encode(s.prompt);
        const GenerateResult r = generate(session, ids, options);
        ids.insert(ids.end(), r.ids.begin(), r.ids.end());
        std::printf("  %s  %s\n", s.how, escapeBytes(tokenizer->decode(ids, true)).c_str());
    }
    std::fflush(stdout);
}

} // namespace lathe::cli::demo
