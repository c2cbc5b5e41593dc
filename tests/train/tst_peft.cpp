// PEFT adapter files: the names, shapes, fields and row order Hugging Face PEFT expects,
// exact reload, and refusal of adapters that are damaged or do not fit the model.
// The model is the real stories260K GGUF (interleaved RoPE rows, so q/k lora_B rows must
// be reordered to the Hugging Face rotate-half order in the file).
#include "TrainFixtures.h"
#include "core/Error.h"
#include "infer/Rng.h"
#include "model/LoadedModel.h"
#include "model/hf/SafetensorsFile.h"
#include "model/hf/SafetensorsWriter.h"
#include "train/checkpoint/PeftAdapter.h"

#include <QtTest>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

using namespace lathe;
namespace fs = std::filesystem;
using test::errorOf;

namespace {

// Random LoRA params for every layer and target, with the shapes PEFT uses, built from
// the config directly (not from the code under test).
std::vector<TrainParam<float>> fakeParams(const ModelConfig &c, const LoraSpec &lora, uint64_t seed)
{
    Rng rng(seed);
    std::vector<TrainParam<float>> out;
    const int64_t q = int64_t(c.nHeads) * c.headDim, kv = int64_t(c.nKvHeads) * c.headDim;
    const std::map<std::string, std::pair<int64_t, int64_t>> inOut{
        {"q_proj", {c.dim, q}},         {"k_proj", {c.dim, kv}},       {"v_proj", {c.dim, kv}},
        {"o_proj", {q, c.dim}},         {"gate_proj", {c.dim, c.ffnDim}}, {"up_proj", {c.dim, c.ffnDim}},
        {"down_proj", {c.ffnDim, c.dim}}};
    for (int l = 0; l < c.nLayers; ++l)
        for (const std::string &m : lora.targets) {
            const auto [in, o] = inOut.at(m);
            for (int ab = 0; ab < 2; ++ab) {
                TrainParam<float> p;
                p.name = "layers." + std::to_string(l) + "." + m + (ab == 0 ? ".lora_A" : ".lora_B");
                p.shape = ab == 0 ? std::vector<int64_t>{lora.rank, in} : std::vector<int64_t>{o, lora.rank};
                p.value.resize(size_t(p.shape[0] * p.shape[1]));
                for (float &v : p.value)
                    v = float(rng.uniform() * 2.0 - 1.0);
                p.grad.assign(p.value.size(), 0.0f);
                out.push_back(std::move(p));
            }
        }
    return out;
}

const TrainParam<float> &find(const std::vector<TrainParam<float>> &ps, const std::string &name)
{
    for (const auto &p : ps)
        if (p.name == name)
            return p;
    throw std::runtime_error("no param " + name);
}

} // namespace

class TestPeft : public QObject
{
    Q_OBJECT
private:
    LoadedModel m_model;
    LoraSpec m_lora;
    std::vector<TrainParam<float>> m_params;

private slots:
    void initTestCase()
    {
        m_model = loadModel(test::storiesPath());
        QCOMPARE(m_model.config.ropeLayout, RopeLayout::Interleaved);
        m_lora.rank = 4;
        m_lora.alpha = 8;
        m_lora.dropout = 0.05;
        m_lora.targets = loraModuleNames();
        m_params = fakeParams(m_model.config, m_lora, 3);
    }

    void configFieldsAndTensorNames()
    {
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString();
        const auto files = writePeftAdapter(dir, m_model.config, m_lora, "stories260K", m_params);
        QCOMPARE(files.size(), size_t(2));
        const nlohmann::json cfg = test::readJson(dir + "/adapter_config.json");
        QCOMPARE(cfg["peft_type"], "LORA");
        QCOMPARE(cfg["task_type"], "CAUSAL_LM");
        QCOMPARE(cfg["r"], 4);
        QCOMPARE(cfg["lora_alpha"].get<double>(), 8.0);
        QCOMPARE(cfg["lora_dropout"].get<double>(), 0.05);
        QCOMPARE(cfg["bias"], "none");
        QCOMPARE(cfg["use_rslora"], false);
        QCOMPARE(cfg["fan_in_fan_out"], false);
        QCOMPARE(cfg["inference_mode"], true);
        QCOMPARE(cfg["base_model_name_or_path"], "stories260K");
        QCOMPARE(cfg["target_modules"], nlohmann::json({"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                                         "down_proj"}));

        auto st = SafetensorsFile::open(dir + "/adapter_model.safetensors");
        QCOMPARE(st->tensors().size(), size_t(5 * 7 * 2));
        const TensorView *qa = st->tensor("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
        const TensorView *db = st->tensor("base_model.model.model.layers.4.mlp.down_proj.lora_B.weight");
        const TensorView *kb = st->tensor("base_model.model.model.layers.2.self_attn.k_proj.lora_B.weight");
        QVERIFY(qa && db && kb);
        QCOMPARE(qa->dtype, DType::F32);
        QCOMPARE(qa->shape, (std::vector<int64_t>{4, 64}));  // [r, dim]
        QCOMPARE(db->shape, (std::vector<int64_t>{64, 4}));  // [dim, r]
        QCOMPARE(kb->shape, (std::vector<int64_t>{32, 4}));  // [kv_heads * head_dim, r]
        for (const TensorView &t : st->tensors()) {
            const std::string &n = t.name;
            QVERIFY2(n.rfind("base_model.model.model.layers.", 0) == 0, n.c_str());
            QVERIFY2(n.find(".self_attn.") != std::string::npos || n.find(".mlp.") != std::string::npos, n.c_str());
            QVERIFY2(n.size() > 14 && (n.substr(n.size() - 14) == ".lora_A.weight" ||
                                       n.substr(n.size() - 14) == ".lora_B.weight"),
                     n.c_str());
        }

        // Unrotated matrices are stored as they are.
        const float *a = static_cast<const float *>(qa->data);
        QCOMPARE(std::vector<float>(a, a + 256), find(m_params, "layers.0.q_proj.lora_A").value);
        // k_proj lora_B rows go to the Hugging Face order: file row h*D + s*D/2 + i holds
        // our (interleaved) row h*D + 2i + s. D = 8, 4 kv heads.
        const TrainParam<float> &k = find(m_params, "layers.2.k_proj.lora_B");
        const float *kf = static_cast<const float *>(kb->data);
        const int D = 8;
        for (int h = 0; h < 4; ++h)
            for (int i = 0; i < D / 2; ++i)
                for (int s = 0; s < 2; ++s)
                    for (int r = 0; r < 4; ++r)
                        QCOMPARE(kf[(h * D + s * D / 2 + i) * 4 + r], k.value[size_t((h * D + 2 * i + s) * 4 + r)]);
    }

    void reloadIsExact()
    {
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString();
        writePeftAdapter(dir, m_model.config, m_lora, "stories260K", m_params);
        const PeftAdapter a = readPeftAdapter(dir, m_model.config);
        QCOMPARE(a.lora.rank, 4);
        QCOMPARE(a.lora.alpha, 8.0);
        QCOMPARE(a.lora.targets, loraModuleNames());
        QCOMPARE(a.baseModelName, std::string("stories260K"));
        QCOMPARE(a.matrices.size(), m_params.size());
        for (const TrainParam<float> &p : m_params) {
            QVERIFY(a.matrices.count(p.name));
            QCOMPARE(a.matrices.at(p.name).shape, p.shape);
            QVERIFY(a.matrices.at(p.name).values == p.value); // bit-identical
        }
    }

    void damagedOrForeignAdaptersRefused()
    {
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString();
        writePeftAdapter(dir, m_model.config, m_lora, "stories260K", m_params);
        const std::string cfgPath = dir + "/adapter_config.json", wPath = dir + "/adapter_model.safetensors";
        const std::string cfgText = test::readText(cfgPath), wBytes = test::readText(wPath);
        auto restore = [&] {
            std::ofstream(cfgPath, std::ios::binary) << cfgText;
            std::ofstream(wPath, std::ios::binary) << wBytes;
        };
        auto editConfig = [&](const std::function<void(nlohmann::json &)> &edit) {
            nlohmann::json j = nlohmann::json::parse(cfgText);
            edit(j);
            std::ofstream(cfgPath, std::ios::binary) << j.dump();
        };
        auto refused = [&](const char *what) {
            const std::string e = errorOf([&] { readPeftAdapter(dir, m_model.config); });
            QVERIFY2(!e.empty(), "accepted a bad adapter");
            QVERIFY2(e.find(what) != std::string::npos, e.c_str());
            restore();
        };
        // Truncated tensor file.
        std::ofstream(wPath, std::ios::binary) << wBytes.substr(0, wBytes.size() - 100);
        refused("adapter_model.safetensors");
        // r edited: the shapes no longer fit.
        editConfig([](nlohmann::json &j) { j["r"] = 8; });
        refused("shape");
        editConfig([](nlohmann::json &j) { j["peft_type"] = "IA3"; });
        refused("peft_type");
        editConfig([](nlohmann::json &j) { j["target_modules"] = {"q_proj", "c_attn"}; });
        refused("c_attn");
        editConfig([](nlohmann::json &j) { j["target_modules"] = {"q_proj"}; }); // file holds more modules
        refused("does not list");
        editConfig([](nlohmann::json &j) { j["bias"] = "all"; });
        refused("bias");
        std::ofstream(cfgPath, std::ios::binary) << "{\"peft_type\": \"LORA\", ";
        refused("adapter_config.json");
        // A model with fewer layers than the adapter.
        ModelConfig smaller = m_model.config;
        smaller.nLayers = 3;
        const std::string e = errorOf([&] { readPeftAdapter(dir, smaller); });
        QVERIFY2(e.find("layer 3") != std::string::npos || e.find("layer 4") != std::string::npos, e.c_str());
        // A missing matrix.
        std::vector<TrainParam<float>> partial = m_params;
        LoraSpec qOnly = m_lora;
        qOnly.targets = {"q_proj"};
        writePeftAdapter(dir, m_model.config, qOnly, "x", partial);
        SafetensorsWriter w;
        auto st = SafetensorsFile::open(wPath);
        for (const TensorView &t : st->tensors())
            if (t.name.find("layers.3.") == std::string::npos)
                w.addTensor(t.name, t.dtype, t.shape, t.data, t.bytes);
        w.write(wPath);
        const std::string missing = errorOf([&] { readPeftAdapter(dir, m_model.config); });
        QVERIFY2(missing.find("missing") != std::string::npos, missing.c_str());
    }

    void shapesFromTheModel()
    {
        const ModelConfig &c = m_model.config;
        QCOMPARE(loraShape(c, "q_proj", 'A', 16), (std::vector<int64_t>{16, 64}));
        QCOMPARE(loraShape(c, "v_proj", 'B', 16), (std::vector<int64_t>{32, 16}));
        QCOMPARE(loraShape(c, "gate_proj", 'B', 2), (std::vector<int64_t>{172, 2}));
        QCOMPARE(loraShape(c, "down_proj", 'A', 2), (std::vector<int64_t>{2, 172}));
        QCOMPARE(peftTensorKey(3, "up_proj", 'A'), std::string("base_model.model.model.layers.3.mlp.up_proj.lora_A.weight"));
        QVERIFY_THROWS_EXCEPTION(Error, peftModulePath("lm_head"));
    }
};

QTEST_GUILESS_MAIN(TestPeft)
#include "tst_peft.moc"
