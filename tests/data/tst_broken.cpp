// Acceptance 2: broken files written by the test give exactly the expected messages, with
// file, line and field, and never a crash: a truncated JSON array, an unclosed one, a bad
// line in the middle of a JSONL, wrong field types, invalid UTF-8, an empty file, a 50 MB
// single line (refused without being held in memory, the next record still read), and
// every truncation of a valid file. prepareDataset refuses data with errors unless told
// to drop the bad records. (The 1 GB peak-memory check is tests/slow/tst_data_memory.)
#include "DataTestUtil.h"

#include "data/PrepareOptions.h"

using namespace lathe;
using namespace lathe::test;

namespace {

PipelineResult scan(const std::string &path, const std::string &format = "auto", int64_t maxRecordBytes = 0)
{
    DatasetSpec spec;
    spec.path = path;
    spec.format = format;
    if (maxRecordBytes > 0)
        spec.maxRecordBytes = maxRecordBytes;
    return runDatasetPipeline(spec, nullptr, "", {});
}

} // namespace

class TestBroken : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dir;

    std::string file(const std::string &name, const std::string &bytes) { return tempFile(m_dir, name, bytes); }

private slots:
    void truncatedJson()
    {
        const std::string p = file("trunc.json", "[\n  {\"instruction\": \"a\", \"output\": \"b\"},\n"
                                                 "  {\"instruction\": \"c\", \"out");
        const PipelineResult r = scan(p);
        QCOMPARE(issueTexts(r.issues), std::vector<std::string>{p + ":3: error: unexpected end of file inside the "
                                                                    "record that starts at line 3 (truncated file?)"});
        QCOMPARE(r.stats.records, int64_t(1));
        QCOMPARE(r.stats.recordsInvalid, int64_t(1));

        const std::string q = file("unclosed.json", "[\n  {\"instruction\": \"a\", \"output\": \"b\"},\n"
                                                    "  {\"instruction\": \"c\", \"output\": \"d\"}\n");
        QCOMPARE(issueTexts(scan(q).issues),
                 std::vector<std::string>{q + ":4: error: unexpected end of file: the array opened at line 1 is not "
                                              "closed (truncated file?)"});
    }

    void badLineInTheMiddleOfJsonl()
    {
        const std::string p = file("bad.jsonl", "{\"instruction\": \"a\", \"output\": \"b\"}\n"
                                                "{\"instruction\": \"c\", \"output\": \"d\"}\n"
                                                "{\"instruction\": \"x\", \"output\": }\n"
                                                "{\"instruction\": \"e\", \"output\": \"f\"}\n");
        const PipelineResult r = scan(p);
        // Column 32 is the '}' where a value should be; the rest is nlohmann-json's wording.
        QCOMPARE(issueTexts(r.issues),
                 std::vector<std::string>{p + ":3: error: invalid JSON at column 32: syntax error while parsing value - "
                                              "unexpected '}'; expected '[', '{', or a literal"});
        QCOMPARE(r.stats.records, int64_t(3)); // the lines after it are still read
        QCOMPARE(r.stats.recordsInvalid, int64_t(1));

        // Inside a JSON array the position is the line in the file, not in the record.
        const std::string a = file("bad.json", "[\n{\"instruction\": \"a\",\n \"output\": [}\n]");
        // The mismatched bracket also swallows the array's ']', so the array is left open.
        QCOMPARE(issueTexts(scan(a).issues),
                 (std::vector<std::string>{a + ":3: error: invalid JSON at column 13: syntax error while parsing value - "
                                               "unexpected '}'; expected '[', '{', or a literal",
                                           a + ":4: error: unexpected end of file: the array opened at line 1 is not "
                                               "closed (truncated file?)"}));
    }

    void wrongFieldTypes()
    {
        const std::string p = file("types.jsonl", "{\"instruction\": \"a\", \"output\": 5}\n"
                                                  "{\"instruction\": [\"x\"], \"output\": \"b\"}\n"
                                                  "{\"instruction\": \"a\", \"output\": \"b\", \"history\": [[\"q\"]]}\n"
                                                  "{\"output\": \"b\"}\n"
                                                  "{\"instruction\": \"a\", \"output\": \"\"}\n"
                                                  "[1, 2]\n");
        QCOMPARE(issueTexts(scan(p, "alpaca").issues),
                 (std::vector<std::string>{p + ": warning: format: you chose alpaca, but only 2 of 5 sampled records "
                                               "have instruction and output",
                                           p + ":1: error: output: expected a string, got a number",
                                           p + ":2: error: instruction: expected a string, got an array",
                                           p + ":3: error: history[0]: expected a [prompt, response] pair of strings",
                                           p + ":4: error: instruction: missing",
                                           p + ":5: error: output: empty response",
                                           p + ":6: error: the record is an array, expected an object"}));

        const std::string m = file("types-messages.jsonl",
                                   "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, "
                                   "{\"role\": \"assistant\", \"content\": 7}]}\n"
                                   "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image\"}]}]}\n"
                                   "{\"messages\": [{\"content\": \"a\"}]}\n"
                                   "{\"messages\": \"hello\"}\n");
        QCOMPARE(issueTexts(scan(m, "messages").issues),
                 (std::vector<std::string>{
                     m + ":1: error: messages[1].content: expected a string or a list of text parts, got a number",
                     m + ":2: error: messages[0].content[0]: only text parts are supported, got type 'image'",
                     m + ":3: error: messages[0].role: missing",
                     m + ":4: error: messages: expected a list of turns, got a string"}));
    }

    void invalidUtf8()
    {
        const std::string p = file("utf8.jsonl", "{\"instruction\": \"a\", \"output\": \"b\"}\n"
                                                 "{\"instruction\": \"ab\xff" "cd\", \"output\": \"b\"}\n"
                                                 "{\"instruction\": \"\xc3\xa9t\xc3\xa9\", \"output\": \"\xe2\x82\"}\n");
        QCOMPARE(issueTexts(scan(p).issues),
                 (std::vector<std::string>{p + ":2: error: invalid UTF-8 at column 20 (byte 0xff)",
                                           p + ":3: error: invalid UTF-8 at column 35 (byte 0xe2)"}));
        // CSV: the column of the field, the name of the column.
        const std::string c = file("utf8.csv", "prompt,completion\nok,fine\n\"multi\nline\",bad\xc0\xaf\n");
        QCOMPARE(issueTexts(scan(c).issues),
                 std::vector<std::string>{c + ":4: error: completion: invalid UTF-8 at column 10 (byte 0xc0)"});
        // Text: the line inside a paragraph.
        const std::string t = file("utf8.txt", "fine\n\nalso fine\nbut \xed\xa0\x80 here\n");
        DatasetSpec spec;
        spec.path = t;
        spec.textUnit = "paragraph";
        QCOMPARE(issueTexts(runDatasetPipeline(spec, nullptr, "", {}).issues),
                 std::vector<std::string>{t + ":4: error: invalid UTF-8 at column 5 (byte 0xed)"});
    }

    void emptyFiles()
    {
        const std::string p = file("empty.jsonl", "");
        QCOMPARE(issueTexts(scan(p).issues), std::vector<std::string>{p + ": error: the file is empty"});
        const std::string blank = file("blank.jsonl", "\n\n   \n");
        QCOMPARE(issueTexts(scan(blank).issues), std::vector<std::string>{blank + ": error: the file contains no records"});
        const std::string arr = file("empty.json", "[]");
        QCOMPARE(issueTexts(scan(arr).issues), std::vector<std::string>{arr + ": error: the file contains no records"});
        QCOMPARE(issueTexts(scan(m_dir.filePath("missing.jsonl").toStdString()).issues),
                 std::vector<std::string>{m_dir.filePath("missing.jsonl").toStdString() + ": error: no such file"});
    }

    void fiftyMegabyteLine()
    {
        const size_t size = size_t(50) << 20;
        const std::string big = "{\"text\": \"" + std::string(size, 'a') + "\"}";
        const std::string p = file("big.jsonl", big + "\n{\"text\": \"small\"}\n");
        const PipelineResult r = scan(p);
        QCOMPARE(issueTexts(r.issues),
                 std::vector<std::string>{p + ":1: error: the record is 52428812 bytes, above the limit of 16777216 "
                                              "(max_record_bytes)"});
        QCOMPARE(r.stats.records, int64_t(1)); // line 2
        // The same line in a JSON array and as plain text.
        const std::string a = file("big.json", "[\n" + big + ",\n{\"text\": \"small\"}]");
        QCOMPARE(issueTexts(scan(a).issues),
                 std::vector<std::string>{a + ":2: error: the record is 52428812 bytes, above the limit of 16777216 "
                                              "(max_record_bytes)"});
        const std::string t = file("big.txt", std::string(size, 'b') + "\nsmall\n");
        const PipelineResult rt = scan(t);
        QCOMPARE(issueTexts(rt.issues),
                 std::vector<std::string>{t + ":1: error: the record is 52428800 bytes, above the limit of 16777216 "
                                              "(max_record_bytes)"});
        QCOMPARE(rt.stats.records, int64_t(1));
        // Allowed when the limit says so.
        const PipelineResult ok = scan(p, "auto", int64_t(64) << 20);
        QCOMPARE(ok.issues.errors(), int64_t(0));
        QCOMPARE(ok.stats.records, int64_t(2));
    }

    void tooDeep()
    {
        const std::string p = file("deep.jsonl", "{\"a\": " + std::string(100, '[') + std::string(100, ']') + "}\n");
        QCOMPARE(issueTexts(scan(p).issues),
                 std::vector<std::string>{p + ":1: error: JSON nested deeper than 64 levels at column 70"});
    }

    void everyTruncationIsHandled()
    {
        // Each prefix of a valid file: no exception escapes, and every prefix that cuts a
        // record short is reported.
        const std::string full = "[\n  {\"instruction\": \"a\\\"b\", \"input\": \"\", \"output\": \"c\"},\n"
                                 "  {\"conversations\": [{\"from\": \"human\", \"value\": \"q\"}]}\n]\n";
        for (size_t n = 1; n < full.size(); ++n) {
            const std::string p = file("cut.json", full.substr(0, n));
            PipelineResult r;
            try {
                r = scan(p);
            } catch (const std::exception &e) {
                QFAIL(("exception at length " + std::to_string(n) + ": " + e.what()).c_str());
            }
            const bool complete = full.substr(0, n).find(']', full.size() - 3) != std::string::npos;
            if (!complete)
                QVERIFY2(r.issues.errors() > 0, std::to_string(n).c_str());
        }
    }

    void prepareRefusesErrors()
    {
        const std::string p = file("mixed.jsonl", "{\"instruction\": \"a\", \"output\": \"b\"}\n"
                                                  "{\"instruction\": \"c\", \"output\": 1}\n"
                                                  "{\"instruction\": \"e\", \"output\": \"f\"}\n");
        const Tokenizer t = fixtureTokenizer("qwen");
        DatasetSpec spec;
        spec.path = p;
        spec.chatTemplate = "chatml";
        try {
            prepareDataset(spec, t, "");
            QFAIL("prepared data with errors");
        } catch (const Error &e) {
            QCOMPARE(std::string(e.what()),
                     p + ": 1 error in the data; fix it, or set drop_invalid to leave the bad records out\n  " + p +
                         ":2: error: output: expected a string, got a number");
        }
        spec.dropInvalid = true;
        const PreparedSplits s = prepareDataset(spec, t, "");
        QCOMPARE(s.train.records(), int64_t(2));
        QCOMPARE(s.issues.errors(), int64_t(1));
        // Nothing usable at all.
        spec.path = file("none.jsonl", "{\"instruction\": 1, \"output\": 2}\n");
        try {
            prepareDataset(spec, t, "");
            QFAIL("prepared data of no known format");
        } catch (const Error &e) {
            QCOMPARE(std::string(e.what()), spec.path + ": cannot tell the format: no known layout matches the records "
                                                        "(the first record has keys: instruction, output); set format "
                                                        "and field_map");
        }
        spec.format = "alpaca";
        try {
            prepareDataset(spec, t, "");
            QFAIL("prepared nothing");
        } catch (const Error &e) {
            QCOMPARE(std::string(e.what()), spec.path + ": nothing to train on: no record is usable (" + spec.path +
                                                        ":1: error: instruction: expected a string, got a number)");
        }
    }
};

QTEST_GUILESS_MAIN(TestBroken)
#include "tst_broken.moc"
