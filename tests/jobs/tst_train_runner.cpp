// TrainRunner: the real trainer (stories260K, LoRA, c4 demo text) as a queued job. It
// records a loss per step, checkpoints, totals and final metrics; a job paused at a
// checkpoint and resumed produces exactly the loss curve of an uninterrupted run (the
// trainer is deterministic for a fixed thread count), and a bad spec fails the job
// with the field named.
#include "Fixtures.h"
#include "JobTestSupport.h"
#include "jobs/TrainRunner.h"
#include "store/StoreFile.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>

using namespace lathe;
using namespace lathe::jobs;
using store::JobKind;
using store::JobState;

namespace {

constexpr auto kWait = std::chrono::seconds(120);

nlohmann::json trainSpec()
{
    return {{"model", test::fixture("models/stories260K/stories260Ktok512.gguf")},
            {"mode", "lora"},
            {"adapter", {{"rank", 4}, {"alpha", 8}}},
            {"data", {{"path", test::fixture("datasets/llamafactory/c4_demo.jsonl")}}},
            {"optimizer", {{"lr", 3e-3}}},
            {"schedule", {{"kind", "constant"}, {"steps", 16}}},
            {"batch", {{"micro_batch", 2}, {"seq_len", 32}}},
            {"checkpoint", {{"every", 4}}},
            {"seed", 5},
            {"threads", 1}};
}

} // namespace

class TestTrainRunner : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

    std::unique_ptr<JobQueue> makeQueue(const std::string &path, std::function<void(const JobEvent &)> listener = {})
    {
        JobQueueOptions o = test::fastQueueOptions(path);
        o.listener = std::move(listener);
        auto q = std::make_unique<JobQueue>(o);
        q->registerRunner(JobKind::Train, std::make_shared<TrainRunner>());
        return q;
    }

    std::vector<store::MetricRow> lossOf(const std::string &path, int64_t jobId)
    {
        auto db = store::openStore(path);
        const auto job = store::JobRepository(*db).find(jobId);
        return store::RunRepository(*db).metrics(*job->runId, "loss");
    }

private slots:
    void pausedAndResumedEqualsUninterrupted()
    {
        // Uninterrupted.
        const std::string refPath = m_dir.filePath("ref.db").toStdString();
        int64_t refJob = 0;
        {
            auto q = makeQueue(refPath);
            q->start();
            JobSpec s;
            s.specJson = trainSpec().dump();
            refJob = q->submit(s);
            QCOMPARE(int(q->waitFor(refJob, {JobState::Completed, JobState::Failed}, kWait)), int(JobState::Completed));
            QVERIFY2(!q->job(refJob)->error, q->job(refJob)->error.value_or("").c_str());
        }
        const auto ref = lossOf(refPath, refJob);
        QCOMPARE(ref.size(), size_t(16));
        for (const auto &r : ref)
            QVERIFY(std::isfinite(r.value) && r.value > 0);
        QVERIFY2(ref.back().value < ref.front().value, "LoRA on c4 text lowers the loss in 16 steps");
        {
            auto db = store::openStore(refPath);
            const int64_t run = *store::JobRepository(*db).find(refJob)->runId;
            store::RunRepository runs(*db);
            const auto ckpts = runs.checkpoints(run);
            // Saved at steps 4, 8, 12, 16; checkpoint.keep (default 3) deleted step 4's
            // folder and its record went with it: the records are the folders on disk.
            QCOMPARE(ckpts.size(), size_t(3));
            QCOMPARE(ckpts.front().step, int64_t(8));
            QCOMPARE(ckpts.back().step, int64_t(16));
            for (const auto &c : ckpts)
                QVERIFY2(std::filesystem::exists(c.path + "/trainer_state.json"), c.path.c_str());
            QVERIFY(!std::filesystem::exists(std::filesystem::path(ckpts.front().path).parent_path() / "checkpoint-4"));
            const auto r = runs.find(run);
            QVERIFY(r->tokensTrained > 0);
            QVERIFY(r->flops > 0);
            QVERIFY(r->peakVramBytes.value_or(0) > 0);
            QVERIFY(r->finalMetricsJson.find("final_loss") != std::string::npos);
            QCOMPARE(runs.metrics(run, "lr").size(), size_t(16));
        }

        // Paused by the user during step 5 (at the checkpoint of step 8), then resumed.
        const std::string path = m_dir.filePath("paused.db").toStdString();
        std::atomic<JobQueue *> queue{nullptr};
        std::atomic<bool> asked{false};
        auto q = makeQueue(path, [&](const JobEvent &e) {
            if (e.type == JobEvent::Type::Metric && e.metric.name == "loss" && e.metric.step == 5 && !asked.exchange(true))
                queue.load()->pause(e.jobId);
        });
        queue = q.get();
        q->start();
        JobSpec s;
        s.specJson = trainSpec().dump();
        const int64_t id = q->submit(s);
        QCOMPARE(int(q->waitFor(id, {JobState::Paused, JobState::Completed, JobState::Failed}, kWait)),
                 int(JobState::Paused));
        QCOMPARE(lossOf(path, id).size(), size_t(8));
        QVERIFY(q->resume(id));
        QCOMPARE(int(q->waitFor(id, {JobState::Completed, JobState::Failed}, kWait)), int(JobState::Completed));
        const auto resumed = lossOf(path, id);
        QCOMPARE(resumed.size(), ref.size());
        for (size_t i = 0; i < ref.size(); ++i) {
            QCOMPARE(resumed[i].step, ref[i].step);
            QCOMPARE(resumed[i].value, ref[i].value); // bit for bit
        }
    }

    void badSpecFailsWithTheFieldNamed()
    {
        const std::string path = m_dir.filePath("bad.db").toStdString();
        auto q = makeQueue(path);
        q->start();
        nlohmann::json spec = trainSpec();
        spec["adapter"]["rank"] = 0;
        JobSpec s;
        s.specJson = spec.dump();
        const int64_t id = q->submit(s);
        QCOMPARE(int(q->waitFor(id, {JobState::Failed, JobState::Completed}, kWait)), int(JobState::Failed));
        const std::string error = q->job(id)->error.value_or("");
        QVERIFY2(error.find("adapter.rank") != std::string::npos, error.c_str());
    }
};

QTEST_GUILESS_MAIN(TestTrainRunner)
#include "tst_train_runner.moc"
