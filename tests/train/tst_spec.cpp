// Run specs: a complete spec parses and round-trips; every bad value the issue lists
// (rank 0, negative lr, a target module the model lacks, seq_len above the context,
// missing data, unknown keys) fails before any compute with the field named.
#include "Fixtures.h"
#include "core/Error.h"
#include "model/LoadedModel.h"
#include "train/spec/JsonFields.h"
#include "train/spec/RunSpec.h"

#include <QtTest>
#include <filesystem>
#include <fstream>

using namespace lathe;
using nlohmann::json;

namespace {

json goodSpec()
{
    return {{"model", test::fixture("models/stories260K/stories260Ktok512.gguf")},
            {"mode", "lora"},
            {"adapter", {{"rank", 16}, {"alpha", 32}, {"dropout", 0.05}, {"targets", "all-linear"}}},
            {"base_format", "nf4"},
            {"double_quant", true},
            {"data", {{"path", test::fixture("datasets/llamafactory/c4_demo.jsonl")}, {"validation_ratio", 0.1}}},
            {"optimizer", {{"lr", 2e-4}, {"betas", {0.9, 0.95}}, {"weight_decay", 0.01}, {"grad_clip", 1.0}}},
            {"schedule", {{"kind", "cosine"}, {"warmup_steps", 10}, {"steps", 200}}},
            {"batch", {{"micro_batch", 4}, {"seq_len", 128}, {"grad_accum", 2}, {"packing", true}}},
            {"precision", "f16"},
            {"loss_scale", {{"initial", 1024}, {"growth_interval", 100}}},
            {"eval", {{"every", 50}, {"max_batches", 4}}},
            {"checkpoint", {{"dir", "/tmp/run"}, {"every", 100}}},
            {"budget", {{"max_steps", 150}, {"max_seconds", 60}}},
            {"seed", 7},
            {"threads", 2}};
}

// The message of the Error that parsing (and checking against the model) throws.
std::string errorOf(const json &j)
{
    try {
        const RunSpec s = RunSpec::fromJson(j, "spec.json");
        const LoadedModel m = loadModel(s.model);
        s.validateAgainstModel(m.config, "spec.json");
    } catch (const Error &e) {
        return e.what();
    }
    return {};
}

} // namespace

class TestSpec : public QObject
{
    Q_OBJECT
private slots:
    void goodSpecParses()
    {
        const RunSpec s = RunSpec::fromJson(goodSpec(), "spec.json");
        QCOMPARE(s.mode, TrainMode::Lora);
        QCOMPARE(s.adapter.rank, 16);
        QCOMPARE(s.adapter.targets, loraModuleNames()); // all-linear: the seven modules
        QCOMPARE(s.baseFormat, BaseFormat::Nf4);
        QVERIFY(s.doubleQuant);
        QCOMPARE(s.optimizer.beta2, 0.95);
        QCOMPARE(s.schedule, ScheduleKind::Cosine);
        QCOMPARE(s.steps, int64_t(200));
        QCOMPARE(s.batch.gradAccum, int64_t(2));
        QCOMPARE(s.precision, ComputePrecision::F16);
        QVERIFY(s.lossScale.enabled);
        QCOMPARE(s.lossScale.initial, 1024.0);
        QCOMPARE(s.lossScale.growthInterval, int64_t(100));
        QCOMPARE(s.budget.maxSteps, int64_t(150));
        QCOMPARE(s.seed, uint64_t(7));
        QCOMPARE(s.data.validationRatio, 0.1);
        QVERIFY(errorOf(goodSpec()).empty());
        // Everything written out parses back to the same document.
        const json round = RunSpec::fromJson(s.toJson(), "copy").toJson();
        QCOMPARE(round, s.toJson());
        // The training math ignores budget, eval, checkpoint and threads.
        RunSpec t = s;
        t.budget.maxSteps = 1000;
        t.threads = 1;
        t.checkpoint.dir = "/elsewhere";
        QCOMPARE(firstJsonDifference(s.mathJson(), t.mathJson()), std::string());
        t.optimizer.lr = 1e-3;
        QCOMPARE(firstJsonDifference(s.mathJson(), t.mathJson()), std::string("optimizer.lr"));
    }

    void badSpecsNameTheField_data()
    {
        QTest::addColumn<QString>("pointer");
        QTest::addColumn<QString>("value"); // JSON; "DELETE" removes the key
        QTest::addColumn<QString>("expected");
        QTest::newRow("rank 0") << "/adapter/rank" << "0" << "adapter.rank";
        QTest::newRow("negative lr") << "/optimizer/lr" << "-0.001" << "optimizer.lr: must be > 0";
        QTest::newRow("unknown target") << "/adapter/targets" << R"(["q_proj", "c_attn"])" << "adapter.targets";
        QTest::newRow("lm_head target") << "/adapter/targets" << R"(["lm_head"])" << "adapter.targets";
        QTest::newRow("seq_len above context") << "/batch/seq_len" << "4096" << "batch.seq_len";
        QTest::newRow("missing data file") << "/data/path" << R"("/nonexistent/data.jsonl")" << "data.path";
        QTest::newRow("no data") << "/data" << "DELETE" << "data: is required";
        QTest::newRow("missing model") << "/model" << R"("/nonexistent/model.gguf")" << "spec.json: model";
        QTest::newRow("unknown key") << "/learning_rate" << "0.1" << "spec.json: learning_rate: unknown key";
        QTest::newRow("unknown nested key") << "/optimizer/lrr" << "0.1" << "optimizer.lrr: unknown key";
        QTest::newRow("unknown data key") << "/data/validaton_ratio" << "0.1" << "validaton_ratio";
        QTest::newRow("bad mode") << "/mode" << R"("qlora")" << "spec.json: mode";
        QTest::newRow("bad base format") << "/base_format" << R"("q3_k")" << "base_format";
        QTest::newRow("bad schedule") << "/schedule/kind" << R"("step")" << "schedule.kind";
        QTest::newRow("steps and epochs") << "/schedule/epochs" << "2" << "schedule.steps: give steps or epochs";
        QTest::newRow("no length") << "/schedule/steps" << "DELETE" << "schedule.steps";
        QTest::newRow("zero micro batch") << "/batch/micro_batch" << "0" << "batch.micro_batch";
        QTest::newRow("betas") << "/optimizer/betas" << "[0.9, 1.0]" << "optimizer.betas";
        QTest::newRow("dropout") << "/adapter/dropout" << "1.5" << "adapter.dropout";
        QTest::newRow("rank type") << "/adapter/rank" << R"("8")" << "adapter.rank: must be an integer";
        QTest::newRow("precision") << "/precision" << R"("fp8")" << "precision";
        QTest::newRow("threads") << "/threads" << "-1" << "threads";
    }

    void badSpecsNameTheField()
    {
        QFETCH(QString, pointer);
        QFETCH(QString, value);
        QFETCH(QString, expected);
        json j = goodSpec();
        const json::json_pointer p(pointer.toStdString());
        if (value == "DELETE")
            j[p.parent_pointer()].erase(p.back());
        else
            j[p] = json::parse(value.toStdString());
        const std::string e = errorOf(j);
        QVERIFY2(!e.empty(), "the bad spec was accepted");
        QVERIFY2(e.find(expected.toStdString()) != std::string::npos, e.c_str());
    }

    void inconsistentCombinations()
    {
        json j = goodSpec();
        j["precision"] = "bf16"; // loss_scale belongs to f16
        QVERIFY(errorOf(j).find("loss_scale: applies to precision f16 only") != std::string::npos);
        j = goodSpec();
        j["base_format"] = "f32"; // double_quant belongs to nf4
        QVERIFY(errorOf(j).find("double_quant") != std::string::npos);
        j = goodSpec();
        j["mode"] = "full"; // full fine-tuning of an nf4 base
        j.erase("double_quant");
        QVERIFY(errorOf(j).find("base_format") != std::string::npos);
        j = goodSpec();
        j["adapter"]["rank"] = 100; // wider than the model (dim 64)
        QVERIFY(errorOf(j).find("adapter.rank") != std::string::npos);
        j = goodSpec();
        j["checkpoint"] = {{"every", 10}};
        QVERIFY(errorOf(j).find("checkpoint.dir") != std::string::npos);
        j = goodSpec();
        j["adapter"]["targets"] = {"q_proj", "q_proj"};
        QVERIFY(errorOf(j).find("listed twice") != std::string::npos);
        QVERIFY(errorOf(json::array()).find("must be a JSON object") != std::string::npos);
    }

    void fileWithRelativePaths()
    {
        QTemporaryDir tmp;
        namespace fs = std::filesystem;
        const std::string dir = tmp.path().toStdString();
        fs::copy_file(test::fixture("datasets/llamafactory/c4_demo.jsonl"), dir + "/data.jsonl");
        json j = goodSpec();
        j["data"]["path"] = "data.jsonl";
        j["checkpoint"]["dir"] = "runs/a";
        std::ofstream(dir + "/spec.json") << j.dump();
        const RunSpec s = RunSpec::fromFile(dir + "/spec.json");
        QCOMPARE(s.data.path, dir + "/data.jsonl");
        QCOMPARE(s.checkpoint.dir, dir + "/runs/a");
        std::ofstream(dir + "/broken.json") << "{\"model\": ";
        try {
            RunSpec::fromFile(dir + "/broken.json");
            QFAIL("accepted broken JSON");
        } catch (const Error &e) {
            QVERIFY2(std::string(e.what()).find("broken.json") != std::string::npos, e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestSpec)
#include "tst_spec.moc"
