// MetricWriter: rows from many threads become few transactions; flush() is a barrier
// that another connection can rely on; close commits what is pending; a commit that
// fails (the store locked past the busy timeout) is reported and retried, losing nothing.
#include "Fixtures.h"
#include "store/MetricWriter.h"
#include "store/StoreFile.h"

#include <QtTest>

#include <atomic>
#include <set>
#include <thread>

using namespace lathe;
using namespace lathe::store;

namespace {

int64_t makeRun(Connection &c)
{
    RunRecord r;
    r.name = "r";
    r.kind = "train";
    return RunRepository(c).create(r);
}

} // namespace

class TestMetricWriter : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::string m_path;
    std::unique_ptr<Connection> m_db;
    int64_t m_run = 0;

private slots:
    void init()
    {
        m_path = m_dir.filePath(QTest::currentTestFunction()).toStdString() + ".db";
        m_db = openStore(m_path);
        m_run = makeRun(*m_db);
    }
    void cleanup() { m_db.reset(); }

    void rowsFromThreadsAreBatchedIntoOneTransaction()
    {
        MetricWriter::Options o;
        o.interval = std::chrono::hours(1); // nothing commits until flush()
        o.maxBatch = 1000000;
        std::atomic<int64_t> seen{0};
        o.onCommitted = [&](const std::vector<MetricRow> &rows) { seen += int64_t(rows.size()); };
        MetricWriter w(m_path, o);
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&, t] {
                const std::string name = std::string("m").append(std::to_string(t));
                for (int i = 0; i < 500; ++i)
                    w.append({m_run, i, name, double(i), 0});
            });
        for (auto &th : threads)
            th.join();
        QCOMPARE(RunRepository(*m_db).metricCount(m_run), int64_t(0));
        w.flush();
        QCOMPARE(RunRepository(*m_db).metricCount(m_run), int64_t(2000)); // visible to another connection
        QCOMPARE(w.stats().commits, int64_t(1));
        QCOMPARE(w.stats().rowsCommitted, int64_t(2000));
        QCOMPARE(seen.load(), int64_t(2000));
        const auto rows = RunRepository(*m_db).metrics(m_run, "m3");
        QCOMPARE(rows.size(), size_t(500));
        QCOMPARE(rows[499].value, 499.0);
    }

    void fullBatchCommitsEarly()
    {
        MetricWriter::Options o;
        o.interval = std::chrono::hours(1);
        o.maxBatch = 100;
        MetricWriter w(m_path, o);
        for (int i = 0; i < 1000; ++i)
            w.append({m_run, i, "loss", double(i), 0});
        w.flush();
        QCOMPARE(RunRepository(*m_db).metricCount(m_run), int64_t(1000));
        QVERIFY2(w.stats().commits <= 11, "one commit per full batch at most, plus the flush");
    }

    void closeCommitsWhatIsPending()
    {
        {
            MetricWriter::Options o;
            o.interval = std::chrono::hours(1);
            MetricWriter w(m_path, o);
            for (int i = 0; i < 300; ++i)
                w.append({m_run, i, "loss", double(i), 0});
        } // destructor: close()
        QCOMPARE(RunRepository(*m_db).metricCount(m_run), int64_t(300));
        MetricWriter w2(m_path);
        w2.close();
        QVERIFY_THROWS_EXCEPTION(Error, w2.append({m_run, 1, "x", 0, 0}));
    }

    void aLockedStoreFailsTheFlushAndTheRowsAreRetried()
    {
        MetricWriter::Options o;
        o.interval = std::chrono::hours(1);
        o.busyTimeoutMs = 50;
        MetricWriter w(m_path, o);
        for (int i = 0; i < 10; ++i)
            w.append({m_run, i, "loss", double(i), 0});
        {
            Transaction hold(*m_db); // another writer holds the lock past the busy timeout
            QVERIFY_THROWS_EXCEPTION(Error, w.flush());
            QCOMPARE(w.stats().failedCommits, int64_t(1));
        }
        w.append({m_run, 10, "loss", 10.0, 0});
        w.flush();
        QCOMPARE(RunRepository(*m_db).metricCount(m_run), int64_t(11));
        const auto rows = RunRepository(*m_db).metrics(m_run, "loss");
        for (size_t i = 0; i < rows.size(); ++i)
            QCOMPARE(rows[i].step, int64_t(i));
    }

    void aWriterNeedsAnExistingStore()
    {
        QVERIFY_THROWS_EXCEPTION(Error, MetricWriter(m_dir.filePath("absent.db").toStdString()));
    }
};

QTEST_GUILESS_MAIN(TestMetricWriter)
#include "tst_metric_writer.moc"
