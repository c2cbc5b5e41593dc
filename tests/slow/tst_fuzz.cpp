// Runs every libFuzzer target for 60 s through fuzz/run-fuzzers.sh (which builds them
// with clang, ASan and UBSan and seeds them from the fixtures) and fails if any target
// crashes, leaks, trips a sanitizer or hangs. Skipped, loudly, without clang.
#include "Fixtures.h"

#include <QProcess>
#include <QStandardPaths>
#include <QtTest>

class TestFuzz : public QObject
{
    Q_OBJECT
private slots:
    void fuzzersFindNoCrash()
    {
        if (QStandardPaths::findExecutable("clang++").isEmpty() || QStandardPaths::findExecutable("clang").isEmpty())
            QSKIP("clang/clang++ not found: the fuzz targets need libFuzzer (apt install clang libclang-rt-dev)");
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("LATHE_FIXTURES", QString::fromStdString(lathe::test::fixturesDir()));
        env.insert("LATHE_FUZZ_BUILD", QStringLiteral(LATHE_BINARY_DIR "/fuzz"));
        p.setProcessEnvironment(env);
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.setWorkingDirectory(QStringLiteral(LATHE_SOURCE_DIR));
        p.start("bash", {QStringLiteral(LATHE_SOURCE_DIR "/fuzz/run-fuzzers.sh"), "60"});
        QVERIFY2(p.waitForStarted(), "cannot start bash");
        p.waitForFinished(-1); // bounded by the ctest timeout of the slow label
        const QByteArray out = p.readAll();
        qInfo().noquote() << out.right(4000);
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QVERIFY2(p.exitCode() == 0, out.right(8000).constData());
        QVERIFY(out.contains("fuzz: all targets passed"));
        // Every target was built and ran (a target missing from the build would pass silently).
        for (const char *target : {"fuzz_gguf", "fuzz_safetensors", "fuzz_tokenizer_json", "fuzz_jinja", "fuzz_dataset"})
            QVERIFY2(out.contains(QByteArray("== ") + target + ":"), target);
    }
};

QTEST_GUILESS_MAIN(TestFuzz)
#include "tst_fuzz.moc"
