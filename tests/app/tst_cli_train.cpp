// lathe-cli train / merge / bench train as a user runs them: a spec on the real
// stories260K model and a real dataset trains, stops at its budget with a checkpoint,
// resumes, and its adapter merges into a model that `info` reads; bad specs and bad
// arguments exit with the field named (code 1) or a usage message (code 2).
#include "CliRunner.h"

#include <QtTest>
#include <nlohmann/json.hpp>

namespace {

using Result = lathe::test::CliResult;
using lathe::test::runCli;
using lathe::test::writeSpec;

std::string model()
{
    return lathe::test::fixture("models/stories260K/stories260Ktok512.gguf");
}

nlohmann::json spec(const QString &runDir, int maxSteps)
{
    return {{"model", model()},
            {"adapter", {{"rank", 4}, {"alpha", 8}, {"targets", "all-linear"}}},
            {"data", {{"path", lathe::test::fixture("datasets/llamafactory/c4_demo.jsonl")}, {"validation_ratio", 0.1}}},
            {"optimizer", {{"lr", 3e-3}}},
            {"schedule", {{"kind", "linear"}, {"warmup_steps", 1}, {"steps", 6}}},
            {"batch", {{"micro_batch", 2}, {"seq_len", 64}}},
            {"eval", {{"every", 3}, {"max_batches", 2}}},
            {"checkpoint", {{"dir", runDir.toStdString()}, {"every", 3}}},
            {"budget", {{"max_steps", maxSteps}}},
            {"threads", 2}};
}

} // namespace

class TestCliTrain : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void initTestCase()
    {
        // `train` records its runs in the store: keep them in this test's folder.
        qputenv("LATHE_HOME", m_dir.path().toUtf8());
    }

    void help()
    {
        Result r = runCli({"train", "--help"});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains("SPEC") && r.out.contains("--resume"));
        r = runCli({"merge", "--help"});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains("--adapter") && r.out.contains("--out") && r.out.contains("--model"));
        r = runCli({"bench", "train", "--help"});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains("--modes"));
    }

    void trainStopResumeMerge()
    {
        const QString run = m_dir.filePath("run");
        const QString first = writeSpec(m_dir, "first.json", spec(run, 3));
        Result r = runCli({"train", first});
        QVERIFY2(r.code == 0 && !r.crashed, qPrintable(r.err + r.out));
        QVERIFY2(r.out.contains("base model: eval loss"), qPrintable(r.out));
        QVERIFY2(r.out.contains("step      3/6"), qPrintable(r.out));
        QVERIFY2(r.out.contains("stopped: budget.max_steps after 3 steps"), qPrintable(r.out));
        QVERIFY(QFile::exists(run + "/checkpoint-3/adapter_model.safetensors"));

        const QString second = writeSpec(m_dir, "second.json", spec(run, 0));
        r = runCli({"train", second, "--resume", run});
        QVERIFY2(r.code == 0 && !r.crashed, qPrintable(r.err + r.out));
        QVERIFY2(r.out.contains("resumed at step 3 of 6"), qPrintable(r.out));
        QVERIFY2(r.out.contains("stopped: completed after 6 steps"), qPrintable(r.out));
        QVERIFY(!r.out.contains("step      3/6"));

        const QString merged = m_dir.filePath("merged.gguf");
        r = runCli({"merge", "--model", QString::fromStdString(model()), "--adapter", run, "--out", merged});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains("merged 35 matrices"), qPrintable(r.out));
        r = runCli({"info", merged});
        QVERIFY2(r.code == 0, qPrintable(r.err));
    }

    void badSpecsAndArguments()
    {
        nlohmann::json j = spec(m_dir.filePath("bad"), 1);
        j["adapter"]["rank"] = 0;
        Result r = runCli({"train", writeSpec(m_dir, "rank0.json", j)});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("adapter.rank"), qPrintable(r.err));
        j = spec(m_dir.filePath("bad"), 1);
        j["batch"]["seq_len"] = 1000;
        r = runCli({"train", writeSpec(m_dir, "long.json", j)});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("batch.seq_len") && r.err.contains("context"), qPrintable(r.err));
        r = runCli({"train", m_dir.filePath("missing.json")});
        QCOMPARE(r.code, 1);
        QVERIFY(r.err.contains("missing.json"));
        QVERIFY(!QFile::exists(m_dir.filePath("bad")));
        r = runCli({"merge", "--model", QString::fromStdString(model()), "--adapter", m_dir.path()});
        QCOMPARE(r.code, 2);
        QVERIFY(r.err.contains("--out"));
        r = runCli({"merge", "--model", QString::fromStdString(model()), "--adapter", m_dir.filePath("nothing"), "--out",
                    m_dir.filePath("x.gguf")});
        QCOMPARE(r.code, 1);
        QVERIFY(!r.crashed);
    }
};

QTEST_GUILESS_MAIN(TestCliTrain)
#include "tst_cli_train.moc"
