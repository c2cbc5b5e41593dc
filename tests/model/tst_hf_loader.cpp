// Hugging Face folders: the real fixture folder (config checked against its
// config.json as read here, independently of our parser), and tiny folders built
// with SafetensorsWriter, each broken in one way, whose errors must name the file and
// the field or tensor at fault.
#include "Fixtures.h"

#include "core/Error.h"
#include "model/LoadedModel.h"
#include "model/hf/SafetensorsWriter.h"

#include <QtTest>
#include <fstream>

using namespace lathe;
using nlohmann::json;

namespace {

// dim 8, 1 layer, 2 heads of 4, 1 KV head, ffn 16, vocab 10.
json tinyConfig()
{
    return {{"model_type", "llama"},    {"hidden_size", 8},         {"num_hidden_layers", 1},
            {"num_attention_heads", 2}, {"num_key_value_heads", 1}, {"intermediate_size", 16},
            {"vocab_size", 10},         {"max_position_embeddings", 64}, {"rms_norm_eps", 1e-6},
            {"tie_word_embeddings", false}, {"bos_token_id", 1}, {"eos_token_id", 2}};
}

std::map<std::string, std::vector<int64_t>> tinyTensors()
{
    const std::string b = "model.layers.0.";
    return {{"model.embed_tokens.weight", {10, 8}},
            {"model.norm.weight", {8}},
            {"lm_head.weight", {10, 8}},
            {b + "input_layernorm.weight", {8}},
            {b + "post_attention_layernorm.weight", {8}},
            {b + "self_attn.q_proj.weight", {8, 8}},
            {b + "self_attn.k_proj.weight", {4, 8}},
            {b + "self_attn.v_proj.weight", {4, 8}},
            {b + "self_attn.o_proj.weight", {8, 8}},
            {b + "mlp.gate_proj.weight", {16, 8}},
            {b + "mlp.up_proj.weight", {16, 8}},
            {b + "mlp.down_proj.weight", {8, 16}}};
}

SafetensorsWriter writerFor(const std::map<std::string, std::vector<int64_t>> &tensors)
{
    SafetensorsWriter w;
    for (const auto &[name, shape] : tensors) {
        int64_t n = 1;
        for (int64_t d : shape)
            n *= d;
        const std::vector<float> data(size_t(n), 0.5f);
        w.addTensor(name, DType::F32, shape, data.data(), data.size() * 4);
    }
    return w;
}

void writeText(const std::string &path, const std::string &text)
{
    std::ofstream(path, std::ios::binary) << text;
}

} // namespace

class TestHfLoader : public QObject
{
    Q_OBJECT
private:
    int m_case = 0;
    QTemporaryDir m_root;

    // A fresh folder holding the given config and tensors.
    std::string makeFolder(const json &config, const std::map<std::string, std::vector<int64_t>> &tensors)
    {
        const std::string dir = m_root.filePath(QString("case%1").arg(++m_case)).toStdString();
        QDir().mkpath(QString::fromStdString(dir));
        writeText(dir + "/config.json", config.dump());
        writerFor(tensors).write(dir + "/model.safetensors");
        return dir;
    }

    static void expectError(const std::string &folder, std::initializer_list<const char *> substrings)
    {
        try {
            loadHfModel(folder);
            QFAIL("loaded without error");
        } catch (const Error &e) {
            const std::string msg = e.what();
            QVERIFY2(msg.find(folder) != std::string::npos, e.what());
            for (const char *s : substrings)
                QVERIFY2(msg.find(s) != std::string::npos, e.what());
        }
    }

private slots:
    void fixtureFolder()
    {
        const std::string folder = test::fixture("golden/random_llama_d256/hf");
        const json cfg = test::readJson(folder + "/config.json");
        const LoadedModel m = loadHfModel(folder);
        const ModelConfig &c = m.config;
        QCOMPARE(m.format, ModelFormat::HfFolder);
        QCOMPARE(c.arch, std::string("llama"));
        QCOMPARE(c.dim, cfg["hidden_size"].get<int>());
        QCOMPARE(c.nLayers, cfg["num_hidden_layers"].get<int>());
        QCOMPARE(c.nHeads, cfg["num_attention_heads"].get<int>());
        QCOMPARE(c.nKvHeads, cfg["num_key_value_heads"].get<int>());
        QCOMPARE(c.headDim, cfg["head_dim"].get<int>());
        QCOMPARE(c.ffnDim, cfg["intermediate_size"].get<int>());
        QCOMPARE(c.vocabSize, cfg["vocab_size"].get<int>());
        QCOMPARE(c.contextLength, cfg["max_position_embeddings"].get<int>());
        QCOMPARE(c.normEps, cfg["rms_norm_eps"].get<float>());
        QCOMPARE(c.ropeTheta, cfg["rope_theta"].get<float>());
        QCOMPARE(c.tiedEmbeddings, cfg["tie_word_embeddings"].get<bool>());
        QCOMPARE(c.bosId, cfg["bos_token_id"].get<int>());
        QCOMPARE(c.eosId, cfg["eos_token_id"].get<int>());
        QCOMPARE(c.stopIds, std::vector<int>{2});
        QCOMPARE(c.ropeLayout, RopeLayout::RotateHalf);
        QCOMPARE(c.ropeScaling.kind, RopeScaling::Kind::None);
        QVERIFY(!c.qkvBias);
        QCOMPARE(m.weights.count(), size_t(3 + 4 * 9));
        QCOMPARE(m.weights.get("output.weight").shape, (std::vector<int64_t>{512, 256}));
        QCOMPARE(m.weights.get("blk.3.attn_k.weight").shape, (std::vector<int64_t>{64, 256}));
        QCOMPARE(m.weights.get("blk.2.ffn_down.weight").shape, (std::vector<int64_t>{256, 768}));
        QCOMPARE(m.weights.get("blk.2.ffn_down.weight").dtype, DType::F16);
    }

    void tinyFolderAndOptionalFields()
    {
        json cfg = tinyConfig();
        cfg["eos_token_id"] = json::array({2, 7});
        cfg["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                               {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 32}};
        cfg["rope_theta"] = 500000.0;
        const std::string dir = makeFolder(cfg, tinyTensors());
        writeText(dir + "/generation_config.json", R"({"eos_token_id": [2, 9], "bos_token_id": 1})");
        const LoadedModel m = loadHfModel(dir);
        QCOMPARE(m.config.headDim, 4); // defaults to hidden / heads
        QCOMPARE(m.config.eosId, 2);
        QCOMPARE(m.config.stopIds, (std::vector<int>{2, 7, 9}));
        QCOMPARE(m.config.ropeTheta, 500000.0f);
        QCOMPARE(m.config.ropeScaling.kind, RopeScaling::Kind::Llama3);
        QCOMPARE(m.config.ropeScaling.factor, 8.0f);
        QCOMPARE(m.config.ropeScaling.originalContext, 32);
        QVERIFY(!m.config.tiedEmbeddings);
    }

    void linearScalingAndKvDefault()
    {
        json cfg = tinyConfig();
        cfg.erase("num_key_value_heads");
        cfg["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
        auto t = tinyTensors();
        t["model.layers.0.self_attn.k_proj.weight"] = {8, 8};
        t["model.layers.0.self_attn.v_proj.weight"] = {8, 8};
        const LoadedModel m = loadHfModel(makeFolder(cfg, t));
        QCOMPARE(m.config.nKvHeads, 2);
        QCOMPARE(m.config.ropeScaling.kind, RopeScaling::Kind::Linear);
        QCOMPARE(m.config.ropeScaling.factor, 2.0f);
    }

    void tiedEmbeddings()
    {
        json cfg = tinyConfig();
        cfg["tie_word_embeddings"] = true;
        auto t = tinyTensors();
        t.erase("lm_head.weight");
        const LoadedModel m = loadHfModel(makeFolder(cfg, t));
        QVERIFY(m.config.tiedEmbeddings);
        QVERIFY(!m.weights.find("output.weight"));
        // A stored lm_head in a tied model is ignored, as transformers ignores it.
        const LoadedModel m2 = loadHfModel(makeFolder(cfg, tinyTensors()));
        QVERIFY(m2.config.tiedEmbeddings);
        QVERIFY(!m2.weights.find("output.weight"));
    }

    void untiedWithoutHead()
    {
        auto t = tinyTensors();
        t.erase("lm_head.weight");
        expectError(makeFolder(tinyConfig(), t), {"model.safetensors", "lm_head.weight is missing"});
    }

    void qwen2Biases()
    {
        json cfg = tinyConfig();
        cfg["model_type"] = "qwen2";
        auto t = tinyTensors();
        expectError(makeFolder(cfg, t), {"model.layers.0.self_attn.q_proj.bias is missing"});
        t["model.layers.0.self_attn.q_proj.bias"] = {8};
        t["model.layers.0.self_attn.k_proj.bias"] = {4};
        t["model.layers.0.self_attn.v_proj.bias"] = {4};
        const LoadedModel m = loadHfModel(makeFolder(cfg, t));
        QCOMPARE(m.config.arch, std::string("qwen2"));
        QVERIFY(m.config.qkvBias);
        QCOMPARE(m.weights.get("blk.0.attn_k.bias").shape, std::vector<int64_t>{4});
    }

    void qwen3HeadDimAndQkNorm()
    {
        // Qwen3 sets head_dim apart from hidden_size / heads and norms q/k per head.
        json cfg = tinyConfig();
        cfg["model_type"] = "qwen3";
        cfg["head_dim"] = 8;
        auto t = tinyTensors();
        t["model.layers.0.self_attn.q_proj.weight"] = {16, 8};
        t["model.layers.0.self_attn.k_proj.weight"] = {8, 8};
        t["model.layers.0.self_attn.v_proj.weight"] = {8, 8};
        t["model.layers.0.self_attn.o_proj.weight"] = {8, 16};
        expectError(makeFolder(cfg, t), {"model.layers.0.self_attn.q_norm.weight is missing"});
        t["model.layers.0.self_attn.q_norm.weight"] = {8};
        t["model.layers.0.self_attn.k_norm.weight"] = {8};
        const LoadedModel m = loadHfModel(makeFolder(cfg, t));
        QCOMPARE(m.config.arch, std::string("qwen3"));
        QCOMPARE(m.config.headDim, 8);
        QVERIFY(m.config.qkNorm);
        QCOMPARE(m.weights.get("blk.0.attn_k_norm.weight").shape, std::vector<int64_t>{8});
        QCOMPARE(m.weights.get("blk.0.attn_output.weight").shape, (std::vector<int64_t>{8, 16}));
    }

    void missingConfig()
    {
        const std::string dir = makeFolder(tinyConfig(), tinyTensors());
        QFile::remove(QString::fromStdString(dir + "/config.json"));
        expectError(dir, {"config.json is missing"});
        expectError(dir + "/nope", {"not a directory"});
    }

    void wrongFieldTypes()
    {
        json cfg = tinyConfig();
        cfg["hidden_size"] = "abc";
        expectError(makeFolder(cfg, tinyTensors()), {"config.json", "field hidden_size", "expected an integer",
                                                      "\"abc\""});
        cfg = tinyConfig();
        cfg["tie_word_embeddings"] = "yes";
        expectError(makeFolder(cfg, tinyTensors()), {"config.json", "field tie_word_embeddings"});
        cfg = tinyConfig();
        cfg["num_attention_heads"] = 1e12;
        expectError(makeFolder(cfg, tinyTensors()), {"config.json", "field num_attention_heads"});
        cfg = tinyConfig();
        cfg.erase("intermediate_size");
        expectError(makeFolder(cfg, tinyTensors()), {"config.json", "field intermediate_size is missing"});
        cfg = tinyConfig();
        cfg["rope_scaling"] = {{"type", "yarn"}, {"factor", 4.0}};
        expectError(makeFolder(cfg, tinyTensors()), {"config.json", "rope_scaling", "yarn"});
        cfg = tinyConfig();
        cfg["num_key_value_heads"] = 3;
        expectError(makeFolder(cfg, tinyTensors()), {"config.json", "n_kv_heads"});
        const std::string dir = makeFolder(tinyConfig(), tinyTensors());
        writeText(dir + "/config.json", "{\"model_type\": ");
        expectError(dir, {"config.json", "not valid JSON"});
    }

    void unknownModelType()
    {
        json cfg = tinyConfig();
        cfg["model_type"] = "gpt_neox";
        expectError(makeFolder(cfg, tinyTensors()), {"config.json", "model_type 'gpt_neox' is not supported",
                                                      "llama", "qwen2"});
    }

    void missingTensor()
    {
        auto t = tinyTensors();
        t.erase("model.layers.0.mlp.up_proj.weight");
        expectError(makeFolder(tinyConfig(), t), {"model.safetensors", "tensor model.layers.0.mlp.up_proj.weight is missing"});
    }

    void wrongShape()
    {
        auto t = tinyTensors();
        t["model.layers.0.self_attn.k_proj.weight"] = {4, 7};
        expectError(makeFolder(tinyConfig(), t), {"model.safetensors", "model.layers.0.self_attn.k_proj.weight",
                                                  "shape [4, 7], expected [4, 8]"});
    }

    void unknownAndOutOfRangeTensors()
    {
        auto t = tinyTensors();
        t["model.layers.0.foo.weight"] = {8};
        expectError(makeFolder(tinyConfig(), t), {"model.safetensors", "model.layers.0.foo.weight", "unknown tensor"});
        t = tinyTensors();
        t["model.layers.3.input_layernorm.weight"] = {8};
        expectError(makeFolder(tinyConfig(), t), {"model.layers.3.input_layernorm.weight", "beyond num_hidden_layers 1"});
        t = tinyTensors();
        t["model.layers.0.self_attn.q_proj.bias"] = {8};
        expectError(makeFolder(tinyConfig(), t), {"model.layers.0.self_attn.q_proj.bias", "not used"});
    }

    void shardedFolder()
    {
        const auto all = tinyTensors();
        std::map<std::string, std::vector<int64_t>> a, b;
        json map;
        for (const auto &[name, shape] : all) {
            const bool first = name.find("mlp") == std::string::npos;
            (first ? a : b)[name] = shape;
            map[name] = first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
        }
        const std::string dir = m_root.filePath("sharded").toStdString();
        QDir().mkpath(QString::fromStdString(dir));
        writeText(dir + "/config.json", tinyConfig().dump());
        writeText(dir + "/model.safetensors.index.json", json{{"metadata", json::object()}, {"weight_map", map}}.dump());
        writerFor(a).write(dir + "/model-00001-of-00002.safetensors");
        expectError(dir, {"model.safetensors.index.json", "shard model-00002-of-00002.safetensors", "is missing"});
        writerFor(b).write(dir + "/model-00002-of-00002.safetensors");
        const LoadedModel m = loadHfModel(dir);
        QCOMPARE(m.weights.count(), all.size());
        QCOMPARE(m.weights.get("blk.0.ffn_up.weight").shape, (std::vector<int64_t>{16, 8}));

        map["model.norm.weight"] = "../evil.safetensors";
        writeText(dir + "/model.safetensors.index.json", json{{"weight_map", map}}.dump());
        expectError(dir, {"model.safetensors.index.json", "not a plain file name"});
        map["model.norm.weight"] = "model-00002-of-00002.safetensors"; // it is in shard 1
        writeText(dir + "/model.safetensors.index.json", json{{"weight_map", map}}.dump());
        expectError(dir, {"model.norm.weight is listed in shard model-00002-of-00002.safetensors"});
    }
};

QTEST_GUILESS_MAIN(TestHfLoader)
#include "tst_hf_loader.moc"
