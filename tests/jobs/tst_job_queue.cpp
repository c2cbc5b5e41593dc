// The job queue's state machine with the simulated trainer: persisted before running,
// completion with metrics/checkpoints/cost, cancel (here and from another connection, as
// another process would), pause at a checkpoint and resume with a continuous curve,
// failure, priorities, one GPU job at a time with CPU jobs beside it, interrupted
// detection of dead owners (and not of live ones), and shutdown.
#include "JobTestSupport.h"
#include "jobs/CostLedger.h"
#include "jobs/ProcessIdentity.h"
#include "jobs/SimulatedTrainRunner.h"
#include "store/CostRepository.h"
#include "store/StoreFile.h"

#include <QtTest>

#include <sys/wait.h>
#include <unistd.h>

#include <mutex>

using namespace lathe;
using namespace lathe::jobs;
using store::JobKind;
using store::JobState;

namespace {

constexpr auto kWait = std::chrono::seconds(30);

struct EventLog
{
    std::mutex mutex;
    std::vector<JobEvent> events;
    std::function<void(const JobEvent &)> listener()
    {
        return [this](const JobEvent &e) {
            std::lock_guard lock(mutex);
            events.push_back(e);
        };
    }
    std::vector<JobEvent> states()
    {
        std::lock_guard lock(mutex);
        std::vector<JobEvent> out;
        for (const JobEvent &e : events)
            if (e.type == JobEvent::Type::State)
                out.push_back(e);
        return out;
    }
};

JobSpec simJob(int64_t steps, int64_t every, int64_t stepMs, int priority = 0, const std::string &extra = {})
{
    JobSpec s;
    s.kind = JobKind::Train;
    s.specJson = test::simSpec(steps, every, stepMs, extra);
    s.priority = priority;
    return s;
}

// A pid whose process has ended (reaped), for a job left behind by a crash.
int64_t deadPid()
{
    const pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    waitpid(pid, nullptr, 0);
    return pid;
}

} // namespace

class TestJobQueue : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::string m_path;

    std::unique_ptr<JobQueue> makeQueue(EventLog *log = nullptr, int gpuSlots = 1)
    {
        JobQueueOptions o = test::fastQueueOptions(m_path);
        o.gpuSlots = gpuSlots;
        if (log)
            o.listener = log->listener();
        auto q = std::make_unique<JobQueue>(o);
        q->registerRunner(JobKind::Train, std::make_shared<SimulatedTrainRunner>());
        q->registerRunner(JobKind::PrepareDataset, std::make_shared<SimulatedTrainRunner>());
        return q;
    }

private slots:
    void init() { m_path = m_dir.filePath(QTest::currentTestFunction()).toStdString() + ".db"; }

    void submittedJobIsPersistedBeforeAnythingRuns()
    {
        int64_t id = 0;
        {
            auto q = makeQueue();
            id = q->submit(simJob(10, 5, 0));
        } // never started
        auto db = store::openStore(m_path);
        const auto job = store::JobRepository(*db).find(id);
        QVERIFY(job);
        QCOMPARE(int(job->state), int(JobState::Queued));
        QVERIFY(job->runId);
        const auto run = store::RunRepository(*db).find(*job->runId);
        QCOMPARE(QString::fromStdString(run->name), QString("train #%1").arg(id));
        QCOMPARE(QString::fromStdString(run->status), QString("queued"));
        // Another queue on the same store runs it.
        auto q = makeQueue();
        q->start();
        QCOMPARE(int(q->waitFor(id, {JobState::Completed}, kWait)), int(JobState::Completed));
    }

    void runsToCompletionWithMetricsCheckpointsAndCost()
    {
        EventLog log;
        auto q = makeQueue(&log);
        q->start();
        const int64_t id = q->submit(simJob(50, 10, 0));
        QCOMPARE(int(q->waitFor(id, {JobState::Completed, JobState::Failed}, kWait)), int(JobState::Completed));
        q->shutdown();
        auto db = store::openStore(m_path);
        const auto job = store::JobRepository(*db).find(id);
        QCOMPARE(job->progress, 1.0);
        QCOMPARE(job->attempts, 1);
        QVERIFY(!job->ownerPid);
        const int64_t run = *job->runId;
        std::string why;
        QVERIFY2(test::lossCurveIsExact(*db, run, 50, 50, &why), why.c_str());
        QCOMPARE(store::RunRepository(*db).metrics(run, "lr").size(), size_t(50));
        const auto ckpts = store::RunRepository(*db).checkpoints(run);
        QCOMPARE(ckpts.size(), size_t(5));
        QCOMPARE(ckpts.back().step, int64_t(50));
        const auto r = store::RunRepository(*db).find(run);
        QCOMPARE(QString::fromStdString(r->status), QString("completed"));
        QVERIFY(r->finishedAt && r->startedAt);
        QCOMPARE(r->tokensTrained, int64_t(50 * 512));
        QVERIFY(r->finalMetricsJson.find("final_loss") != std::string::npos);
        // The default price profile (seeded) was charged; energy from the TDP estimate.
        const auto entries = store::CostRepository(*db).entriesForRun(run);
        QCOMPARE(entries.size(), size_t(1));
        QCOMPARE(QString::fromStdString(entries[0].profileName), QString(kInitialDefaultProfile));
        QCOMPARE(QString::fromStdString(entries[0].powerSource), QString("tdp"));
        QVERIFY(!entries[0].measured);
        QCOMPARE(entries[0].tokensTrained, int64_t(50 * 512));
        QVERIFY(entries[0].durationS > 0);
        QVERIFY(entries[0].totalCost > 0);
        // Events: queued, running, completed, in that order.
        const auto states = log.states();
        QVERIFY(states.size() >= 3);
        QCOMPARE(int(states.front().state), int(JobState::Queued));
        QCOMPARE(int(states.back().state), int(JobState::Completed));
    }

    void cancelRunningAndQueued()
    {
        auto q = makeQueue();
        q->start();
        const int64_t running = q->submit(simJob(100000, 100, 1));
        QCOMPARE(int(q->waitFor(running, {JobState::Running}, kWait)), int(JobState::Running));
        const int64_t queued = q->submit(simJob(10, 5, 0)); // waits: one GPU job at a time
        QCOMPARE(int(q->cancel(queued)), int(JobState::Cancelled));
        q->cancel(running);
        QCOMPARE(int(q->waitFor(running, {JobState::Cancelled}, kWait)), int(JobState::Cancelled));
        QCOMPARE(q->job(queued)->attempts, 0); // never ran
        auto db = store::openStore(m_path);
        QCOMPARE(QString::fromStdString(store::RunRepository(*db).find(*q->job(running)->runId)->status),
                 QString("cancelled"));
        QCOMPARE(int(q->cancel(running)), int(JobState::Cancelled)); // idempotent
    }

    void cancelFromAnotherConnection()
    {
        auto q = makeQueue();
        q->start();
        const int64_t id = q->submit(simJob(100000, 100, 1));
        QCOMPARE(int(q->waitFor(id, {JobState::Running}, kWait)), int(JobState::Running));
        auto other = store::openStore(m_path); // what `lathe-cli jobs cancel` does
        QCOMPARE(int(store::JobRepository(*other).cancel(id)), int(JobState::Running));
        QCOMPARE(int(q->waitFor(id, {JobState::Cancelled}, kWait)), int(JobState::Cancelled));
    }

    void pauseAtCheckpointThenResume()
    {
        auto q = makeQueue();
        q->start();
        const int64_t id = q->submit(simJob(300, 25, 1));
        QCOMPARE(int(q->waitFor(id, {JobState::Running}, kWait)), int(JobState::Running));
        QVERIFY(q->pause(id));
        QCOMPARE(int(q->waitFor(id, {JobState::Paused}, kWait)), int(JobState::Paused));
        auto db = store::openStore(m_path);
        const auto job = store::JobRepository(*db).find(id);
        QCOMPARE(QString::fromStdString(job->pauseReason.value_or("")), QString("paused by the user"));
        const int64_t run = *job->runId;
        const auto ckpt = store::RunRepository(*db).latestCheckpoint(run);
        QVERIFY(ckpt);
        QVERIFY(ckpt->step % 25 == 0 && ckpt->step < 300);
        std::string why;
        QVERIFY2(test::lossCurveIsExact(*db, run, ckpt->step, 300, &why), why.c_str()); // stopped at the checkpoint
        QVERIFY(!q->pause(id)); // not running
        QVERIFY(q->resume(id));
        QCOMPARE(int(q->waitFor(id, {JobState::Completed}, kWait)), int(JobState::Completed));
        QVERIFY2(test::lossCurveIsExact(*db, run, 300, 300, &why), why.c_str());
        QCOMPARE(store::JobRepository(*db).find(id)->attempts, 2);
        QCOMPARE(store::CostRepository(*db).entriesForRun(run).size(), size_t(2)); // one per attempt
    }

    void failingRunnerFailsTheJob()
    {
        auto q = makeQueue();
        q->start();
        const int64_t id = q->submit(simJob(20, 5, 0, 0, "\"fail_at_step\": 7"));
        QCOMPARE(int(q->waitFor(id, {JobState::Failed}, kWait)), int(JobState::Failed));
        const auto job = q->job(id);
        QVERIFY2(job->error.value_or("").find("simulated failure at step 7") != std::string::npos,
                 job->error.value_or("").c_str());
        auto db = store::openStore(m_path);
        const auto run = store::RunRepository(*db).find(*job->runId);
        QCOMPARE(QString::fromStdString(run->status), QString("failed"));
        QCOMPARE(store::RunRepository(*db).metrics(*job->runId, "loss").size(), size_t(6));
        // A bad spec fails too, with the field named.
        JobSpec bad = simJob(20, 5, 0);
        bad.specJson = R"({"steps": "many"})";
        const int64_t badId = q->submit(bad);
        QCOMPARE(int(q->waitFor(badId, {JobState::Failed}, kWait)), int(JobState::Failed));
        QVERIFY(q->job(badId)->error.value_or("").find("steps") != std::string::npos);
    }

    void priorityOrderAndOneGpuJobAtATime()
    {
        EventLog log;
        auto q = makeQueue(&log);
        const int64_t low = q->submit(simJob(20, 10, 1, 0));
        const int64_t high = q->submit(simJob(20, 10, 1, 9));
        const int64_t mid = q->submit(simJob(20, 10, 1, 5));
        q->start();
        for (int64_t id : {low, high, mid})
            QCOMPARE(int(q->waitFor(id, {JobState::Completed}, kWait)), int(JobState::Completed));
        std::vector<int64_t> order;
        int runningNow = 0, maxRunning = 0;
        for (const JobEvent &e : log.states()) {
            if (e.state == JobState::Running) {
                order.push_back(e.jobId);
                maxRunning = std::max(maxRunning, ++runningNow);
            } else if (e.state == JobState::Completed) {
                --runningNow;
            }
        }
        QCOMPARE(order, (std::vector<int64_t>{high, mid, low}));
        QCOMPARE(maxRunning, 1);
    }

    void cpuJobRunsBesideAGpuJob()
    {
        auto q = makeQueue();
        q->start();
        const int64_t gpu = q->submit(simJob(100000, 100, 1));
        QCOMPARE(int(q->waitFor(gpu, {JobState::Running}, kWait)), int(JobState::Running));
        JobSpec cpu = simJob(30, 10, 0);
        cpu.kind = JobKind::PrepareDataset; // a CPU job by default
        const int64_t cpuId = q->submit(cpu);
        QCOMPARE(int(q->job(cpuId)->resource), int(store::JobResource::Cpu));
        QCOMPARE(int(q->waitFor(cpuId, {JobState::Completed}, kWait)), int(JobState::Completed));
        QCOMPARE(int(q->job(gpu)->state), int(JobState::Running));
        // A second GPU job waits for the first.
        const int64_t gpu2 = q->submit(simJob(10, 5, 0));
        QCOMPARE(int(q->waitFor(gpu2, {JobState::Running}, std::chrono::milliseconds(200))), int(JobState::Queued));
        q->cancel(gpu);
        QCOMPARE(int(q->waitFor(gpu2, {JobState::Completed}, kWait)), int(JobState::Completed));
    }

    void twoGpuSlotsRunTwoJobs()
    {
        auto q = makeQueue(nullptr, 2);
        q->start();
        const int64_t a = q->submit(simJob(100000, 100, 1));
        const int64_t b = q->submit(simJob(100000, 100, 1));
        QCOMPARE(int(q->waitFor(a, {JobState::Running}, kWait)), int(JobState::Running));
        QCOMPARE(int(q->waitFor(b, {JobState::Running}, kWait)), int(JobState::Running));
        q->cancel(a);
        q->cancel(b);
        QCOMPARE(int(q->waitFor(b, {JobState::Cancelled}, kWait)), int(JobState::Cancelled));
    }

    void deadOwnersAreDetectedLiveOnesAreNot()
    {
        int64_t deadJob = 0, reusedPidJob = 0, liveJob = 0;
        {
            auto q = makeQueue();
            deadJob = q->submit(simJob(10, 5, 0));
            reusedPidJob = q->submit(simJob(10, 5, 0));
            liveJob = q->submit(simJob(10, 5, 0));
        }
        {
            auto db = store::openStore(m_path);
            store::JobRepository jobs(*db);
            const ProcessIdentity parent = processIdentity(getppid());
            QVERIFY(isAlive(parent));
            QVERIFY(jobs.claim(deadJob, deadPid(), currentProcess().token));
            QVERIFY(jobs.claim(reusedPidJob, parent.pid, parent.token + "-earlier")); // same pid, other process
            QVERIFY(jobs.claim(liveJob, parent.pid, parent.token));
        }
        auto q = makeQueue();
        auto ids = q->recoverInterrupted();
        std::sort(ids.begin(), ids.end());
        QCOMPARE(ids, (std::vector<int64_t>{deadJob, reusedPidJob}));
        QCOMPARE(int(q->job(deadJob)->state), int(JobState::Interrupted));
        QCOMPARE(int(q->job(liveJob)->state), int(JobState::Running)); // its owner is alive
        auto db = store::openStore(m_path);
        QCOMPARE(QString::fromStdString(store::RunRepository(*db).find(*q->job(deadJob)->runId)->status),
                 QString("interrupted"));
        QVERIFY(q->recoverInterrupted().empty()); // nothing left to do
        // Interrupted jobs resume like paused ones; running ones do not.
        QVERIFY(q->resume(deadJob));
        QVERIFY(!q->resume(liveJob));
        q->start();
        QCOMPARE(int(q->waitFor(deadJob, {JobState::Completed}, kWait)), int(JobState::Completed));
    }

    void resumeAfterInterruptionContinuesTheCurve()
    {
        int64_t id = 0, run = 0;
        {
            auto q = makeQueue();
            q->start();
            id = q->submit(simJob(200, 20, 1));
            QCOMPARE(int(q->waitFor(id, {JobState::Running}, kWait)), int(JobState::Running));
            QVERIFY(q->pause(id));
            QCOMPARE(int(q->waitFor(id, {JobState::Paused}, kWait)), int(JobState::Paused));
            run = *q->job(id)->runId;
        }
        {
            // As if the process had died mid-run: running, owned by a dead pid, with
            // metric rows past the last checkpoint already committed.
            auto db = store::openStore(m_path);
            const auto ckpt = store::RunRepository(*db).latestCheckpoint(run);
            QVERIFY(ckpt);
            QVERIFY(store::JobRepository(*db).resume(id));
            QVERIFY(store::JobRepository(*db).claim(id, deadPid(), "boot/1"));
            const auto ref = test::referenceLoss(200);
            store::RunRepository(*db).insertMetrics({{run, ckpt->step + 1, "loss", ref[size_t(ckpt->step)], 0}});
        }
        auto q = makeQueue();
        q->start(); // recovers, but does not resume by itself
        QCOMPARE(int(q->job(id)->state), int(JobState::Interrupted));
        QVERIFY(q->resume(id));
        QCOMPARE(int(q->waitFor(id, {JobState::Completed}, kWait)), int(JobState::Completed));
        auto db = store::openStore(m_path);
        std::string why;
        QVERIFY2(test::lossCurveIsExact(*db, run, 200, 200, &why), why.c_str());
    }

    void shutdownInterruptsRunningJobsAndKeepsQueuedOnes()
    {
        int64_t running = 0, queued = 0;
        {
            auto q = makeQueue();
            q->start();
            running = q->submit(simJob(100000, 50, 1));
            QCOMPARE(int(q->waitFor(running, {JobState::Running}, kWait)), int(JobState::Running));
            queued = q->submit(simJob(10, 5, 0));
        } // destructor: shutdown
        auto db = store::openStore(m_path);
        store::JobRepository jobs(*db);
        QCOMPARE(int(jobs.find(running)->state), int(JobState::Interrupted));
        QCOMPARE(int(jobs.find(queued)->state), int(JobState::Queued));
    }

    void jobsWithoutARunnerStayQueued()
    {
        auto q = makeQueue();
        q->start();
        JobSpec s = simJob(5, 5, 0);
        s.kind = JobKind::Export;
        const int64_t id = q->submit(s);
        const int64_t train = q->submit(simJob(5, 5, 0));
        QCOMPARE(int(q->waitFor(train, {JobState::Completed}, kWait)), int(JobState::Completed));
        QCOMPARE(int(q->job(id)->state), int(JobState::Queued));
    }
};

QTEST_GUILESS_MAIN(TestJobQueue)
#include "tst_job_queue.moc"
