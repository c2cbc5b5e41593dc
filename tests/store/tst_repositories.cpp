// Repositories: runs with their latest loss and cost, immutable metric rows,
// checkpoints, datasets by content hash, the guarded job state changes, the cost ledger
// sums, and the playground's ratings and cache.
#include "Fixtures.h"
#include "store/CatalogRepository.h"
#include "store/CostRepository.h"
#include "store/JobRepository.h"
#include "store/PlaygroundRepository.h"
#include "store/RunRepository.h"
#include "store/StoreFile.h"

#include <QtTest>

using namespace lathe;
using namespace lathe::store;

class TestRepositories : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<Connection> m_db;

private slots:
    void init() { m_db = openStore(m_dir.filePath(QTest::currentTestFunction()).toStdString() + ".db"); }
    void cleanup() { m_db.reset(); }

    void runListShowsLatestLossAndCost()
    {
        RunRepository runs(*m_db);
        RunRecord a;
        a.name = "a";
        a.kind = "train";
        a.createdAt = 100;
        RunRecord b;
        b.name = "b";
        b.kind = "train";
        b.createdAt = 200;
        const int64_t ida = runs.create(a), idb = runs.create(b);
        runs.insertMetrics({{ida, 1, "loss", 3.0, 1}, {ida, 2, "loss", 2.0, 2}, {ida, 3, "lr", 0.1, 3},
                            {idb, 1, "loss", 5.0, 1}});
        CostEntryRecord e;
        e.runId = ida;
        e.profileName = "p";
        e.kind = "train";
        e.startedAt = 100;
        e.totalCost = 0.25;
        CostRepository costs(*m_db);
        costs.insertEntry(e);
        e.totalCost = 0.5;
        costs.insertEntry(e);
        const auto list = runs.list();
        QCOMPARE(list.size(), size_t(2));
        QCOMPARE(QString::fromStdString(list[0].run.name), QString("b")); // newest first
        QCOMPARE(list[1].lastLoss.value_or(0), 2.0);
        QCOMPARE(list[1].lastStep, int64_t(2));
        QCOMPARE(list[1].totalCost, 0.75);
        QCOMPARE(list[0].totalCost, 0.0);
        runs.setStatus(ida, "completed");
        QCOMPARE(runs.list(10, "completed").size(), size_t(1));
    }

    void committedMetricRowsAreNeverRewritten()
    {
        RunRepository runs(*m_db);
        RunRecord r;
        r.name = "r";
        r.kind = "train";
        const int64_t id = runs.create(r);
        runs.insertMetrics({{id, 7, "loss", 1.5, 1}});
        runs.insertMetrics({{id, 7, "loss", 9.9, 2}, {id, 8, "loss", 1.4, 2}});
        const auto rows = runs.metrics(id, "loss");
        QCOMPARE(rows.size(), size_t(2));
        QCOMPARE(rows[0].value, 1.5);
        QCOMPARE(rows[1].value, 1.4);
    }

    void checkpointsAndLineage()
    {
        RunRepository runs(*m_db);
        RunRecord r;
        r.name = "r";
        r.kind = "train";
        const int64_t id = runs.create(r);
        runs.addCheckpoint({0, id, 10, "/c/10", 100, 0});
        runs.addCheckpoint({0, id, 20, "/c/20", 200, 0});
        runs.addCheckpoint({0, id, 20, "/c/20b", 201, 0}); // a replayed step keeps one row
        QCOMPARE(runs.checkpoints(id).size(), size_t(2));
        QCOMPARE(QString::fromStdString(runs.latestCheckpoint(id)->path), QString("/c/20b"));
        RunRecord child;
        child.name = "child";
        child.kind = "train";
        child.resumedFrom = id;
        const int64_t cid = runs.create(child);
        QCOMPARE(runs.find(cid)->resumedFrom.value_or(0), id);
        // Foreign keys are on: a run pointing at a missing model is refused.
        RunRecord bad = child;
        bad.baseModelId = 999;
        QVERIFY_THROWS_EXCEPTION(SqliteError, runs.create(bad));
    }

    void datasetsByContentHash()
    {
        CatalogRepository cat(*m_db);
        DatasetRecord d;
        d.name = "alpaca";
        d.path = "/a.json";
        d.contentHash = "hash-1";
        const int64_t id = cat.addDataset(d);
        d.path = "/copy/a.json";
        cat.addDataset(d);
        QCOMPARE(cat.findDatasetByHash("hash-1")->id, id);
        QVERIFY(!cat.findDatasetByHash("hash-2"));
        d.contentHash.clear();
        QVERIFY_THROWS_EXCEPTION(Error, cat.addDataset(d));
    }

    void jobStateChangesAreGuarded()
    {
        JobRepository jobs(*m_db);
        JobRecord j;
        j.kind = JobKind::Evaluate;
        j.priority = 3;
        const int64_t id = jobs.insert(j);
        QCOMPARE(int(jobs.find(id)->state), int(JobState::Queued));
        QVERIFY(!jobs.resume(id)); // only paused or interrupted jobs resume
        QVERIFY(jobs.claim(id, 42, "tok"));
        QVERIFY(!jobs.claim(id, 43, "other")); // never claimed twice
        const auto running = jobs.find(id);
        QCOMPARE(running->ownerPid.value_or(0), int64_t(42));
        QCOMPARE(running->attempts, 1);
        QCOMPARE(int(jobs.cancel(id)), int(JobState::Running)); // a running job gets a request
        QCOMPARE(QString::fromStdString(jobs.pendingRequest(id).value_or("")), QString("cancel"));
        QVERIFY(jobs.finishAttempt(id, JobState::Cancelled));
        QVERIFY(!jobs.finishAttempt(id, JobState::Completed)); // no longer running
        QCOMPARE(int(jobs.cancel(id)), int(JobState::Cancelled));
        QVERIFY(!jobs.resume(id));
        const auto done = jobs.find(id);
        QVERIFY(done->finishedAt);
        QVERIFY(!done->ownerPid);

        const int64_t id2 = jobs.insert(j);
        QCOMPARE(int(jobs.cancel(id2)), int(JobState::Cancelled)); // queued: cancelled at once
        QVERIFY(!jobs.claim(id2, 1, "t"));

        const int64_t id3 = jobs.insert(j);
        QVERIFY(jobs.claim(id3, 1, "t"));
        QVERIFY(jobs.requestPause(id3));
        QVERIFY(jobs.finishAttempt(id3, JobState::Paused, std::nullopt, std::string("budget: run")));
        QCOMPARE(jobs.pausedWithReason("budget").size(), size_t(1));
        QVERIFY(jobs.resume(id3));
        QVERIFY(!jobs.find(id3)->pauseReason);
        QVERIFY(jobs.claim(id3, 2, "u"));
        QCOMPARE(jobs.find(id3)->attempts, 2);
        JobRecord seen = *jobs.find(id3);
        QVERIFY(jobs.markInterrupted(seen));
        QVERIFY(!jobs.markInterrupted(seen));
        QCOMPARE(int(jobs.find(id3)->state), int(JobState::Interrupted));
    }

    void queuedOrderIsPriorityThenAge()
    {
        JobRepository jobs(*m_db);
        JobRecord j;
        j.priority = 0;
        const int64_t low = jobs.insert(j);
        j.priority = 5;
        const int64_t high = jobs.insert(j);
        j.priority = 5;
        const int64_t high2 = jobs.insert(j);
        const auto q = jobs.queued();
        QCOMPARE(q.size(), size_t(3));
        QCOMPARE(q[0].id, high);
        QCOMPARE(q[1].id, high2);
        QCOMPARE(q[2].id, low);
        QVERIFY_THROWS_EXCEPTION(Error, parseJobState("runing"));
        QCOMPARE(int(parseJobKind("generate_batch")), int(JobKind::GenerateBatch));
    }

    void costSumsByPeriodAndMonth()
    {
        CostRepository costs(*m_db);
        CostEntryRecord e;
        e.profileName = "p";
        e.kind = "train";
        e.startedAt = 1767225600 - 10; // 2025-12-31 23:59:50 UTC
        e.totalCost = 1.0;
        costs.insertEntry(e);
        e.startedAt = 1767225600 + 10; // 2026-01-01 00:00:10 UTC
        e.totalCost = 2.0;
        const int64_t jan = costs.insertEntry(e);
        e.totalCost = 4.0;
        costs.insertEntry(e);
        QCOMPARE(costs.totalBetween(1767225600, 1767225600 + 86400), 6.0);
        QCOMPARE(costs.totalBetween(1767225600, 1767225600 + 86400, jan), 4.0);
        const auto months = costs.monthlySpend();
        QCOMPARE(months.size(), size_t(2));
        QCOMPARE(QString::fromStdString(months[0].month), QString("2025-12"));
        QCOMPARE(months[1].total, 6.0);
        QCOMPARE(months[1].entries, int64_t(2));
        BudgetRecord b{"week", 1.0, 2.0, "USD"};
        QVERIFY_THROWS_EXCEPTION(Error, costs.saveBudget(b));
    }

    void defaultProfileIsUnique()
    {
        CostRepository costs(*m_db);
        PriceProfileRecord p;
        p.name = "a";
        p.hourlyRate = 1;
        p.isDefault = true;
        costs.saveProfile(p);
        PriceProfileRecord q;
        q.name = "b";
        q.hourlyRate = 1;
        q.isDefault = true;
        costs.saveProfile(q);
        QCOMPARE(QString::fromStdString(costs.defaultProfile()->name), QString("b"));
        costs.setDefaultProfile("a");
        QCOMPARE(QString::fromStdString(costs.defaultProfile()->name), QString("a"));
        QVERIFY_THROWS_EXCEPTION(Error, costs.setDefaultProfile("missing"));
    }

    void ratingsAndResponseCache()
    {
        PlaygroundRepository play(*m_db);
        ComparisonRecord c{0, "p", "base", "tuned", "x", "y", "{}", 0};
        const int64_t c1 = play.addComparison(c);
        const int64_t c2 = play.addComparison(c);
        play.addRating({0, c1, "b", "", 0});
        play.addRating({0, c2, "tie", "", 0});
        QVERIFY_THROWS_EXCEPTION(Error, play.addRating({0, c1, "c", "", 0}));
        QVERIFY_THROWS_EXCEPTION(Error, play.addRating({0, 999, "a", "", 0}));
        const auto tally = play.tally();
        QCOMPARE(tally.size(), size_t(2));
        QCOMPARE(QString::fromStdString(tally[0].model), QString("base"));
        QCOMPARE(tally[0].losses, int64_t(1));
        QCOMPARE(tally[0].ties, int64_t(1));
        QCOMPARE(tally[1].wins, int64_t(1));

        play.cachePut({"k1", "m", "r1", 3, 0});
        play.cachePut({"k2", "m", "r2", 3, 0});
        QVERIFY(!play.cacheGet("nope"));
        QCOMPARE(play.cacheGet("k1")->hits, int64_t(1)); // k1 is now the most recently used
        QCOMPARE(play.cacheTrim(1), int64_t(1));
        QVERIFY(play.cacheGet("k1"));
        QVERIFY(!play.cacheGet("k2"));
    }
};

QTEST_GUILESS_MAIN(TestRepositories)
#include "tst_repositories.moc"
