// Opening the store: a fresh file gets Lathe's pragmas and the latest schema; a file
// that is not a Lathe database, is from a newer version, or is read-only is refused with
// a clear message and left byte-for-byte unchanged (acceptance 6).
#include "Fixtures.h"
#include "store/Migrations.h"
#include "store/StoreFile.h"

#include <QtTest>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

using namespace lathe;
using namespace lathe::store;

namespace {

std::string readAll(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void writeAll(const std::string &path, const std::string &bytes)
{
    std::ofstream(path, std::ios::binary) << bytes;
}

// Opens path expecting a refusal; returns the message.
std::string refusal(const std::string &path)
{
    try {
        openStore(path);
    } catch (const Error &e) {
        return e.what();
    }
    return {};
}

bool sideFilesExist(const std::string &path)
{
    return std::filesystem::exists(path + "-wal") || std::filesystem::exists(path + "-shm") ||
           std::filesystem::exists(path + "-journal");
}

} // namespace

class TestStoreFile : public QObject
{
    Q_OBJECT

private slots:
    void freshStoreHasPragmasAndLatestSchema()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("sub/folder/lathe.db").toStdString(); // folders are created
        auto c = openStore(path);
        QCOMPARE(c->queryInt("PRAGMA user_version"), int64_t(latestSchemaVersion()));
        QCOMPARE(uint32_t(c->queryInt("PRAGMA application_id")), kApplicationId);
        QCOMPARE(c->queryInt("PRAGMA foreign_keys"), int64_t(1));
        Statement mode(*c, "PRAGMA journal_mode");
        QVERIFY(mode.step());
        QCOMPARE(QString::fromStdString(mode.columnText(0)), QString("wal"));
        QCOMPARE(c->queryInt("PRAGMA synchronous"), int64_t(2)); // FULL
        QVERIFY(c->queryInt("PRAGMA busy_timeout") >= 1000);
        // Opening again is a no-op on the schema.
        c.reset();
        auto again = openStore(path);
        QCOMPARE(again->queryInt("PRAGMA user_version"), int64_t(latestSchemaVersion()));
    }

    void emptyFileBecomesAStore()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("empty.db").toStdString();
        writeAll(path, "");
        auto c = openStore(path);
        QCOMPARE(uint32_t(c->queryInt("PRAGMA application_id")), kApplicationId);
    }

    void refusesFilesThatAreNotSqlite_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::newRow("text") << QByteArray("these are my notes, not a database\n").repeated(10);
        QTest::newRow("short") << QByteArray("SQLite format 3");
        QTest::newRow("binary") << QByteArray(4096, '\x7f');
    }
    void refusesFilesThatAreNotSqlite()
    {
        QFETCH(QByteArray, bytes);
        QTemporaryDir dir;
        const std::string path = dir.filePath("notes.db").toStdString();
        writeAll(path, bytes.toStdString());
        const std::string msg = refusal(path);
        QVERIFY2(msg.find("not a Lathe database") != std::string::npos, msg.c_str());
        QVERIFY2(msg.find(path) != std::string::npos, msg.c_str());
        QCOMPARE(readAll(path), bytes.toStdString());
        QVERIFY(!sideFilesExist(path));
    }

    void refusesAnotherApplicationsSqliteFile()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("other.db").toStdString();
        {
            auto c = Connection::openRaw(path, Connection::Mode::ReadWriteCreate);
            c->exec("PRAGMA application_id = 1234; CREATE TABLE bookmarks (url TEXT); "
                    "INSERT INTO bookmarks VALUES ('https://example.org');");
        }
        const std::string before = readAll(path);
        const std::string msg = refusal(path);
        QVERIFY2(msg.find("not a Lathe database") != std::string::npos, msg.c_str());
        QVERIFY2(msg.find("application_id 0x000004d2") != std::string::npos, msg.c_str());
        QCOMPARE(readAll(path), before);
        QVERIFY(!sideFilesExist(path));
    }

    void refusesAStoreFromANewerVersion()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("newer.db").toStdString();
        {
            auto c = openStore(path);
            c->exec("PRAGMA user_version = " + std::to_string(latestSchemaVersion() + 1));
        } // the last connection closing checkpoints the WAL into the file
        QVERIFY(!sideFilesExist(path));
        const std::string before = readAll(path);
        const std::string msg = refusal(path);
        QVERIFY2(msg.find("newer Lathe") != std::string::npos, msg.c_str());
        QVERIFY2(msg.find("schema version " + std::to_string(latestSchemaVersion() + 1)) != std::string::npos,
                 msg.c_str());
        QCOMPARE(readAll(path), before);
        QVERIFY(!sideFilesExist(path));
    }

    void refusesANewerVersionStillInTheWal()
    {
        // The version bump sits in the WAL (a connection keeps it from being
        // checkpointed), so the header check passes and the pragma check must catch it.
        QTemporaryDir dir;
        const std::string path = dir.filePath("newer-wal.db").toStdString();
        auto holder = openStore(path);
        holder->exec("PRAGMA wal_autocheckpoint = 0");
        holder->exec("PRAGMA user_version = " + std::to_string(latestSchemaVersion() + 7));
        const std::string before = readAll(path);
        const std::string msg = refusal(path);
        QVERIFY2(msg.find("newer Lathe") != std::string::npos, msg.c_str());
        QCOMPARE(readAll(path), before);
        QCOMPARE(holder->queryInt("PRAGMA user_version"), int64_t(latestSchemaVersion() + 7));
    }

    void refusesAReadOnlyFile()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("ro.db").toStdString();
        openStore(path).reset();
        QVERIFY(!sideFilesExist(path));
        QVERIFY(::chmod(path.c_str(), 0444) == 0);
        const std::string before = readAll(path);
        const std::string msg = refusal(path);
        ::chmod(path.c_str(), 0644);
        QVERIFY2(msg.find("read-only") != std::string::npos, msg.c_str());
        QCOMPARE(readAll(path), before);
        QVERIFY(!sideFilesExist(path));
    }

    void refusesAFolder()
    {
        QTemporaryDir dir;
        const std::string msg = refusal(dir.path().toStdString());
        QVERIFY2(msg.find("not a regular file") != std::string::npos, msg.c_str());
    }

    void missingFileWithoutCreate()
    {
        QTemporaryDir dir;
        StoreOptions o;
        o.create = false;
        const std::string path = dir.filePath("absent.db").toStdString();
        QVERIFY_THROWS_EXCEPTION(Error, openStore(path, o));
        QVERIFY(!std::filesystem::exists(path));
    }

    void defaultPathFollowsLatheHome()
    {
        qputenv("LATHE_HOME", "/tmp/lathe-home-test");
        QCOMPARE(QString::fromStdString(defaultStorePath()), QString("/tmp/lathe-home-test/lathe.db"));
        qunsetenv("LATHE_HOME");
        qputenv("XDG_DATA_HOME", "");
        qputenv("HOME", "/home/someone");
        QCOMPARE(QString::fromStdString(defaultStorePath()), QString("/home/someone/.local/share/lathe/lathe.db"));
    }
};

QTEST_GUILESS_MAIN(TestStoreFile)
#include "tst_store_file.moc"
