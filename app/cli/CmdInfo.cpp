// lathe-cli info: what a model is and what it costs to run. Works on a model file or
// folder, or on a preset (--preset llama3-8b-shape) for planning without the weights.
#include "CliCommon.h"
#include "Commands.h"
#include "model/WeightNames.h"
#include "model/write/ModelPresets.h"

#include <cstdio>
#include <optional>

namespace lathe::cli {

namespace {

void printConfig(const ModelConfig &c)
{
    std::printf("architecture:      %s\n", c.arch.c_str());
    std::printf("vocab_size:        %d\n", c.vocabSize);
    std::printf("dim:               %d\n", c.dim);
    std::printf("n_layers:          %d\n", c.nLayers);
    std::printf("n_heads:           %d\n", c.nHeads);
    std::printf("n_kv_heads:        %d\n", c.nKvHeads);
    std::printf("head_dim:          %d\n", c.headDim);
    std::printf("ffn_dim:           %d\n", c.ffnDim);
    std::printf("context_length:    %d\n", c.contextLength);
    std::printf("norm_eps:          %g\n", double(c.normEps));
    std::printf("rope_theta:        %g\n", double(c.ropeTheta));
    std::printf("rope_dim:          %d\n", c.ropeDim);
    std::printf("rope_layout:       %s\n", ropeLayoutName(c.ropeLayout).c_str());
    const char *scaling = c.ropeScaling.kind == RopeScaling::Kind::None     ? "none"
                          : c.ropeScaling.kind == RopeScaling::Kind::Linear ? "linear"
                                                                            : "llama3";
    std::printf("rope_scaling:      %s", scaling);
    if (c.ropeScaling.kind != RopeScaling::Kind::None)
        std::printf(" (factor %g)", double(c.ropeScaling.factor));
    std::printf("\n");
    std::printf("tied_embeddings:   %s\n", c.tiedEmbeddings ? "yes" : "no");
    std::printf("qkv_bias:          %s\n", c.qkvBias ? "yes" : "no");
    std::printf("qk_norm:           %s\n", c.qkNorm ? "yes" : "no");
    std::printf("bos_id:            %d\n", c.bosId);
    std::printf("eos_id:            %d\n", c.eosId);
    std::printf("stop_ids:         ");
    for (int id : c.stopIds)
        std::printf(" %d", id);
    std::printf("%s\n", c.stopIds.empty() ? " (none)" : "");
}

// Activations of one forward pass of T tokens (f32): the residual, the normed copy,
// q/k/v, attention output, gate and up, and the last token's logits.
int64_t activationBytes(const ModelConfig &c, int64_t T)
{
    const int64_t q = int64_t(c.nHeads) * c.headDim, kv = int64_t(c.nKvHeads) * c.headDim;
    return 4 * (T * (2 * int64_t(c.dim) + 2 * q + 2 * kv + 2 * int64_t(c.ffnDim) + c.dim) + c.vocabSize);
}

void printMemory(const ModelConfig &c, int64_t weightBytes, int64_t ctx)
{
    const int64_t kv32 = c.kvBytesPerPosition(4), kv16 = c.kvBytesPerPosition(2);
    std::printf("kv_bytes_per_token: %lld (f32), %lld (f16)\n", (long long)kv32, (long long)kv16);
    std::printf("kv_bytes_context:  %s (f32), %s (f16) for %lld tokens\n", humanBytes(double(kv32 * ctx)).c_str(),
                humanBytes(double(kv16 * ctx)).c_str(), (long long)ctx);
    const int64_t act = activationBytes(c, 512);
    std::printf("estimated_memory:  %s = weights %s + f32 KV cache %s + activations %s (512-token batches)\n",
                humanBytes(double(weightBytes + kv32 * ctx + act)).c_str(), humanBytes(double(weightBytes)).c_str(),
                humanBytes(double(kv32 * ctx)).c_str(), humanBytes(double(act)).c_str());
}

} // namespace

int runInfo(const Args &argv)
{
    ArgParser args("info", "[MODEL] [--preset NAME [--dtype TYPE]] [--ctx N]",
                   "Describes a model: format, architecture, every config field, parameter count, tensor\n"
                   "count and types, bytes of weights, KV-cache bytes per token and for the context, and\n"
                   "the memory needed to run it. MODEL is a GGUF file, a Hugging Face folder or a llama2.c\n"
                   ".bin; with --preset, the numbers are computed from a built-in shape instead.");
    args.positional("MODEL", "model file or folder", false)
        .option("preset", "NAME", "describe a built-in shape instead of a file")
        .option("dtype", "TYPE", "weight type assumed for --preset (f32, f16, bf16, q8_0, q4_0, q4_k, q6_k)", "f16")
        .option("ctx", "N", "context length for the KV-cache figures (0: the model's)", "0");
    if (!args.parse(argv))
        return 0;
    const std::string path = args.positionalValue(0);
    if (path.empty() == !args.has("preset"))
        throw UsageError("give either a MODEL path or --preset NAME");
    const int64_t ctxArg = args.intValue("ctx", 0, 1 << 24);

    if (args.has("preset")) {
        std::optional<ModelConfig> c = modelPreset(args.value("preset"));
        if (!c)
            throw UsageError("unknown preset '" + args.value("preset") + "'");
        std::optional<DType> dtype = dtypeFromName(args.value("dtype"));
        if (!dtype || *dtype == DType::I32)
            throw UsageError("unknown --dtype '" + args.value("dtype") + "'");
        // Matrices in dtype, norms in F32: the same split the GGUF writer makes.
        const int64_t params = c->parameterCount();
        int64_t vectors = 0;
        for (const ExpectedTensor &e : expectedTensors(*c))
            if (e.isNormOrBias)
                vectors += e.shape.front();
        const DTypeInfo &di = dtypeInfo(*dtype);
        const int64_t bytes = (params - vectors) * di.blockBytes / di.blockSize + vectors * 4;
        std::printf("preset:            %s\n", args.value("preset").c_str());
        printConfig(*c);
        std::printf("parameters:        %lld (%s)\n", (long long)params, humanCount(double(params)).c_str());
        std::printf("weight_bytes:      %s (%s matrices, F32 norms)\n", humanBytes(double(bytes)).c_str(),
                    dtypeName(*dtype));
        printMemory(*c, bytes, ctxArg > 0 ? ctxArg : c->contextLength);
        return 0;
    }

    std::shared_ptr<const LoadedModel> model = openModel(path);
    const ModelConfig &c = model->config;
    const WeightStats s = weightStats(c, model->weights);
    std::printf("file:              %s\n", path.c_str());
    std::printf("format:            %s\n", modelFormatName(model->format));
    printConfig(c);
    std::printf("parameters:        %lld (%s)\n", (long long)s.parameters, humanCount(double(s.parameters)).c_str());
    std::printf("tensors:           %lld\n", (long long)s.tensorCount);
    for (const auto &[type, count] : s.typeCounts)
        std::printf("  %-8s %5lld tensors  %s\n", type.c_str(), (long long)count,
                    humanBytes(double(s.typeBytes.at(type))).c_str());
    std::printf("weight_bytes:      %lld (%s)\n", (long long)s.weightBytes, humanBytes(double(s.weightBytes)).c_str());
    std::printf("bytes_per_decoded_token: %s\n", humanBytes(double(s.bytesPerDecodedToken)).c_str());
    printMemory(c, s.weightBytes, ctxArg > 0 ? ctxArg : c.contextLength);
    return 0;
}

} // namespace lathe::cli
