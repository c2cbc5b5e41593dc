// lathe-cli init: a model with random weights (engine/model/write) written as GGUF
// and/or a Hugging Face folder. Shapes come from a preset or the arch's tiny default,
// changed by the dimension flags.
#include "CliCommon.h"
#include "Commands.h"
#include "core/Error.h"
#include "model/gguf/GgufFile.h"
#include "model/write/ModelInit.h"
#include "model/write/ModelPresets.h"
#include "model/write/ModelWriter.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

namespace lathe::cli {

namespace {

int64_t parseSize(const std::string &text)
{
    // 500M, 2G, 1048576: shard sizes as people write them.
    char *end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    double mult = 1;
    const std::string suffix = end ? std::string(end) : std::string();
    if (suffix == "K" || suffix == "KB") mult = 1e3;
    else if (suffix == "M" || suffix == "MB") mult = 1e6;
    else if (suffix == "G" || suffix == "GB") mult = 1e9;
    else if (!suffix.empty()) throw UsageError("--shard-size: cannot read '" + text + "' (e.g. 500M, 2G)");
    if (!(v > 0) || v * mult > 1e15)
        throw UsageError("--shard-size must be positive");
    return int64_t(v * mult);
}

DType dtypeOption(const ArgParser &args, const std::string &name, std::initializer_list<DType> allowed)
{
    std::optional<DType> t = dtypeFromName(args.value(name));
    for (DType a : allowed)
        if (t && *t == a)
            return a;
    std::string names;
    for (DType a : allowed)
        names += std::string(names.empty() ? "" : ", ") + dtypeName(a);
    throw UsageError("--" + name + " '" + args.value(name) + "' is not one of " + names);
}

struct TokenizerFacts
{
    int vocab = 0, bos = -1, eos = -1;
};

ModelConfig configFromArgs(const ArgParser &args, const TokenizerFacts &tok)
{
    ModelConfig c;
    if (args.has("preset")) {
        std::optional<ModelConfig> p = modelPreset(args.value("preset"));
        if (!p) {
            std::string names;
            for (const std::string &n : modelPresetNames())
                names += (names.empty() ? "" : ", ") + n;
            throw UsageError("unknown preset '" + args.value("preset") + "' (presets: " + names + ")");
        }
        c = *p;
        if (args.has("arch") && args.value("arch") != c.arch)
            c.arch = args.value("arch");
    } else if (args.has("arch")) {
        try {
            c = defaultConfigForArch(args.value("arch"));
        } catch (const Error &e) {
            throw UsageError(std::string("--arch: ") + e.what());
        }
    } else {
        throw UsageError("give --arch or --preset");
    }
    auto setInt = [&](const char *name, int &field, int64_t hi) {
        if (args.has(name))
            field = int(args.intValue(name, 1, hi));
    };
    const bool headsChanged = args.has("dim") || args.has("heads");
    setInt("dim", c.dim, 1 << 16);
    setInt("layers", c.nLayers, 1024);
    setInt("heads", c.nHeads, 4096);
    setInt("kv-heads", c.nKvHeads, 4096);
    setInt("ffn", c.ffnDim, 1 << 20);
    if (tok.vocab > 0) {
        c.vocabSize = tok.vocab;
        c.bosId = tok.bos;
        c.eosId = tok.eos;
        c.stopIds.clear();
    }
    setInt("vocab", c.vocabSize, 1 << 22);
    setInt("context", c.contextLength, 1 << 24);
    if (headsChanged)
        c.headDim = 0; // follows dim / heads again unless given
    setInt("head-dim", c.headDim, 1 << 16);
    if (args.has("kv-heads") == false && c.nKvHeads > c.nHeads)
        c.nKvHeads = c.nHeads;
    if (args.has("theta"))
        c.ropeTheta = float(args.doubleValue("theta", 1e-3, 1e12));
    if (args.has("eps"))
        c.normEps = float(args.doubleValue("eps", 1e-12, 0.5));
    if (args.has("tied") && args.has("untied"))
        throw UsageError("--tied and --untied contradict each other");
    if (args.has("tied"))
        c.tiedEmbeddings = true;
    if (args.has("untied"))
        c.tiedEmbeddings = false;
    if (c.bosId >= c.vocabSize || c.eosId >= c.vocabSize) {
        c.bosId = -1;
        c.eosId = -1;
        c.stopIds.clear();
    }
    try {
        completeConfig(c);
        c.validate();
    } catch (const Error &e) {
        throw UsageError(e.what());
    }
    return c;
}

void printWritten(const std::string &what, const std::string &path, const WriteReport &r)
{
    std::printf("wrote %s: %s (%s of tensors)\n", what.c_str(), path.c_str(), humanBytes(double(r.tensorBytes)).c_str());
    const size_t shown = std::min<size_t>(r.notes.size(), 3);
    for (size_t i = 0; i < shown; ++i)
        std::printf("  note: %s\n", r.notes[i].c_str());
    if (r.notes.size() > shown) // the rest say the same of other tensors
        std::printf("  note: ... and %zu more tensors like these\n", r.notes.size() - shown);
}

} // namespace

int runInit(const Args &argv)
{
    ArgParser args("init", "--arch ARCH | --preset NAME [shape options] --out-gguf PATH | --out-hf DIR",
                   "Creates a model with random weights (normal(0, std) matrices, output projections scaled\n"
                   "by 1/sqrt(2 layers), norms 1 + small noise) from a fixed seed, and writes it as a GGUF\n"
                   "file llama.cpp reads and/or a Hugging Face folder (config.json + safetensors).");
    args.option("arch", "ARCH", "llama, mistral, qwen2 or qwen3 (starts from the tiny-ARCH preset)")
        .option("preset", "NAME", "tiny-llama, tiny-mistral, tiny-qwen2, tiny-qwen3, llama-150m, llama3-8b-shape, "
                                  "qwen3-0.6b-shape")
        .option("dim", "N", "hidden size")
        .option("layers", "N", "number of layers")
        .option("heads", "N", "attention heads")
        .option("kv-heads", "N", "key/value heads (GQA)")
        .option("head-dim", "N", "head dimension (default dim / heads)")
        .option("ffn", "N", "feed-forward size")
        .option("vocab", "N", "vocabulary size (default: the tokenizer's with --tokenizer-from)")
        .option("context", "N", "context length")
        .option("theta", "X", "RoPE base frequency")
        .option("eps", "X", "RMSNorm epsilon")
        .flag("tied", "tie the output head to the token embedding")
        .flag("untied", "separate output head")
        .option("seed", "N", "random seed", "0")
        .option("std", "X", "std of matrix entries", "0.02")
        .option("out-gguf", "PATH", "write a GGUF file here")
        .option("dtype", "TYPE", "GGUF matrix type: f32, f16, bf16, q8_0, q4_0, q4_k, q6_k", "f32")
        .option("tokenizer-from", "GGUF", "copy the tokenizer.* keys of this GGUF (default: a byte vocabulary)")
        .option("out-hf", "DIR", "write a Hugging Face folder here")
        .option("hf-dtype", "TYPE", "safetensors type: f32, f16, bf16", "f32")
        .option("shard-size", "SIZE", "shard the safetensors at about SIZE bytes (e.g. 500M)");
    if (!args.parse(argv))
        return 0;
    if (!args.has("out-gguf") && !args.has("out-hf"))
        throw UsageError("give --out-gguf PATH and/or --out-hf DIR");
    const DType ggufType = dtypeOption(args, "dtype",
                                       {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_1,
                                        DType::Q5_0, DType::Q5_1, DType::Q4_K, DType::Q5_K, DType::Q6_K});
    const DType hfType = dtypeOption(args, "hf-dtype", {DType::F32, DType::F16, DType::BF16});
    const int64_t shardBytes = args.has("shard-size") ? parseSize(args.value("shard-size")) : 0;
    InitOptions init;
    init.seed = args.u64Value("seed");
    init.stddev = float(args.doubleValue("std", 1e-6, 10.0));

    TokenizerFacts facts;
    if (args.has("tokenizer-from")) {
        // The vocab and special ids follow the tokenizer unless --vocab says otherwise.
        auto tok = GgufFile::open(args.value("tokenizer-from"));
        auto tokens = tok->getStringArray("tokenizer.ggml.tokens");
        if (!tokens)
            fail(args.value("tokenizer-from") + ": no tokenizer.ggml.tokens");
        facts.vocab = int(tokens->size());
        facts.bos = int(tok->getInt("tokenizer.ggml.bos_token_id").value_or(-1));
        facts.eos = int(tok->getInt("tokenizer.ggml.eos_token_id").value_or(-1));
    }
    const ModelConfig config = configFromArgs(args, facts);

    std::printf("init %s: dim %d, %d layers, %d heads (%d kv, head_dim %d), ffn %d, vocab %d, context %d, seed %llu\n",
                config.arch.c_str(), config.dim, config.nLayers, config.nHeads, config.nKvHeads, config.headDim,
                config.ffnDim, config.vocabSize, config.contextLength, (unsigned long long)init.seed);
    std::printf("parameters: %lld (%s)\n", (long long)config.parameterCount(),
                humanCount(double(config.parameterCount())).c_str());
    const auto t0 = std::chrono::steady_clock::now();
    const InitializedModel model = initModel(config, init);
    const Weights weights = model.views();
    spdlog::info("initialised in {:.2f} s",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (args.has("out-gguf")) {
        GgufWriteOptions o;
        o.weightType = ggufType;
        o.tokenizerFrom = args.value("tokenizer-from");
        printWritten("GGUF " + std::string(dtypeName(ggufType)), args.value("out-gguf"),
                     writeGgufModel(config, weights, args.value("out-gguf"), o));
    }
    if (args.has("out-hf")) {
        HfWriteOptions o;
        o.dtype = hfType;
        o.shardBytes = shardBytes;
        printWritten("Hugging Face folder " + std::string(dtypeName(hfType)), args.value("out-hf"),
                     writeHfModel(config, weights, args.value("out-hf"), o));
    }
    return 0;
}

} // namespace lathe::cli
