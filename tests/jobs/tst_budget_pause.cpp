// Budgets against running jobs (acceptance 5): a tiny hard limit pauses a running job at
// its next checkpoint with the reason recorded, it stays paused while the limit holds,
// and resumes by itself — continuing its loss curve exactly — once the limit is raised.
// A limit already reached pauses a job before it does any work; a warning threshold
// only warns.
#include "JobTestSupport.h"
#include "jobs/CostLedger.h"
#include "jobs/SimulatedTrainRunner.h"
#include "store/CostRepository.h"
#include "store/StoreFile.h"

#include <QtTest>

#include <mutex>

using namespace lathe;
using namespace lathe::jobs;
using store::JobKind;
using store::JobState;

namespace {

constexpr auto kWait = std::chrono::seconds(30);
const char *const kProfile = "test: one dollar a second";

JobSpec chargedJob(int64_t steps, int64_t every, int64_t stepMs)
{
    JobSpec s;
    s.kind = JobKind::Train;
    s.specJson = test::simSpec(steps, every, stepMs, std::string("\"price_profile\": \"") + kProfile + "\"");
    return s;
}

} // namespace

class TestBudgetPause : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::string m_path;
    std::mutex m_mutex;
    std::vector<JobEvent> m_events;

    std::unique_ptr<JobQueue> makeQueue()
    {
        JobQueueOptions o = test::fastQueueOptions(m_path);
        o.listener = [this](const JobEvent &e) {
            std::lock_guard lock(m_mutex);
            m_events.push_back(e);
        };
        auto q = std::make_unique<JobQueue>(o);
        q->registerRunner(JobKind::Train, std::make_shared<SimulatedTrainRunner>());
        auto db = store::openStore(m_path);
        cost::PriceProfile p;
        p.name = kProfile;
        p.hourlyRate = 3600; // $1 per second of job time: any run costs more than a cent
        CostLedger(*db).saveProfile(p);
        return q;
    }

    void setBudget(cost::BudgetScope scope, std::optional<double> warn, std::optional<double> limit)
    {
        auto db = store::openStore(m_path);
        CostLedger(*db).setBudget({scope, warn, limit, "USD"});
    }

private slots:
    void init()
    {
        m_path = m_dir.filePath(QTest::currentTestFunction()).toStdString() + ".db";
        m_events.clear();
    }

    void tinyRunLimitPausesAtTheNextCheckpointAndResumesWhenRaised()
    {
        auto q = makeQueue();
        setBudget(cost::BudgetScope::Run, std::nullopt, 0.001); // a tenth of a cent
        q->start();
        const int64_t id = q->submit(chargedJob(400, 20, 2));
        QCOMPARE(int(q->waitFor(id, {JobState::Paused, JobState::Completed}, kWait)), int(JobState::Paused));
        const auto job = q->job(id);
        const std::string reason = job->pauseReason.value_or("");
        QVERIFY2(reason.rfind("budget: the run limit of $0.0010 ", 0) == 0, reason.c_str());
        auto db = store::openStore(m_path);
        const int64_t run = *job->runId;
        const auto ckpt = store::RunRepository(*db).latestCheckpoint(run);
        QVERIFY(ckpt);
        QVERIFY(ckpt->step % 20 == 0 && ckpt->step < 400);
        std::string why;
        QVERIFY2(test::lossCurveIsExact(*db, run, ckpt->step, 400, &why), why.c_str()); // stopped at that checkpoint
        QCOMPARE(QString::fromStdString(store::RunRepository(*db).find(run)->status), QString("paused"));
        QVERIFY(store::CostRepository(*db).totalForRun(run) > 0.001);

        // The limit still holds: a re-check leaves it paused.
        q->budgetsChanged();
        QCOMPARE(int(q->waitFor(id, {JobState::Queued, JobState::Running}, std::chrono::milliseconds(300))),
                 int(JobState::Paused));

        setBudget(cost::BudgetScope::Run, std::nullopt, 1e9);
        q->budgetsChanged();
        QCOMPARE(int(q->waitFor(id, {JobState::Completed}, kWait)), int(JobState::Completed));
        QVERIFY2(test::lossCurveIsExact(*db, run, 400, 400, &why), why.c_str());
        QCOMPARE(q->job(id)->attempts, 2);
        bool told = false;
        for (const JobEvent &e : m_events)
            told = told || (e.jobId == id && e.type == JobEvent::Type::State && e.state == JobState::Paused &&
                            e.message.find("budget") != std::string::npos);
        QVERIFY2(told, "the user is told why the job paused");
    }

    void aLimitAlreadyReachedPausesBeforeAnyWork()
    {
        auto q = makeQueue();
        {
            auto db = store::openStore(m_path);
            store::CostEntryRecord e;
            e.profileName = kProfile;
            e.kind = "train";
            e.startedAt = store::nowSeconds();
            e.totalCost = 6.0; // spent this month already
            store::CostRepository(*db).insertEntry(e);
        }
        setBudget(cost::BudgetScope::Month, 4.0, 5.0);
        q->start();
        const int64_t id = q->submit(chargedJob(30, 10, 0));
        QCOMPARE(int(q->waitFor(id, {JobState::Paused, JobState::Completed}, kWait)), int(JobState::Paused));
        QVERIFY(q->job(id)->pauseReason.value_or("").find("month limit of $5.00 is reached") != std::string::npos);
        auto db = store::openStore(m_path);
        QCOMPARE(store::RunRepository(*db).metricCount(*q->job(id)->runId), int64_t(0));
        setBudget(cost::BudgetScope::Month, 4.0, 1000.0);
        q->budgetsChanged();
        QCOMPARE(int(q->waitFor(id, {JobState::Completed}, kWait)), int(JobState::Completed));
        std::string why;
        QVERIFY2(test::lossCurveIsExact(*db, *q->job(id)->runId, 30, 30, &why), why.c_str());
    }

    void aWarningThresholdOnlyWarns()
    {
        auto q = makeQueue();
        setBudget(cost::BudgetScope::Day, 0.000001, std::nullopt);
        q->start();
        const int64_t id = q->submit(chargedJob(60, 20, 1));
        QCOMPARE(int(q->waitFor(id, {JobState::Completed, JobState::Paused}, kWait)), int(JobState::Completed));
        int warnings = 0;
        for (const JobEvent &e : m_events)
            if (e.type == JobEvent::Type::Warning && e.jobId == id) {
                ++warnings;
                QVERIFY2(e.message.find("day warning threshold") != std::string::npos, e.message.c_str());
            }
        QCOMPARE(warnings, 1);
    }

    void examplesAreSeededOnceAndEditsKept()
    {
        auto q = makeQueue();
        auto db = store::openStore(m_path);
        CostLedger ledger(*db);
        QCOMPARE(ledger.defaultProfile()->name, std::string(kInitialDefaultProfile));
        auto p = *ledger.profile("T4 (cloud)");
        p.hourlyRate = 0.11;
        ledger.saveProfile(p);
        ledger.setDefaultProfile("T4 (cloud)");
        ledger.ensureExampleProfiles(); // again: nothing overwritten
        QCOMPARE(ledger.profile("T4 (cloud)")->hourlyRate, 0.11);
        QCOMPARE(ledger.defaultProfile()->name, std::string("T4 (cloud)"));
        QCOMPARE(ledger.profiles().size(), cost::exampleProfiles().size() + 1);
        p.hourlyRate = -1;
        QVERIFY_THROWS_EXCEPTION(Error, ledger.saveProfile(p));
    }
};

QTEST_GUILESS_MAIN(TestBudgetPause)
#include "tst_budget_pause.moc"
