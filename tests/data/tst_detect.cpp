// Acceptance 1 (detection): every file of LLaMA-Factory's demo data is detected as the
// format LLaMA-Factory's own dataset_info.json gives it, with full confidence and no
// errors; dataset_info entries translate to the same format and field names; and small
// hand-made records check each layout, field mapping, the user override and the
// messages for data that fits no layout.
#include "DataTestUtil.h"

#include "data/FormatDetect.h"
#include "data/RecordConvert.h"

using namespace lathe;
using namespace lathe::test;

namespace {

// JSON written with single quotes (readable in C++ strings): ' becomes ".
std::string dq(std::string s)
{
    for (char &c : s)
        if (c == '\'')
            c = '"';
    return s;
}

std::vector<RawRecord> records(const std::vector<std::string> &jsonTexts)
{
    std::vector<RawRecord> out;
    int64_t line = 1;
    for (const auto &t : jsonTexts)
        out.push_back({nlohmann::ordered_json::parse(t), line++});
    return out;
}

} // namespace

class TestDetect : public QObject
{
    Q_OBJECT
private slots:
    void llamaFactoryFiles_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("style");
        QTest::addColumn<int>("records");
        QTest::newRow("alpaca_en") << "alpaca_en_demo.json" << "alpaca" << "alpaca" << 999;
        QTest::newRow("alpaca_zh") << "alpaca_zh_demo.json" << "alpaca" << "alpaca" << 1000;
        QTest::newRow("identity") << "identity.json" << "alpaca" << "alpaca" << 91;
        QTest::newRow("glaive") << "glaive_toolcall_en_demo.json" << "sharegpt" << "sharegpt" << 300;
        QTest::newRow("dpo") << "dpo_en_demo.json" << "preference" << "sharegpt" << 300;
        QTest::newRow("v1_sft") << "v1_sft_demo.jsonl" << "messages" << "messages" << 500;
        QTest::newRow("c4") << "c4_demo.jsonl" << "text" << "text" << 300;
        QTest::newRow("wiki") << "wiki_demo.txt" << "text" << "text" << 30;
    }

    void llamaFactoryFiles()
    {
        QFETCH(QString, file);
        QFETCH(QString, format);
        QFETCH(QString, style);
        QFETCH(int, records);
        DatasetSpec spec;
        spec.path = llamaFactory(file.toStdString());
        PipelineResult r = runDatasetPipeline(spec, nullptr, "", {});
        QCOMPARE(QString::fromStdString(r.format.format), format);
        QCOMPARE(QString::fromStdString(r.format.style), style);
        QCOMPARE(r.guess.confidence, 1.0);
        QCOMPARE(r.issues.errors(), int64_t(0));
        QCOMPARE(r.stats.recordsRead, int64_t(records));
        QCOMPARE(r.stats.records, int64_t(records));
        for (const auto &[name, share] : r.guess.scores)
            if (name != (format == style ? format : format + "/" + style).toStdString())
                QVERIFY2(share < 1.0 || name == "sharegpt" || name == "messages", name.c_str());
    }

    void datasetInfoAgrees()
    {
        // LLaMA-Factory's own description of each file gives the same format.
        const std::string info = llamaFactory("dataset_info.json");
        const std::map<std::string, std::string> expected = {
            {"alpaca_en_demo.json", "alpaca"},    {"alpaca_zh_demo.json", "alpaca"},
            {"identity.json", "alpaca"},          {"glaive_toolcall_en_demo.json", "sharegpt"},
            {"dpo_en_demo.json", "preference"},   {"c4_demo.jsonl", "text"},
            {"wiki_demo.txt", "text"}};
        for (const auto &[file, format] : expected) {
            const auto entry = findDatasetInfo(info, file);
            QVERIFY2(entry.has_value(), file.c_str());
            QCOMPARE(entry->format, format);
            DatasetSpec spec;
            spec.path = llamaFactory(file);
            spec.format = entry->format;
            spec.fieldMap = entry->fieldMap;
            PipelineResult r = runDatasetPipeline(spec, nullptr, "", {});
            QCOMPARE(r.issues.errors(), int64_t(0));
            QCOMPARE(r.format.format, format);
        }
        const auto glaive = findDatasetInfo(info, "glaive_toolcall_en_demo.json");
        QCOMPARE(glaive->fieldMap.at("messages"), std::string("conversations"));
        QCOMPARE(glaive->fieldMap.at("tools"), std::string("tools"));
        QCOMPARE(findDatasetInfo(info, "c4_demo.jsonl")->fieldMap.at("prompt"), std::string("text"));
        QVERIFY(!findDatasetInfo(info, "no_such_file.json").has_value());
    }

    void layouts()
    {
        struct Case
        {
            std::string json, format, style;
        };
        const std::vector<Case> cases = {
            {dq("{'instruction':'a','input':'','output':'b'}"), "alpaca", "alpaca"},
            {dq("{'conversations':[{'from':'human','value':'a'},{'from':'gpt','value':'b'}]}"), "sharegpt", "sharegpt"},
            {dq("{'messages':[{'role':'user','content':'a'},{'role':'assistant','content':'b'}]}"), "messages",
             "messages"},
            {dq("{'prompt':'a','completion':'b'}"), "prompt_completion", "prompt_completion"},
            {dq("{'text':'a'}"), "text", "text"},
            {dq("{'instruction':'a','chosen':'b','rejected':'c'}"), "preference", "alpaca"},
            {dq("{'chosen':[{'role':'user','content':'a'},{'role':'assistant','content':'b'}], 'rejected':[{'role':'user','content':'a'},{'role':'assistant','content':'c'}]}"),
             "preference", "messages"},
            {dq("{'conversations':[{'from':'human','value':'a'}],'chosen':{'from':'gpt','value':'b'}, 'rejected':{'from':'gpt','value':'c'}}"),
             "preference", "sharegpt"},
        };
        for (const Case &c : cases) {
            const FormatGuess g = detectFormat(records({c.json}), "jsonl", "auto", {});
            QCOMPARE(g.format.format, c.format);
            QCOMPARE(g.format.style, c.style);
            QCOMPARE(g.confidence, 1.0);
        }
    }

    void fieldMapAndConfidence()
    {
        // Columns named otherwise are found through the field map.
        const auto sample = records({dq("{'question':'q1','answer':'a1'}"), dq("{'question':'q2','answer':'a2'}"),
                                     dq("{'question':'q3','answer':'a3'}"), dq("{'text':'t'}")});
        FormatGuess g = detectFormat(sample, "jsonl", "auto", {});
        QCOMPARE(g.format.format, std::string("text"));
        QCOMPARE(g.confidence, 0.25);
        g = detectFormat(sample, "jsonl", "auto", {{"prompt", "question"}, {"response", "answer"}});
        QCOMPARE(g.format.format, std::string("alpaca"));
        QCOMPARE(g.confidence, 0.75);
        QCOMPARE(g.reason, std::string("3 of 4 sampled records have question and answer"));
        // A chosen format is kept, with the share that fits it.
        g = detectFormat(sample, "jsonl", "sharegpt", {});
        QCOMPARE(g.format.format, std::string("sharegpt"));
        QCOMPARE(g.confidence, 0.0);
        // A sharegpt-style file with OpenAI role/content tags (LLaMA-Factory's mllm_demo).
        g = detectFormat(records({dq("{'messages':[{'role':'user','content':'a'},{'role':'assistant','content':'b'}]}")}),
                         "json", "sharegpt", {{"messages", "messages"}, {"role_tag", "role"}, {"content_tag", "content"},
                                              {"user_tag", "user"}, {"assistant_tag", "assistant"}});
        QCOMPARE(g.confidence, 1.0);
        // Nothing fits.
        g = detectFormat(records({dq("{'a':1}")}), "jsonl", "auto", {});
        QVERIFY(g.format.format.empty());
        QCOMPARE(g.reason, std::string("no known layout matches the records"));
        // A text file is text, whatever it says.
        g = detectFormat(records({"{\"text\": \"{\\\"instruction\\\": 1}\"}"}), "text", "auto", {});
        QCOMPARE(g.format.format, std::string("text"));
    }

    void unknownFormatIsOneClearError()
    {
        QTemporaryDir dir;
        const std::string path = tempFile(dir, "odd.jsonl", "{\"q\": 1, \"a\": 2}\n{\"q\": 3, \"a\": 4}\n");
        DatasetSpec spec;
        spec.path = path;
        PipelineResult r = runDatasetPipeline(spec, nullptr, "", {});
        QCOMPARE(issueTexts(r.issues),
                 std::vector<std::string>{path + ": error: cannot tell the format: no known layout matches the records "
                                                 "(the first record has keys: q, a); set format and field_map"});
    }

    void conversionChecks()
    {
        // What each layout's converter reports, with the field path.
        QTemporaryDir dir;
        const std::string path = tempFile(
            dir, "chat.jsonl",
            "{\"conversations\": [{\"from\": \"gpt\", \"value\": \"x\"}, {\"from\": \"human\", \"value\": \"y\"}]}\n"
            "{\"conversations\": [{\"from\": \"human\", \"value\": \"a\"}, {\"from\": \"human\", \"value\": \"b\"}]}\n"
            "{\"conversations\": [{\"from\": \"human\", \"value\": \"a\"}, {\"from\": \"robot\", \"value\": \"b\"}]}\n"
            "{\"conversations\": [{\"from\": \"human\", \"value\": \"\"}, {\"from\": \"gpt\", \"value\": \"b\"}]}\n"
            "{\"conversations\": [{\"from\": \"human\", \"value\": \"a\"}, {\"from\": \"gpt\", \"value\": \"b\"}, "
            "{\"from\": \"human\", \"value\": \"c\"}]}\n"
            "{\"conversations\": [{\"from\": \"system\", \"value\": \"\"}, {\"from\": \"human\", \"value\": \"a\"}, "
            "{\"from\": \"gpt\", \"value\": \"b\"}]}\n"
            "{\"conversations\": [{\"from\": \"human\", \"value\": \"a\"}, {\"from\": \"function_call\", \"value\": "
            "\"not json\"}]}\n"
            "{\"conversations\": [{\"from\": \"human\", \"value\": \"a\"}, {\"from\": \"gpt\", \"value\": \"b\"}], "
            "\"tools\": \"[oops\"}\n"
            "{\"conversations\": []}\n");
        DatasetSpec spec;
        spec.path = path;
        PipelineResult r = runDatasetPipeline(spec, nullptr, "", {});
        const std::vector<std::string> expected = {
            // The empty conversation does not look like ShareGPT at all.
            path + ": warning: format detected as sharegpt with low confidence (8 of 9 sampled records have "
                   "conversations (from/value turns)); records of another layout will be errors",
            path + ":1: error: conversations[0].from: roles out of order: the conversation starts with assistant, "
                   "expected user",
            path + ":2: error: conversations[1].from: roles out of order: user after user",
            path + ":3: error: conversations[1].from: unknown role 'robot' (expected human, gpt, system, "
                   "function_call or observation)",
            path + ":4: error: conversations[0].value: empty user turn",
            path + ":5: warning: conversations: the last turn (user) has no answer; it is left out",
            path + ":6: warning: conversations[0]: an empty system turn is left out",
            path + ":6: warning: duplicate of the record at line 5", // equal once both are cleaned up
            path + ":7: error: conversations[1].value: a function call must be JSON with a name and arguments",
            path + ":8: error: tools: not valid JSON",
            path + ":9: error: conversations: empty conversation",
        };
        QCOMPARE(issueTexts(r.issues), expected);
        QCOMPARE(r.stats.records, int64_t(2));
        QCOMPARE(r.stats.recordsInvalid, int64_t(7));
    }
};

QTEST_GUILESS_MAIN(TestDetect)
#include "tst_detect.moc"
