// lathe-cli train through the job queue and the store, as a user runs it against a temp
// database: a LoRA run on the real stories260K model records a completed job and run
// whose metrics `runs list/show/export` show (the exported losses are the printed ones,
// one per step), `jobs list` and `cost report` list it, checkpoint.keep leaves exactly
// the newest folders on disk with a record for each, --resume DIR records the run it
// continues, and --no-store records nothing. Ctrl-C (SIGINT) cancels a run at a step
// boundary with a checkpoint; `jobs resume --run` completes it, and the resumed run's loss
// curve equals an uninterrupted run's.
#include "CliRunner.h"
#include "store/JobRepository.h"
#include "store/RunRepository.h"
#include "store/StoreFile.h"

#include <QRegularExpression>
#include <QtTest>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>

using namespace lathe;
namespace fs = std::filesystem;

namespace {

using Result = test::CliResult;
using test::writeSpec;

// Runs the CLI with LATHE_HOME at home: nothing may land in the user's own store.
Result runCli(const QString &home, const QStringList &args)
{
    return test::runCli(args, test::withHome(home));
}

// step -> loss from the progress lines ("step      3/6  loss 6.1234 ...").
std::map<int64_t, double> printedLosses(const QString &out)
{
    std::map<int64_t, double> losses;
    static const QRegularExpression line(QStringLiteral("^step +(\\d+)/(\\d+)  loss (\\S+)"),
                                         QRegularExpression::MultilineOption);
    auto it = line.globalMatch(out);
    while (it.hasNext()) {
        const auto m = it.next();
        losses[m.captured(1).toLongLong()] = m.captured(3).toDouble();
    }
    return losses;
}

int64_t idAfter(const QString &out, const QString &pattern)
{
    const auto m = QRegularExpression(pattern).match(out);
    return m.hasMatch() ? m.captured(1).toLongLong() : 0;
}

nlohmann::json tinySpec(int64_t steps)
{
    return {{"model", test::fixture("models/stories260K/stories260Ktok512.gguf")},
            {"adapter", {{"rank", 4}, {"alpha", 8}, {"targets", "all-linear"}}},
            {"data", {{"path", test::fixture("datasets/llamafactory/c4_demo.jsonl")}}},
            {"optimizer", {{"lr", 3e-3}}},
            {"schedule", {{"kind", "constant"}, {"steps", steps}}},
            {"batch", {{"micro_batch", 2}, {"seq_len", 32}}},
            {"seed", 3},
            {"threads", 2}};
}

} // namespace

class TestCliStore : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_db, m_home;

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_db = m_dir.filePath("store/lathe.db");
        m_home = m_dir.filePath("home");
    }

    void trainRecordsACompletedRun()
    {
        nlohmann::json spec = tinySpec(5);
        spec["checkpoint"] = {{"every", 1}, {"keep", 2}}; // no dir: the run's folder beside the store
        const QString specPath = writeSpec(m_dir, "tiny.json", spec);
        const Result r = runCli(m_home, {"train", specPath, "--db", m_db});
        QVERIFY2(r.code == 0 && !r.crashed, qPrintable(r.err + r.out));
        const int64_t run = idAfter(r.out, QStringLiteral("\\nrun (\\d+) \\(job \\d+\\): completed"));
        const int64_t job = idAfter(r.out, QStringLiteral("job (\\d+): run \\d+, recorded in"));
        QVERIFY2(run > 0 && job > 0, qPrintable(r.out));
        QVERIFY2(r.out.contains("stopped: completed after 5 steps"), qPrintable(r.out));
        // The cost card and where to look next.
        QVERIFY2(r.out.contains("Cost card: tiny"), qPrintable(r.out));
        QVERIFY(r.out.contains("energy:") && r.out.contains("total:") && r.out.contains("per 1k trained:"));
        QVERIFY(r.out.contains("measured") || r.out.contains("estimated"));
        QVERIFY2(r.out.contains(QStringLiteral("lathe-cli runs show %1 --db %2").arg(run).arg(m_db)), qPrintable(r.out));
        QVERIFY(!fs::exists(m_home.toStdString() + "/lathe.db"));

        const std::map<int64_t, double> printed = printedLosses(r.out);
        QCOMPARE(printed.size(), size_t(5));
        QCOMPARE(printed.begin()->first, int64_t(1));
        QCOMPARE(printed.rbegin()->first, int64_t(5));

        // runs list: the run, completed, at step 5, with its last loss as printed.
        Result list = runCli(m_home, {"runs", "list", "--db", m_db});
        QVERIFY2(list.code == 0, qPrintable(list.err));
        QVERIFY2(list.out.contains(QRegularExpression(QStringLiteral("\\n%1 +tiny +train +completed +5 +%2")
                                                          .arg(run)
                                                          .arg(printed.at(5), 0, 'f', 4))),
                 qPrintable(list.out));

        // runs show: status, 5 loss rows over steps 1..5, the two newest checkpoints, the card.
        Result show = runCli(m_home, {"runs", "show", QString::number(run), "--db", m_db});
        QVERIFY2(show.code == 0, qPrintable(show.err));
        QVERIFY2(show.out.contains("status:         completed"), qPrintable(show.out));
        QVERIFY2(show.out.contains(QRegularExpression("\\n  loss +5 steps 1\\.\\.5,")), qPrintable(show.out));
        QVERIFY2(show.out.contains("checkpoints:    2, latest step 5"), qPrintable(show.out));
        QVERIFY(show.out.contains("Cost card: tiny"));

        // runs export: the CSV's loss column holds the printed values (printed to 4 decimals).
        const QString csvPath = m_dir.filePath("tiny.csv");
        Result exp = runCli(m_home, {"runs", "export", QString::number(run), "--db", m_db, "--out", csvPath});
        QVERIFY2(exp.code == 0, qPrintable(exp.err));
        std::ifstream csv(csvPath.toStdString());
        std::string header, line;
        std::getline(csv, header);
        QCOMPARE(QString::fromStdString(header), QString("run_id,step,name,value,wall_time"));
        std::map<int64_t, double> exported;
        while (std::getline(csv, line)) {
            const QStringList f = QString::fromStdString(line).split(',');
            QCOMPARE(f.size(), 5);
            QCOMPARE(f[0].toLongLong(), run);
            if (f[2] == "loss") {
                QVERIFY2(!exported.count(f[1].toLongLong()), "one loss row per step");
                exported[f[1].toLongLong()] = f[3].toDouble();
            }
        }
        QCOMPARE(exported.size(), printed.size());
        for (const auto &[step, value] : printed) {
            QVERIFY(exported.count(step));
            QVERIFY2(std::abs(exported[step] - value) <= 0.5e-4 + 1e-12,
                     qPrintable(QString("step %1: exported %2, printed %3").arg(step).arg(exported[step]).arg(value)));
        }

        // The store's own view: the job completed, and the checkpoint records are exactly the
        // folders checkpoint.keep left on disk (steps 4 and 5 of 1..5).
        {
            auto db = store::openStore(m_db.toStdString());
            const auto j = store::JobRepository(*db).find(job);
            QVERIFY(j);
            QCOMPARE(int(j->state), int(store::JobState::Completed));
            QCOMPARE(int(j->resource), int(store::JobResource::Cpu));
            QCOMPARE(j->runId.value_or(0), run);
            store::RunRepository runs(*db);
            QCOMPARE(runs.metrics(run, "loss").size(), size_t(5));
            const auto ckpts = runs.checkpoints(run);
            QCOMPARE(ckpts.size(), size_t(2));
            QCOMPARE(ckpts[0].step, int64_t(4));
            QCOMPARE(ckpts[1].step, int64_t(5));
            const fs::path folder = fs::path(ckpts[1].path).parent_path();
            QCOMPARE(folder, fs::path(m_db.toStdString()).parent_path() / "runs" / ("run-" + std::to_string(run)) /
                                 "checkpoints");
            std::vector<std::string> onDisk;
            for (const auto &e : fs::directory_iterator(folder))
                onDisk.push_back(e.path().filename().string());
            std::sort(onDisk.begin(), onDisk.end());
            QCOMPARE(onDisk, (std::vector<std::string>{"checkpoint-4", "checkpoint-5"}));
            QVERIFY(runs.find(run)->tokensTrained > 0);
        }

        // jobs list and cost report.
        Result jobs = runCli(m_home, {"jobs", "list", "--db", m_db});
        QVERIFY2(jobs.code == 0, qPrintable(jobs.err));
        QVERIFY2(jobs.out.contains(QRegularExpression(
                     QStringLiteral("\\n%1 +train +completed +0 +cpu +100\\.0% +%2 ").arg(job).arg(run))),
                 qPrintable(jobs.out));
        Result report = runCli(m_home, {"cost", "report", "--db", m_db});
        QVERIFY2(report.code == 0, qPrintable(report.err));
        QVERIFY2(report.out.contains("Latest runs"), qPrintable(report.out));
        QVERIFY2(report.out.contains(QRegularExpression(QStringLiteral("\\n +%1 +tiny +completed +\\$").arg(run))),
                 qPrintable(report.out));
    }

    void noStoreRecordsNothing()
    {
        const QString home = m_dir.filePath("nostore-home");
        const Result r = runCli(home, {"train", writeSpec(m_dir, "nostore.json", tinySpec(2)), "--no-store"});
        QVERIFY2(r.code == 0 && !r.crashed, qPrintable(r.err + r.out));
        QVERIFY2(r.out.contains("stopped: completed after 2 steps"), qPrintable(r.out));
        QCOMPARE(printedLosses(r.out).size(), size_t(2));
        QVERIFY(!r.out.contains("Cost card"));
        QVERIFY(!fs::exists(home.toStdString())); // neither a database nor a run folder
        const Result bad = runCli(home, {"train", m_dir.filePath("nostore.json"), "--no-store", "--db", m_db});
        QCOMPARE(bad.code, 2);
    }

    void resumeFromAFolderRecordsTheLineage()
    {
        const std::string folder = m_dir.filePath("lineage").toStdString();
        nlohmann::json first = tinySpec(4);
        first["checkpoint"] = {{"dir", folder}, {"every", 2}};
        first["budget"] = {{"max_steps", 2}};
        const Result a = runCli(m_home, {"train", writeSpec(m_dir, "first.json", first), "--db", m_db});
        QVERIFY2(a.code == 0, qPrintable(a.err + a.out));
        QVERIFY2(a.out.contains("stopped: budget.max_steps after 2 steps"), qPrintable(a.out));
        const int64_t runA = idAfter(a.out, QStringLiteral("\\nrun (\\d+) \\(job \\d+\\): completed"));

        nlohmann::json second = tinySpec(4);
        second["checkpoint"] = {{"dir", folder}, {"every", 2}};
        const Result b = runCli(m_home, {"train", writeSpec(m_dir, "second.json", second), "--resume",
                                         QString::fromStdString(folder), "--db", m_db, "--name", "continued"});
        QVERIFY2(b.code == 0, qPrintable(b.err + b.out));
        QVERIFY2(b.out.contains("resumed at step 2 of 4"), qPrintable(b.out));
        QCOMPARE(printedLosses(b.out).size(), size_t(2)); // steps 3 and 4
        const int64_t runB = idAfter(b.out, QStringLiteral("\\nrun (\\d+) \\(job \\d+\\): completed"));
        QVERIFY(runA > 0 && runB > runA);
        const Result show = runCli(m_home, {"runs", "show", QString::number(runB), "--db", m_db});
        QVERIFY2(show.out.contains(QStringLiteral("resumed from:   run %1").arg(runA)), qPrintable(show.out));
        QVERIFY(show.out.contains("run:            " + QString::number(runB) + "  continued"));
        auto db = store::openStore(m_db.toStdString());
        const auto losses = store::RunRepository(*db).metrics(runB, "loss");
        QCOMPARE(losses.size(), size_t(2));
        QCOMPARE(losses.front().step, int64_t(3));
        // A folder with no checkpoint is refused before anything is recorded.
        const int64_t runsBefore = int64_t(store::RunRepository(*db).list(1000).size());
        const Result none = runCli(m_home, {"train", m_dir.filePath("second.json"), "--resume", m_dir.filePath("nothing"),
                                            "--db", m_db});
        QCOMPARE(none.code, 1);
        QVERIFY2(none.err.contains("nothing"), qPrintable(none.err));
        QCOMPARE(int64_t(store::RunRepository(*db).list(1000).size()), runsBefore);
    }

    void interruptedRunResumesToTheSameCurve()
    {
        constexpr int64_t kSteps = 400; // ~2 s: Ctrl-C after step 1 lands long before the end
        const QString specPath = writeSpec(m_dir, "long.json", tinySpec(kSteps));
        // The reference: the same spec without the store, uninterrupted.
        const Result ref = runCli(m_home, {"train", specPath, "--no-store"});
        QVERIFY2(ref.code == 0, qPrintable(ref.err + ref.out));
        const std::map<int64_t, double> expected = printedLosses(ref.out);
        QCOMPARE(expected.size(), size_t(kSteps));

        const Result cut = test::runCliInterruptedOn({"train", specPath, "--db", m_db}, "step      1/",
                                                     test::withHome(m_home));
        QVERIFY2(!cut.crashed, qPrintable(cut.err + cut.out));
        QVERIFY2(cut.code == 130, qPrintable(QString::number(cut.code) + cut.err + cut.out));
        QVERIFY2(cut.out.contains("cancelling job"), qPrintable(cut.out));
        const int64_t job = idAfter(cut.out, QStringLiteral("job (\\d+): run \\d+, recorded in"));
        const int64_t run = idAfter(cut.out, QStringLiteral("\\nrun (\\d+) \\(job \\d+\\): cancelled"));
        QVERIFY2(job > 0 && run > 0, qPrintable(cut.out));
        QVERIFY2(cut.out.contains(QStringLiteral("lathe-cli jobs resume %1 --run --db %2").arg(job).arg(m_db)),
                 qPrintable(cut.out));
        int64_t stoppedAt = 0;
        {
            auto db = store::openStore(m_db.toStdString());
            QCOMPARE(int(store::JobRepository(*db).find(job)->state), int(store::JobState::Cancelled));
            store::RunRepository runs(*db);
            const auto ckpt = runs.latestCheckpoint(run);
            QVERIFY2(ckpt, "the cancelled run saved a checkpoint at stop");
            stoppedAt = ckpt->step;
            QVERIFY2(stoppedAt >= 1 && stoppedAt < kSteps, qPrintable(QString::number(stoppedAt)));
            QVERIFY(fs::exists(ckpt->path + "/trainer_state.json"));
            QCOMPARE(int64_t(runs.metrics(run, "loss").size()), stoppedAt); // steps 1..k, committed
            QCOMPARE(QString::fromStdString(runs.find(run)->status), QString("cancelled"));
        }
        Result jobs = runCli(m_home, {"jobs", "list", "--db", m_db});
        QVERIFY(jobs.out.contains(QRegularExpression(QStringLiteral("\\n%1 +train +cancelled ").arg(job))));

        const Result resumed = runCli(m_home, {"jobs", "resume", QString::number(job), "--run", "--db", m_db});
        QVERIFY2(resumed.code == 0 && !resumed.crashed, qPrintable(resumed.err + resumed.out));
        QVERIFY2(resumed.out.contains(QStringLiteral("resumed at step %1 of %2").arg(stoppedAt).arg(kSteps)),
                 qPrintable(resumed.out));
        QVERIFY2(resumed.out.contains(QStringLiteral("run %1 (job %2): completed").arg(run).arg(job)),
                 qPrintable(resumed.out));
        QVERIFY(resumed.out.contains("Cost card:"));
        auto db = store::openStore(m_db.toStdString());
        QCOMPARE(int(store::JobRepository(*db).find(job)->state), int(store::JobState::Completed));
        const auto losses = store::RunRepository(*db).metrics(run, "loss");
        QCOMPARE(losses.size(), size_t(kSteps));
        for (size_t i = 0; i < losses.size(); ++i) {
            QCOMPARE(losses[i].step, int64_t(i + 1));
            const double want = expected.at(losses[i].step);
            QVERIFY2(std::abs(losses[i].value - want) <= 0.5e-4 + 1e-12,
                     qPrintable(QString("step %1: %2, uninterrupted %3").arg(i + 1).arg(losses[i].value).arg(want)));
        }
        QVERIFY(!fs::exists(m_home.toStdString() + "/lathe.db"));
    }
};

QTEST_GUILESS_MAIN(TestCliStore)
#include "tst_cli_store.moc"
