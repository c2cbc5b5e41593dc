// What init writes, byte for byte: the random weights are reproducible and shaped as
// asked; the GGUF holds llama.cpp's metadata keys and exactly the bytes quantizeRow
// makes of the (permuted) weights, with llama.cpp's type fallbacks; the HF folder holds
// HF names, config.json fields and F16/BF16 bytes, sharded on request. The permutation
// itself is checked against llama.cpp: its converter turned the rotate-half HF weights
// of random_llama_d256 into GGUF files, and ours must hold the same bytes.
#include "core/Error.h"
#include "core/Half.h"
#include "core/Quant.h"
#include "model/LoadedModel.h"
#include "model/WeightNames.h"
#include "model/gguf/GgufFile.h"
#include "model/hf/SafetensorsFile.h"
#include "model/write/ModelInit.h"
#include "model/write/ModelPresets.h"
#include "model/write/ModelWriter.h"

#include "Fixtures.h"

#include <QtTest>
#include <cmath>
#include <cstring>
#include <filesystem>

using namespace lathe;

namespace {

// numpy's w.reshape(H, 2, D/2, C).swapaxes(1, 2): element [h, i, s, c] of the result
// is element [h, s, i, c] of w. Written from the numpy expression, independently of
// the writer's row formula.
std::vector<float> llamaCppPermute(const std::vector<float> &w, int heads, int headDim, int64_t cols)
{
    std::vector<float> out(w.size());
    const int half = headDim / 2;
    for (int h = 0; h < heads; ++h)
        for (int i = 0; i < half; ++i)
            for (int s = 0; s < 2; ++s)
                for (int64_t c = 0; c < cols; ++c) {
                    const size_t dst = ((size_t(h) * half + i) * 2 + s) * cols + c;
                    const size_t src = ((size_t(h) * 2 + s) * half + i) * cols + c;
                    out[dst] = w[src];
                }
    return out;
}

std::vector<uint8_t> quantized(DType t, const std::vector<float> &values, int64_t cols)
{
    const int64_t rows = int64_t(values.size()) / cols;
    std::vector<uint8_t> out(rowBytes(t, cols) * size_t(rows));
    for (int64_t r = 0; r < rows; ++r)
        quantizeRow(t, values.data() + r * cols, out.data() + size_t(r) * rowBytes(t, cols), cols);
    return out;
}

bool sameBytes(const TensorView &t, const std::vector<uint8_t> &want)
{
    return t.bytes == want.size() && std::memcmp(t.data, want.data(), want.size()) == 0;
}

} // namespace

class TestInitFiles : public QObject
{
    Q_OBJECT

private slots:
    void reproducibleAndScaled()
    {
        const ModelConfig c = *modelPreset("tiny-llama");
        InitOptions o;
        o.seed = 11;
        const InitializedModel a = initModel(c, o), b = initModel(c, o);
        o.seed = 12;
        const InitializedModel other = initModel(c, o);
        QCOMPARE(a.tensors.size(), expectedTensors(c).size());
        QCOMPARE(a.parameterCount(), c.parameterCount());
        QVERIFY(a.tensors.at("blk.0.attn_q.weight").data == b.tensors.at("blk.0.attn_q.weight").data);
        QVERIFY(a.tensors.at("blk.0.attn_q.weight").data != other.tensors.at("blk.0.attn_q.weight").data);

        // 65536 normals: the sample std is within ~0.3% of the true one (1 sigma), so 3%
        // is a wide margin that still catches a wrong scale or a uniform draw.
        const std::vector<float> &e = a.tensors.at("token_embd.weight").data;
        double sum = 0, sq = 0, kurt = 0;
        for (float x : e) {
            sum += x;
            sq += double(x) * x;
        }
        const double mean = sum / double(e.size()), sd = std::sqrt(sq / double(e.size()) - mean * mean);
        for (float x : e)
            kurt += std::pow((x - mean) / sd, 4);
        kurt /= double(e.size());
        QVERIFY(std::abs(mean) < 0.02 * 0.03);
        QVERIFY(std::abs(sd - 0.02) < 0.02 * 0.03);
        QVERIFY(std::abs(kurt - 3.0) < 0.15); // normal: 3; uniform would be 1.8
        // Residual projections are scaled by 1/sqrt(2 * layers) = 1/2 for two layers.
        const std::vector<float> &down = a.tensors.at("blk.1.ffn_down.weight").data;
        double dsq = 0;
        for (float x : down)
            dsq += double(x) * x;
        QVERIFY(std::abs(std::sqrt(dsq / double(down.size())) - 0.01) < 0.01 * 0.05);
        // Norms near 1 but not all equal (a swapped norm must change the output).
        const std::vector<float> &n0 = a.tensors.at("blk.0.attn_norm.weight").data;
        const std::vector<float> &n1 = a.tensors.at("blk.0.ffn_norm.weight").data;
        QVERIFY(n0 != n1);
        for (float x : n0)
            QVERIFY(x > 0.7f && x < 1.3f);
    }

    void ggufBytesAndMetadata_data()
    {
        QTest::addColumn<QString>("type");
        QTest::newRow("f32") << "f32";
        QTest::newRow("f16") << "f16";
        QTest::newRow("q8_0") << "q8_0";
        QTest::newRow("q4_0") << "q4_0";
        QTest::newRow("q4_k") << "q4_k";
    }
    void ggufBytesAndMetadata()
    {
        QFETCH(QString, type);
        const DType want = *dtypeFromName(type.toStdString());
        QTemporaryDir dir;
        const ModelConfig c = *modelPreset("tiny-llama"); // dim 128, ffn 256
        InitOptions o;
        o.seed = 3;
        const InitializedModel init = initModel(c, o);
        const std::string path = test::tempPath(dir, "m.gguf").toStdString();
        writeGgufModel(c, init.views(), path, want);

        auto g = GgufFile::open(path);
        QCOMPARE(g->getString("general.architecture").value_or(""), std::string("llama"));
        QCOMPARE(g->getInt("llama.embedding_length").value_or(0), int64_t(128));
        QCOMPARE(g->getInt("llama.block_count").value_or(0), int64_t(2));
        QCOMPARE(g->getInt("llama.feed_forward_length").value_or(0), int64_t(256));
        QCOMPARE(g->getInt("llama.attention.head_count").value_or(0), int64_t(4));
        QCOMPARE(g->getInt("llama.attention.head_count_kv").value_or(0), int64_t(2));
        QCOMPARE(g->getInt("llama.rope.dimension_count").value_or(0), int64_t(32));
        QCOMPARE(g->getInt("llama.context_length").value_or(0), int64_t(256));
        QCOMPARE(float(g->getFloat("llama.attention.layer_norm_rms_epsilon").value_or(0)), 1e-5f);
        QCOMPARE(float(g->getFloat("llama.rope.freq_base").value_or(0)), 10000.0f);
        // llama.cpp's LLAMA_FTYPE numbers (llama.h): F32 0, F16 1, Q4_0 2, Q8_0 7, Q4_K_S 14.
        const std::map<QString, int64_t> ftype{{"f32", 0}, {"f16", 1}, {"q8_0", 7}, {"q4_0", 2}, {"q4_k", 14}};
        QCOMPARE(g->getInt("general.file_type").value_or(-1), ftype.at(type));
        QCOMPARE(g->getStringArray("tokenizer.ggml.tokens").value_or(std::vector<std::string>{}).size(), size_t(512));
        QCOMPARE(g->tensors().size(), init.tensors.size());

        for (const auto &[name, t] : init.tensors) {
            const TensorView *v = g->tensor(name);
            QVERIFY2(v, name.c_str());
            QCOMPARE(v->shape, t.shape);
            const int64_t cols = t.shape.back();
            std::vector<float> values = t.data;
            if (name.find("attn_q.weight") != std::string::npos)
                values = llamaCppPermute(values, c.nHeads, c.headDim, cols);
            if (name.find("attn_k.weight") != std::string::npos)
                values = llamaCppPermute(values, c.nKvHeads, c.headDim, cols);
            DType expect = want;
            if (t.shape.size() == 1)
                expect = DType::F32; // norms stay F32 whatever the file type
            else if (want == DType::Q4_K && cols % 256 != 0)
                expect = DType::Q5_0; // llama.cpp's fallback for rows that are not whole super-blocks
            QCOMPARE(int(v->dtype), int(expect));
            QVERIFY2(sameBytes(*v, quantized(expect, values, cols)), name.c_str());
        }
    }

    void hfFolder_data()
    {
        QTest::addColumn<QString>("type");
        QTest::addColumn<bool>("sharded");
        QTest::newRow("f16") << "f16" << false;
        QTest::newRow("bf16 sharded") << "bf16" << true;
    }
    void hfFolder()
    {
        QFETCH(QString, type);
        QFETCH(bool, sharded);
        const DType dtype = *dtypeFromName(type.toStdString());
        QTemporaryDir dir;
        const ModelConfig c = *modelPreset("tiny-qwen3");
        const InitializedModel init = initModel(c, {});
        const std::string folder = test::tempPath(dir, "hf").toStdString();
        HfWriteOptions o;
        o.dtype = dtype;
        o.shardBytes = sharded ? 200000 : 0; // the 512x128 embedding alone is 131072 bytes
        writeHfModel(c, init.views(), folder, o);

        const nlohmann::json cfg = test::readJson(folder + "/config.json");
        QCOMPARE(cfg["model_type"].get<std::string>(), std::string("qwen3"));
        QCOMPARE(cfg["architectures"][0].get<std::string>(), std::string("Qwen3ForCausalLM"));
        QCOMPARE(cfg["hidden_size"].get<int>(), 128);
        QCOMPARE(cfg["head_dim"].get<int>(), 64);
        QCOMPARE(cfg["num_key_value_heads"].get<int>(), 2);
        QCOMPARE(cfg["intermediate_size"].get<int>(), 384);
        QCOMPARE(cfg["rope_theta"].get<double>(), 1e6);
        QCOMPARE(cfg["rms_norm_eps"].get<double>(), 1e-6);
        QCOMPARE(cfg["tie_word_embeddings"].get<bool>(), false);
        QCOMPARE(cfg["torch_dtype"].get<std::string>(), std::string(type == "f16" ? "float16" : "bfloat16"));
        QVERIFY(std::filesystem::exists(folder + "/generation_config.json"));

        // Gather the tensors from the single file or from the shards the index names.
        std::map<std::string, std::shared_ptr<const SafetensorsFile>> files;
        std::map<std::string, std::string> where;
        if (sharded) {
            QVERIFY(!std::filesystem::exists(folder + "/model.safetensors"));
            const nlohmann::json index = test::readJson(folder + "/model.safetensors.index.json");
            for (const auto &[name, file] : index["weight_map"].items())
                where[name] = file.get<std::string>();
            QCOMPARE(where.size(), init.tensors.size()); // the index names every tensor
        }
        auto fileFor = [&](const std::string &hfName) {
            const std::string f = sharded ? where.at(hfName) : "model.safetensors";
            if (!files.count(f))
                files[f] = SafetensorsFile::open(folder + "/" + f);
            return files[f];
        };
        const std::map<std::string, std::string> names{
            {"token_embd.weight", "model.embed_tokens.weight"},
            {"output.weight", "lm_head.weight"},
            {"output_norm.weight", "model.norm.weight"},
            {"blk.1.attn_q.weight", "model.layers.1.self_attn.q_proj.weight"},
            {"blk.1.attn_k_norm.weight", "model.layers.1.self_attn.k_norm.weight"},
            {"blk.0.ffn_norm.weight", "model.layers.0.post_attention_layernorm.weight"},
            {"blk.0.ffn_down.weight", "model.layers.0.mlp.down_proj.weight"},
        };
        for (const auto &[canonical, hfName] : names) {
            const TensorView *v = fileFor(hfName)->tensor(hfName);
            QVERIFY2(v, hfName.c_str());
            QCOMPARE(int(v->dtype), int(dtype));
            const std::vector<float> &src = init.tensors.at(canonical).data;
            QCOMPARE(v->shape, init.tensors.at(canonical).shape);
            const uint16_t *bits = static_cast<const uint16_t *>(v->data);
            for (size_t i = 0; i < src.size(); ++i) // HF keeps rotate-half rows: no permutation
                QCOMPARE(bits[i], dtype == DType::F16 ? f32ToF16(src[i]) : f32ToBf16(src[i]));
        }
        if (sharded)
            QVERIFY(files.size() >= 2);
        const LoadedModel back = loadModel(folder);
        QCOMPARE(back.weights.count(), init.tensors.size());
    }

    void sameBytesAsLlamaCpp_data()
    {
        QTest::addColumn<QString>("type");
        QTest::newRow("F32") << "F32";
        QTest::newRow("F16") << "F16";
        QTest::newRow("Q8_0") << "Q8_0";
        QTest::newRow("Q4_0") << "Q4_0";
    }
    void sameBytesAsLlamaCpp()
    {
        // random_llama_d256: llama.cpp converted these weights (rotate-half, F16 values in
        // the HF folder) into GGUF files and quantized them. Writing the HF weights as GGUF
        // must reproduce llama.cpp's bytes exactly: every q/k row permuted where its
        // converter put it, the same f16 rounding, the same Q8_0/Q4_0 blocks. (llama.cpp's
        // Q4_0 recipe stores output.weight as Q6_K; tensors of another type are skipped.)
        QFETCH(QString, type);
        const DType dtype = *dtypeFromName(type.toStdString());
        const std::string base = test::fixture("golden/random_llama_d256/");
        const LoadedModel hf = loadModel(base + "hf");
        QTemporaryDir dir;
        const std::string path = test::tempPath(dir, "ours.gguf").toStdString();
        writeGgufModel(hf.config, hf.weights, path, dtype);
        auto ours = GgufFile::open(path);
        auto theirs = GgufFile::open(base + "models/random_llama_d256-" + type.toStdString() + ".gguf");
        QCOMPARE(ours->tensors().size(), theirs->tensors().size());
        int compared = 0;
        for (const TensorView &t : theirs->tensors()) {
            const TensorView *o = ours->tensor(t.name);
            QVERIFY2(o, t.name.c_str());
            QCOMPARE(o->shape, t.shape);
            if (t.shape.size() > 1 && t.dtype != dtype)
                continue;
            QCOMPARE(int(o->dtype), int(t.dtype));
            QVERIFY2(o->bytes == t.bytes && std::memcmp(o->data, t.data, t.bytes) == 0, t.name.c_str());
            ++compared;
        }
        QVERIFY(compared >= int(theirs->tensors().size()) - 1);
        for (const char *key : {"llama.embedding_length", "llama.block_count", "llama.feed_forward_length",
                                "llama.attention.head_count", "llama.attention.head_count_kv",
                                "llama.rope.dimension_count"})
            QCOMPARE(ours->getInt(key).value_or(-1), theirs->getInt(key).value_or(-2));
        if (theirs->has("general.file_type")) // llama2c-converted F32 files have none
            QCOMPARE(ours->getInt("general.file_type"), theirs->getInt("general.file_type"));
        QCOMPARE(ours->getString("general.architecture"), theirs->getString("general.architecture"));
    }

    void tokenizerCopiedOrSynthesised()
    {
        // --tokenizer-from: every tokenizer.* key of the source GGUF arrives unchanged.
        const std::string source = test::fixture("models/stories260K/stories260Ktok512.gguf");
        auto src = GgufFile::open(source);
        const ModelConfig c = *modelPreset("tiny-llama"); // vocab 512, as stories260K's
        const InitializedModel init = initModel(c, {});
        QTemporaryDir dir;
        const std::string path = test::tempPath(dir, "tok.gguf").toStdString();
        GgufWriteOptions o;
        o.tokenizerFrom = source;
        writeGgufModel(c, init.views(), path, o);
        auto out = GgufFile::open(path);
        int copied = 0;
        for (const std::string &key : src->keys()) {
            if (key.rfind("tokenizer.", 0) != 0)
                continue;
            ++copied;
            const GgufValue *a = src->find(key), *b = out->find(key);
            QVERIFY2(b, key.c_str());
            QCOMPARE(a->s, b->s);
            QCOMPARE(a->strings, b->strings);
            QCOMPARE(a->numbers, b->numbers);
            QCOMPARE(a->ints, b->ints);
            QCOMPARE(a->u + uint64_t(a->i), b->u + uint64_t(b->i));
        }
        QVERIFY(copied >= 5); // model, tokens, scores, token_type, bos/eos ids
        // A tokenizer of another size is refused, naming the mismatch.
        ModelConfig wide = c;
        wide.vocabSize = 600;
        const InitializedModel wideInit = initModel(wide, {});
        try {
            writeGgufModel(wide, wideInit.views(), test::tempPath(dir, "bad.gguf").toStdString(), o);
            QFAIL("a 512-token tokenizer was accepted for a 600-token model");
        } catch (const Error &e) {
            QVERIFY2(QString(e.what()).contains("512"), e.what());
        }

        // Without one: a byte vocabulary, so every text has an encoding (llama.cpp's SPM
        // reading: <unk>, <s>, </s>, then the 256 <0xXX> byte pieces).
        const std::string plain = test::tempPath(dir, "plain.gguf").toStdString();
        writeGgufModel(c, init.views(), plain, DType::F32);
        auto p = GgufFile::open(plain);
        QCOMPARE(p->getString("tokenizer.ggml.model").value_or(""), std::string("llama"));
        const std::vector<std::string> tokens = p->getStringArray("tokenizer.ggml.tokens").value();
        QCOMPARE(tokens.size(), size_t(512));
        QCOMPARE(tokens[1], std::string("<s>"));
        QCOMPARE(tokens[2], std::string("</s>"));
        QCOMPARE(tokens[3], std::string("<0x00>"));
        QCOMPARE(tokens[3 + 0x41], std::string("<0x41>"));
        QCOMPARE(p->getInt("tokenizer.ggml.bos_token_id").value_or(-1), int64_t(1));
        QCOMPARE(p->getInt("tokenizer.ggml.eos_token_id").value_or(-1), int64_t(2));
        QCOMPARE(p->getIntArray("tokenizer.ggml.token_type").value().size(), size_t(512));
    }

    void rejectsBadRequests()
    {
        const ModelConfig c = *modelPreset("tiny-llama");
        const InitializedModel init = initModel(c, {});
        QTemporaryDir dir;
        QVERIFY_THROWS_EXCEPTION(Error, writeHfModel(c, init.views(), test::tempPath(dir, "x").toStdString(),
                                                     DType::Q8_0));
        QVERIFY_THROWS_EXCEPTION(Error, writeGgufModel(c, init.views(), test::tempPath(dir, "x.gguf").toStdString(),
                                                       DType::NF4));
        ModelConfig bad = c;
        bad.nKvHeads = 3; // does not divide 4 heads
        QVERIFY_THROWS_EXCEPTION(Error, initModel(bad, {}));
        // Weights that do not match the config are refused before anything is written.
        ModelConfig bigger = c;
        bigger.nLayers = 3;
        QVERIFY_THROWS_EXCEPTION(Error, writeGgufModel(bigger, init.views(),
                                                       test::tempPath(dir, "y.gguf").toStdString(), DType::F32));
        QVERIFY(!std::filesystem::exists(test::tempPath(dir, "y.gguf").toStdString()));
    }
};

QTEST_GUILESS_MAIN(TestInitFiles)
#include "tst_init_files.moc"
