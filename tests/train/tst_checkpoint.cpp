// Checkpoint folders: exact reload of parameters, optimiser moments and trainer state;
// the atomic temp-folder-then-rename save; refusal of truncated, edited and foreign
// checkpoints with a message that says what is wrong. Uses the real stories260K GGUF as
// the base and LoRA parameters with random values (the trainer is tested elsewhere).
#include "TrainFixtures.h"
#include "core/Error.h"
#include "infer/Rng.h"
#include "model/LoadedModel.h"
#include "train/checkpoint/Checkpoint.h"
#include "train/checkpoint/PeftAdapter.h"

#include <QtTest>
#include <filesystem>
#include <fstream>

using namespace lathe;
namespace fs = std::filesystem;
using test::errorOf;

namespace {

std::vector<TrainParam<float>> loraParams(const ModelConfig &c, const LoraSpec &lora, uint64_t seed)
{
    Rng rng(seed);
    std::vector<TrainParam<float>> out;
    for (int l = 0; l < c.nLayers; ++l)
        for (const std::string &m : lora.targets)
            for (char x : {'A', 'B'}) {
                TrainParam<float> p;
                p.name = loraParamName(l, m, x);
                p.shape = loraShape(c, m, x, lora.rank);
                p.value.resize(size_t(p.shape[0] * p.shape[1]));
                p.grad.resize(p.value.size());
                for (size_t i = 0; i < p.value.size(); ++i) {
                    p.value[i] = float(rng.uniform() - 0.5);
                    p.grad[i] = float(rng.uniform() - 0.5);
                }
                out.push_back(std::move(p));
            }
    return out;
}

} // namespace

class TestCheckpoint : public QObject
{
    Q_OBJECT
private:
    LoadedModel m_model;
    LoraSpec m_lora;
    std::vector<TrainParam<float>> m_params;
    AdamW m_opt{AdamWConfig{}};

    CheckpointWrite request(int64_t step)
    {
        CheckpointWrite w;
        w.base = &m_model;
        w.mode = TrainMode::Lora;
        w.lora = m_lora;
        w.baseModelName = "stories260K";
        w.params = &m_params;
        w.optimizer = &m_opt;
        w.state.step = step;
        w.state.tokensSeen = 12345;
        w.state.cursor = {2, 7};
        w.state.dataHash = "abc123";
        w.state.optimizerSteps = m_opt.steps();
        w.state.lossScale = 512.0;
        w.state.goodSteps = 3;
        w.state.skippedSteps = 1;
        w.state.schedule = {ScheduleKind::Cosine, 3e-4, 5, 100};
        w.state.seed = 42;
        w.state.elapsedSeconds = 1.5;
        w.state.model = ModelIdentity::of(m_model);
        w.state.spec = {{"mode", "lora"}, {"seed", 42}};
        w.state.history = nlohmann::json::array({{{"step", 1}, {"loss", 2.5}}});
        return w;
    }

private slots:
    void initTestCase()
    {
        m_model = loadModel(test::storiesPath());
        m_lora.rank = 2;
        m_lora.alpha = 4;
        m_lora.targets = {"q_proj", "v_proj", "down_proj"};
        m_params = loraParams(m_model.config, m_lora, 1);
        m_opt.attach(m_params);
        for (int s = 0; s < 3; ++s)
            m_opt.step(m_params, 1e-2); // non-trivial moments
    }

    void reloadIsExact()
    {
        QTemporaryDir tmp;
        const std::string run = tmp.path().toStdString() + "/run";
        const std::string dir = saveCheckpoint(run, request(10));
        QCOMPARE(dir, run + "/checkpoint-10");
        QVERIFY(!fs::exists(run + "/checkpoint-10.tmp"));
        for (const char *f : {"adapter_config.json", "adapter_model.safetensors", "trainer_state.json",
                              "trainer_state.safetensors"})
            QVERIFY2(fs::exists(dir + "/" + f), f);

        const LoadedCheckpoint c = loadCheckpoint(run, m_model.config, ModelIdentity::of(m_model));
        QCOMPARE(c.dir, dir);
        QCOMPARE(c.mode, TrainMode::Lora);
        QCOMPARE(c.lora.rank, 2);
        QCOMPARE(c.lora.targets, m_lora.targets);
        QCOMPARE(c.params.size(), m_params.size());
        for (size_t i = 0; i < m_params.size(); ++i) {
            const std::string &n = m_params[i].name;
            QVERIFY(c.params.at(n) == m_params[i].value);
            QVERIFY(c.adamM.at(n) == m_opt.firstMoments()[i]);
            QVERIFY(c.adamV.at(n) == m_opt.secondMoments()[i]);
        }
        const TrainerState &s = c.state;
        QCOMPARE(s.step, int64_t(10));
        QCOMPARE(s.tokensSeen, int64_t(12345));
        QCOMPARE(s.cursor, (DataCursor{2, 7}));
        QCOMPARE(s.dataHash, std::string("abc123"));
        QCOMPARE(s.optimizerSteps, int64_t(3));
        QCOMPARE(s.lossScale, 512.0);
        QCOMPARE(s.goodSteps, int64_t(3));
        QCOMPARE(s.skippedSteps, int64_t(1));
        QCOMPARE(s.schedule.kind, ScheduleKind::Cosine);
        QCOMPARE(s.schedule.peakLr, 3e-4);
        QCOMPARE(s.schedule.totalSteps, int64_t(100));
        QCOMPARE(s.seed, uint64_t(42));
        QCOMPARE(s.spec["seed"], 42);
        QCOMPARE(s.history.size(), size_t(1));

        // A second save of a later step: the run folder resolves to the newest.
        saveCheckpoint(run, request(20));
        QCOMPARE(resolveCheckpointDir(run), run + "/checkpoint-20");
        // A crashed save (a leftover .tmp folder, even with a state file) is never picked.
        fs::create_directories(run + "/checkpoint-30.tmp");
        fs::copy_file(dir + "/trainer_state.json", run + "/checkpoint-30.tmp/trainer_state.json");
        QCOMPARE(resolveCheckpointDir(run), run + "/checkpoint-20");
        // Saving the same step again replaces the folder whole.
        saveCheckpoint(run, request(20));
        QVERIFY(!fs::exists(run + "/checkpoint-20.old"));
        QVERIFY(fs::exists(run + "/checkpoint-20/trainer_state.json"));
        QVERIFY_THROWS_EXCEPTION(Error, resolveCheckpointDir(tmp.path().toStdString()));
    }

    void corruptCheckpointsRefused()
    {
        QTemporaryDir tmp;
        const std::string dir = saveCheckpoint(tmp.path().toStdString(), request(5));
        const ModelIdentity id = ModelIdentity::of(m_model);
        auto load = [&] { return errorOf([&] { loadCheckpoint(dir, m_model.config, id); }); };
        QVERIFY(load().empty());
        const auto files = {"adapter_model.safetensors", "adapter_config.json", "trainer_state.json",
                            "trainer_state.safetensors"};
        std::map<std::string, std::string> saved;
        for (const char *f : files)
            saved[f] = test::readText(dir + "/" + f);
        auto restore = [&] {
            for (const auto &[f, text] : saved)
                std::ofstream(dir + "/" + f, std::ios::binary) << text;
        };
        // Truncated tensors.
        std::ofstream(dir + "/adapter_model.safetensors", std::ios::binary)
            << saved["adapter_model.safetensors"].substr(0, 200);
        std::string e = load();
        QVERIFY2(e.find("adapter_model.safetensors is corrupt") != std::string::npos, e.c_str());
        restore();
        std::ofstream(dir + "/trainer_state.safetensors", std::ios::binary)
            << saved["trainer_state.safetensors"].substr(0, 1000);
        e = load();
        QVERIFY2(e.find("trainer_state.safetensors is corrupt") != std::string::npos, e.c_str());
        restore();
        // An edited adapter config of the same length (alpha 4 -> 5): the checksum catches it.
        std::string cfg = saved["adapter_config.json"];
        const size_t at = cfg.find("\"lora_alpha\": 4");
        QVERIFY(at != std::string::npos);
        cfg[at + 14] = '5';
        std::ofstream(dir + "/adapter_config.json", std::ios::binary) << cfg;
        e = load();
        QVERIFY2(e.find("adapter_config.json is corrupt") != std::string::npos, e.c_str());
        restore();
        // An edited state (step 5 -> 6).
        std::string state = saved["trainer_state.json"];
        const size_t st = state.find("\"step\": 5");
        QVERIFY(st != std::string::npos);
        state[st + 8] = '6';
        std::ofstream(dir + "/trainer_state.json", std::ios::binary) << state;
        e = load();
        QVERIFY2(e.find("trainer_state.json is corrupt or was edited") != std::string::npos, e.c_str());
        restore();
        std::ofstream(dir + "/trainer_state.json", std::ios::binary) << "{ not json";
        e = load();
        QVERIFY2(e.find("trainer_state.json is corrupt") != std::string::npos, e.c_str());
        restore();
        fs::remove(dir + "/adapter_model.safetensors");
        e = load();
        QVERIFY2(e.find("adapter_model.safetensors is missing") != std::string::npos, e.c_str());
        restore();
        QVERIFY(load().empty());
    }

    void foreignModelRefused()
    {
        QTemporaryDir tmp;
        const std::string dir = saveCheckpoint(tmp.path().toStdString(), request(5));
        // The same dims but another file (the llama2.c original is a different size).
        const LoadedModel other = loadModel(test::fixture("models/stories260K/stories260K.bin"));
        std::string e = errorOf([&] { loadCheckpoint(dir, other.config, ModelIdentity::of(other)); });
        QVERIFY2(e.find("made for another model") != std::string::npos, e.c_str());
        // Another shape altogether.
        ModelConfig wider = m_model.config;
        wider.dim = 128;
        e = errorOf([&] { loadCheckpoint(dir, wider, ModelIdentity::of(wider, m_model.path)); });
        QVERIFY2(e.find("dim 64 vs 128") != std::string::npos, e.c_str());
    }
};

QTEST_GUILESS_MAIN(TestCheckpoint)
#include "tst_checkpoint.moc"
