// writeGgufModel(): metadata under llama.cpp's key names (llama-arch.cpp's LLM_KV_*),
// matrices quantized row by row with quantizeRow, norms and biases F32.
#include "core/Error.h"
#include "core/Quant.h"
#include "model/ArchSpec.h"
#include "model/WeightNames.h"
#include "model/gguf/GgufFile.h"
#include "model/gguf/GgufWriter.h"
#include "model/write/ModelWriter.h"

#include <cstdio>

namespace lathe {

namespace {

// llama.cpp's fallback when a row is not a whole number of blocks (llama-quant.cpp).
DType compatibleType(DType wanted, int64_t cols)
{
    DType t = wanted;
    if (cols % dtypeInfo(t).blockSize != 0) {
        if (t == DType::Q4_K)
            t = DType::Q5_0;
        else if (t == DType::Q5_K)
            t = DType::Q5_1;
        else if (t == DType::Q6_K)
            t = DType::Q8_0;
    }
    if (cols % dtypeInfo(t).blockSize != 0)
        t = DType::F16;
    return t;
}

void copyTokenizer(GgufWriter &writer, const std::string &path, int vocabSize)
{
    withContext("tokenizer from " + path, [&] {
        std::shared_ptr<const GgufFile> src = GgufFile::open(path);
        const std::optional<std::vector<std::string>> tokens = src->getStringArray("tokenizer.ggml.tokens");
        if (!tokens)
            fail("no tokenizer.ggml.tokens");
        if (int64_t(tokens->size()) != vocabSize)
            fail("it has " + std::to_string(tokens->size()) + " tokens, the model's vocab_size is " +
                 std::to_string(vocabSize));
        for (const std::string &key : src->keys()) {
            if (key.rfind("tokenizer.", 0) != 0)
                continue;
            const GgufValue &v = *src->find(key);
            switch (v.type) {
            case GgufType::String: writer.setString(key, v.s); break;
            case GgufType::Bool: writer.setBool(key, v.b); break;
            case GgufType::F32:
            case GgufType::F64: writer.setF32(key, float(v.f)); break;
            case GgufType::U8:
            case GgufType::U16:
            case GgufType::U32: writer.setU32(key, uint32_t(v.u)); break;
            case GgufType::U64: writer.setU64(key, v.u); break;
            case GgufType::I8:
            case GgufType::I16:
            case GgufType::I32:
            case GgufType::I64: writer.setI32(key, int32_t(v.i)); break;
            case GgufType::Array:
                if (v.elementType == GgufType::String)
                    writer.setStringArray(key, v.strings);
                else if (v.elementType == GgufType::F32 || v.elementType == GgufType::F64)
                    writer.setF32Array(key, std::vector<float>(v.numbers.begin(), v.numbers.end()));
                else
                    writer.setI32Array(key, std::vector<int32_t>(v.ints.begin(), v.ints.end()));
                break;
            }
        }
    });
}

// A SentencePiece-style vocabulary of byte tokens only: every text encodes (by byte
// fallback) and decodes, so a random model can be prompted with text.
void writeByteVocab(GgufWriter &writer, const ModelConfig &config)
{
    constexpr int32_t kNormal = 1, kUnknown = 2, kControl = 3, kUnused = 5, kByte = 6;
    std::vector<std::string> tokens{"<unk>", "<s>", "</s>"};
    std::vector<int32_t> types{kUnknown, kControl, kControl};
    for (int b = 0; b < 256; ++b) {
        char piece[8];
        std::snprintf(piece, sizeof piece, "<0x%02X>", b);
        tokens.push_back(piece);
        types.push_back(kByte);
    }
    // A normal "▁" piece keeps SentencePiece tokenizers' space handling well defined.
    if (int(tokens.size()) < config.vocabSize) {
        tokens.push_back("\xe2\x96\x81");
        types.push_back(kNormal);
    }
    while (int(tokens.size()) < config.vocabSize) {
        tokens.push_back("<unused" + std::to_string(tokens.size()) + ">");
        types.push_back(kUnused);
    }
    writer.setString("tokenizer.ggml.model", "llama");
    writer.setStringArray("tokenizer.ggml.tokens", tokens);
    writer.setF32Array("tokenizer.ggml.scores", std::vector<float>(tokens.size(), 0.0f));
    writer.setI32Array("tokenizer.ggml.token_type", types);
    writer.setU32("tokenizer.ggml.unknown_token_id", 0);
    writer.setU32("tokenizer.ggml.bos_token_id", config.bosId >= 0 ? uint32_t(config.bosId) : 1u);
    writer.setU32("tokenizer.ggml.eos_token_id", config.eosId >= 0 ? uint32_t(config.eosId) : 2u);
    writer.setBool("tokenizer.ggml.add_bos_token", true);
    writer.setBool("tokenizer.ggml.add_eos_token", false);
}

void writeMetadata(GgufWriter &w, const ModelConfig &c, const std::string &arch, const GgufWriteOptions &o)
{
    w.setString("general.architecture", arch);
    w.setString("general.name", o.name);
    w.setU32("general.file_type", ggufFileType(o.weightType));
    if (dtypeInfo(o.weightType).quantized)
        w.setU32("general.quantization_version", 2);
    const std::string a = arch + ".";
    w.setU32(a + "vocab_size", uint32_t(c.vocabSize));
    w.setU32(a + "context_length", uint32_t(c.contextLength));
    w.setU32(a + "embedding_length", uint32_t(c.dim));
    w.setU32(a + "block_count", uint32_t(c.nLayers));
    w.setU32(a + "feed_forward_length", uint32_t(c.ffnDim));
    w.setU32(a + "attention.head_count", uint32_t(c.nHeads));
    w.setU32(a + "attention.head_count_kv", uint32_t(c.nKvHeads));
    w.setU32(a + "attention.key_length", uint32_t(c.headDim));
    w.setU32(a + "attention.value_length", uint32_t(c.headDim));
    w.setF32(a + "attention.layer_norm_rms_epsilon", c.normEps);
    w.setF32(a + "rope.freq_base", c.ropeTheta);
    w.setU32(a + "rope.dimension_count", uint32_t(c.ropeDim > 0 ? c.ropeDim : c.headDim));
    if (c.ropeScaling.kind == RopeScaling::Kind::Linear) {
        w.setString(a + "rope.scaling.type", "linear");
        w.setF32(a + "rope.scaling.factor", c.ropeScaling.factor);
    } else if (c.ropeScaling.kind == RopeScaling::Kind::Llama3) {
        // llama.cpp carries llama3 scaling as a rope_freqs tensor; not written (yet).
        fail("llama3 rope scaling cannot be written to GGUF yet");
    }
}

} // namespace

WriteReport writeGgufModel(const ModelConfig &config, const Weights &weights, const std::string &path,
                           const GgufWriteOptions &options)
{
    return withContext("writing " + path, [&] {
        config.validate();
        validateWeights(config, weights);
        const ArchSpec *spec = findArch(config.arch);
        // Mistral has no GGUF name of its own: llama.cpp writes it as llama.
        const std::string arch = spec->ggufNames.empty() ? std::string("llama") : spec->ggufNames.front();
        const RopeLayout target = spec->ggufNames.empty() ? RopeLayout::Interleaved : spec->ggufRopeLayout;
        const DType want = options.weightType;
        if (want == DType::I32 || want == DType::NF4 || want == DType::Q8_K)
            fail(std::string("type ") + dtypeName(want) + " cannot be used for GGUF weights");

        GgufWriter writer;
        writeMetadata(writer, config, arch, options);
        if (!options.tokenizerFrom.empty())
            copyTokenizer(writer, options.tokenizerFrom, config.vocabSize);
        else if (config.vocabSize >= 260)
            writeByteVocab(writer, config);
        else // llama.cpp's marker for a model without a vocabulary
            writer.setString("tokenizer.ggml.model", "none");

        WriteReport report;
        for (const ExpectedTensor &e : expectedTensors(config)) {
            const TensorView &t = weights.get(e.name);
            const std::vector<float> values = detail::tensorAsF32(config, t, target);
            const int64_t cols = t.cols(), rows = t.rows();
            DType type = e.isNormOrBias ? DType::F32 : compatibleType(want, cols);
            if (!e.isNormOrBias && type != want)
                report.notes.push_back(e.name + ": rows of " + std::to_string(cols) + " are not whole " +
                                       dtypeName(want) + " blocks, written as " + dtypeName(type));
            const size_t rb = rowBytes(type, cols);
            std::vector<uint8_t> bytes(rb * size_t(rows));
            for (int64_t r = 0; r < rows; ++r)
                quantizeRow(type, values.data() + r * cols, bytes.data() + size_t(r) * rb, cols);
            writer.addTensor(e.name, type, t.shape, bytes.data(), bytes.size());
            report.tensorTypes[e.name] = type;
            report.tensorBytes += int64_t(bytes.size());
        }
        writer.write(path);
        return report;
    });
}

WriteReport writeGgufModel(const ModelConfig &config, const Weights &weights, const std::string &path,
                           DType weightType)
{
    GgufWriteOptions options;
    options.weightType = weightType;
    return writeGgufModel(config, weights, path, options);
}

} // namespace lathe
