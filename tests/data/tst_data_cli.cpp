// lathe-cli data as a user runs it: validate's exit codes and JSON report, inspect's
// detection, prepare twice (the second run loads the cache and prints the same hash),
// and bad arguments. Runs the lathe-cli the build made (a build dependency of this test).
#include "CliRunner.h"
#include "DataTestUtil.h"

#include <QFileInfo>

using namespace lathe::test;

namespace {

using Run = CliResult;

// A crash counts as exit code -1 so that no exit-code assertion can pass on one.
Run cli(const QStringList &args)
{
    Run r = runCli(args);
    if (r.crashed)
        r.code = -1;
    return r;
}

QString q(const std::string &s) { return QString::fromStdString(s); }

} // namespace

class TestDataCli : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void initTestCase()
    {
        // The build makes lathe-cli before this test (tests/CMakeLists.txt), so a missing
        // binary is a broken build, not a reason to skip.
        QVERIFY2(QFileInfo::exists(cliBinary()), "lathe-cli is not built in this build directory");
    }

    void validate()
    {
        const std::string good = llamaFactory("identity.json");
        Run r = cli({"data", "validate", q(good)});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains("format:     alpaca (confidence 1.00"));
        QVERIFY(r.out.contains("ready to train on"));

        const std::string bad = tempFile(m_dir, "bad.jsonl",
                                         "{\"instruction\": \"a\", \"output\": \"b\"}\n{\"instruction\": 1, \"output\": \"c\"}\n");
        r = cli({"data", "validate", q(bad), "--json"});
        QCOMPARE(r.code, 1);
        const auto j = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(j["issues"]["errors"].get<int>(), 1);
        // items[0] is the warning that only half the records look like Alpaca.
        QCOMPARE(j["issues"]["items"][0]["severity"].get<std::string>(), std::string("warning"));
        QCOMPARE(j["issues"]["items"][1]["line"].get<int>(), 2);
        QCOMPARE(j["issues"]["items"][1]["field"].get<std::string>(), std::string("instruction"));
        QCOMPARE(j["issues"]["items"][1]["message"].get<std::string>(), std::string("expected a string, got a number"));
        QCOMPARE(j["usable"].get<bool>(), false);
        QCOMPARE(cli({"data", "validate", q(bad), "--drop-invalid"}).code, 0);
    }

    void inspect()
    {
        const Run r = cli({"data", "inspect", q(llamaFactory("dpo_en_demo.json")), "--records", "1", "--json",
                           "--tokenizer", q(fixture("tokenizers/qwen/tokenizer.json"))});
        QCOMPARE(r.code, 0);
        const auto j = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(j["detection"]["format"].get<std::string>(), std::string("preference"));
        QCOMPARE(j["records"].size(), size_t(1));
        QVERIFY(j["records"][0].contains("rendered_rejected"));
        QCOMPARE(j["records"][0]["rendered"]["tokens"].size(), j["records"][0]["rendered"]["mask"].size());
    }

    void prepareTwice()
    {
        const QStringList args = {"data", "prepare", q(llamaFactory("identity.json")), "--tokenizer",
                                  q(fixture("tokenizers/qwen")), "--cache-dir", m_dir.filePath("cache"),
                                  "--validation-count", "10", "--json"};
        const Run first = cli(args);
        QCOMPARE(first.code, 0);
        const Run second = cli(args);
        QCOMPARE(second.code, 0);
        const auto a = nlohmann::json::parse(first.out.toStdString());
        const auto b = nlohmann::json::parse(second.out.toStdString());
        QCOMPARE(a["from_cache"].get<bool>(), false);
        QCOMPARE(b["from_cache"].get<bool>(), true);
        QCOMPARE(a["hash"], b["hash"]);
        QCOMPARE(a["train"]["records"].get<int>(), 81);
        QCOMPARE(a["validation"]["records"].get<int>(), 10);
    }

    void badArguments()
    {
        QCOMPARE(cli({"data"}).code, 2);
        QCOMPARE(cli({"data", "frobnicate", "x"}).code, 2);
        QCOMPARE(cli({"data", "stats", q(llamaFactory("identity.json"))}).code, 2); // needs --tokenizer
        QCOMPARE(cli({"data", "validate", q(llamaFactory("identity.json")), "--fields", "nonsense"}).code, 2);
        const Run r = cli({"data", "validate", q(llamaFactory("identity.json")), "--fields", "answer=output"});
        QCOMPARE(r.code, 1);
        QVERIFY(r.err.contains("unknown field 'answer'"));
        QCOMPARE(cli({"data", "prepare", q(llamaFactory("identity.json")), "--tokenizer",
                      q(fixture("tokenizers/mistral/tokenizer.json"))})
                     .code,
                 1); // Mistral ships no template: a message, not a crash
    }
};

QTEST_GUILESS_MAIN(TestDataCli)
#include "tst_data_cli.moc"
