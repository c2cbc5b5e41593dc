// Acceptance 2 (memory): reading a generated 1 GB JSONL dataset (format detection,
// every record converted and checked, duplicates tracked) never holds the file in
// memory: the peak resident size (VmHWM) of a fresh child process doing only that stays
// under 200 MB. The child is this binary started again with LATHE_DATA_MEMORY_CHILD set,
// so nothing the test itself allocated counts. The file is deleted afterwards.
#include "Fixtures.h"

#include "data/DatasetPipeline.h"

#include <QCoreApplication>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace {

constexpr int64_t kTargetBytes = int64_t(1) << 30;

int64_t peakRssKiB()
{
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0)
            return std::atoll(line.c_str() + 6);
    return -1;
}

// The child: read the dataset, print "records invalid peak_kib seconds".
int child(const char *path)
{
    lathe::DatasetSpec spec;
    spec.path = path;
    const auto t0 = std::chrono::steady_clock::now();
    const lathe::PipelineResult r = lathe::runDatasetPipeline(spec, nullptr, "", {});
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%lld %lld %lld %.3f %s\n", (long long)r.stats.records, (long long)r.issues.errors(),
                (long long)peakRssKiB(), s, r.format.format.c_str());
    return 0;
}

} // namespace

class TestDataMemory : public QObject
{
    Q_OBJECT
private slots:
    void oneGigabyteJsonl()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string path = dir.filePath("big.jsonl").toStdString();
        int64_t records = 0, bytes = 0;
        {
            std::ofstream out(path, std::ios::binary);
            std::string answer;
            for (int i = 0; i < 40; ++i)
                answer += "Sentence " + std::to_string(i) + " of a long answer, with \\\"quotes\\\" and \\u00e9 escapes. ";
            std::string line;
            while (bytes < kTargetBytes) {
                line = "{\"instruction\": \"Question " + std::to_string(records) +
                       ": what is in this record?\", \"input\": \"\", \"output\": \"" + answer +
                       std::to_string(records) + "\"}\n";
                out.write(line.data(), std::streamsize(line.size()));
                bytes += int64_t(line.size());
                ++records;
            }
            QVERIFY(out.good());
        }
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("LATHE_DATA_MEMORY_CHILD", QString::fromStdString(path));
        p.setProcessEnvironment(env);
        p.start(QCoreApplication::applicationFilePath(), {});
        QVERIFY(p.waitForFinished(-1)); // bounded by the slow label's timeout
        QCOMPARE(p.exitCode(), 0);
        const QStringList f = QString::fromUtf8(p.readAllStandardOutput()).trimmed().split(' ');
        QCOMPARE(f.size(), 5);
        const double seconds = f[3].toDouble();
        qInfo("%lld records, %.0f MB read in %.2f s (%.0f MB/s); peak RSS %.1f MB", (long long)records,
              double(bytes) / 1e6, seconds, double(bytes) / 1e6 / seconds, f[2].toDouble() / 1024.0);
        QCOMPARE(f[0].toLongLong(), records);
        QCOMPARE(f[1].toLongLong(), 0LL);
        QCOMPARE(f[4], QStringLiteral("alpaca"));
        QVERIFY2(f[2].toLongLong() > 0, "no VmHWM in /proc/self/status");
        QVERIFY2(f[2].toLongLong() < 200 * 1024, qPrintable("peak RSS " + f[2] + " KiB"));
        QVERIFY(QFile::remove(QString::fromStdString(path)));
    }
};

int main(int argc, char **argv)
{
    if (const char *path = std::getenv("LATHE_DATA_MEMORY_CHILD"))
        return child(path);
    QCoreApplication app(argc, argv);
    TestDataMemory test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_data_memory.moc"
