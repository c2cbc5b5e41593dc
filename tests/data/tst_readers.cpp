// The streaming readers on small hand-written files: RFC 4180 CSV/TSV quoting (separators,
// doubled quotes and newlines inside quoted fields, CRLF, the line each record starts on),
// the CSV errors, plain text by line and by paragraph, JSON arrays in any layout, a .json
// file of JSON Lines, byte order marks, and a tiny read buffer so records cross buffer
// boundaries.
#include "DataTestUtil.h"

#include "data/ByteReader.h"
#include "data/RecordReader.h"

using namespace lathe;
using namespace lathe::test;
using Json = nlohmann::ordered_json;

namespace {

struct Read
{
    std::vector<RawRecord> records;
    std::vector<std::string> issues;
    std::string kind;
};

Read readAll(const std::string &path, const ReadOptions &options = {})
{
    Read r;
    IssueList issues;
    auto reader = openRecordReader(path, options, issues);
    for (RawRecord rec; reader->next(rec);)
        r.records.push_back(rec);
    r.kind = reader->kind();
    r.issues = issueTexts(issues);
    return r;
}

std::vector<int64_t> lines(const Read &r)
{
    std::vector<int64_t> out;
    for (const auto &rec : r.records)
        out.push_back(rec.line);
    return out;
}

} // namespace

class TestReaders : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void csvQuoting()
    {
        const std::string path = tempFile(m_dir, "q.csv",
                                          "instruction,input,output\r\n"
                                          "plain,,answer\r\n"
                                          "\"with, comma\",\"say \"\"hi\"\"\",\"two\r\nlines\"\r\n"
                                          "\r\n"
                                          "\"\",x,\"\"\"quoted\"\" start\"\r\n"
                                          "a \"quote\" inside,y,z");
        const Read r = readAll(path);
        QCOMPARE(r.kind, std::string("csv"));
        QCOMPARE(r.issues, std::vector<std::string>{});
        QCOMPARE(r.records.size(), size_t(4));
        QCOMPARE(lines(r), (std::vector<int64_t>{2, 3, 6, 7}));
        QCOMPARE(r.records[0].value, Json::parse(R"({"instruction":"plain","input":"","output":"answer"})"));
        QCOMPARE(r.records[1].value["instruction"].get<std::string>(), std::string("with, comma"));
        QCOMPARE(r.records[1].value["input"].get<std::string>(), std::string("say \"hi\""));
        QCOMPARE(r.records[1].value["output"].get<std::string>(), std::string("two\r\nlines"));
        QCOMPARE(r.records[2].value["instruction"].get<std::string>(), std::string(""));
        QCOMPARE(r.records[2].value["output"].get<std::string>(), std::string("\"quoted\" start"));
        QCOMPARE(r.records[3].value["instruction"].get<std::string>(), std::string("a \"quote\" inside"));
        // Key order follows the header.
        QCOMPARE(r.records[0].value.begin().key(), std::string("instruction"));
    }

    void csvErrors()
    {
        const std::string path = tempFile(m_dir, "bad.csv",
                                          "prompt,completion\n"
                                          "a,b\n"
                                          "only one field\n"
                                          "\"closed\"junk,b\n"
                                          "c,d\n"
                                          "e,\"never closed\n"
                                          "f,g\n");
        const Read r = readAll(path);
        QCOMPARE(r.records.size(), size_t(2));
        QCOMPARE(lines(r), (std::vector<int64_t>{2, 5}));
        QCOMPARE(r.issues, (std::vector<std::string>{
                               path + ":3: error: 1 field, but the header has 2 columns",
                               path + ":4: error: text after the closing quote of field 1 (column 9); quote the whole field",
                               path + ":6: error: unterminated quoted field (the quote opens at line 6, column 3)",
                           }));
        const std::string dup = tempFile(m_dir, "dup.csv", "a,b,a\n1,2,3\n");
        QCOMPARE(readAll(dup).issues, std::vector<std::string>{dup + ":1: error: the header names column 'a' twice"});
    }

    void tsv()
    {
        const std::string path =
            tempFile(m_dir, "t.tsv", "text\tlabel\nhe said \"hi\", twice\t1\n\"tab\tinside\"\t2\n");
        const Read r = readAll(path);
        QCOMPARE(r.kind, std::string("tsv"));
        QCOMPARE(r.issues, std::vector<std::string>{});
        QCOMPARE(r.records.size(), size_t(2));
        QCOMPARE(r.records[0].value["text"].get<std::string>(), std::string("he said \"hi\", twice"));
        QCOMPARE(r.records[1].value["text"].get<std::string>(), std::string("tab\tinside"));
    }

    void textByLineAndParagraph()
    {
        const std::string path = tempFile(m_dir, "p.txt", "\xEF\xBB\xBFone\r\ntwo\n\n  \nthree\nfour\n\n\nfive");
        const Read byLine = readAll(path);
        QCOMPARE(byLine.kind, std::string("text"));
        QCOMPARE(byLine.records.size(), size_t(5));
        QCOMPARE(lines(byLine), (std::vector<int64_t>{1, 2, 5, 6, 9}));
        QCOMPARE(byLine.records[0].value, Json::parse(R"({"text":"one"})")); // BOM and CR gone
        ReadOptions paragraphs;
        paragraphs.textUnit = "paragraph";
        const Read byParagraph = readAll(path, paragraphs);
        QCOMPARE(byParagraph.records.size(), size_t(3));
        QCOMPARE(lines(byParagraph), (std::vector<int64_t>{1, 5, 9}));
        QCOMPARE(byParagraph.records[0].value["text"].get<std::string>(), std::string("one\ntwo"));
        QCOMPARE(byParagraph.records[1].value["text"].get<std::string>(), std::string("three\nfour"));
        QCOMPARE(byParagraph.records[2].value["text"].get<std::string>(), std::string("five"));
    }

    void jsonLayouts()
    {
        // Compact, pretty, strings holding brackets and escaped quotes, nested arrays.
        const std::string text = "\xEF\xBB\xBF  [{\"a\": \"x]}\\\"[{\", \"b\": [1, [2, {\"c\": 3}]]},\n"
                                 "\n"
                                 "  {\n    \"a\": \"line\\nbreak\"\n  }\n"
                                 ",{}]\n";
        const std::string path = tempFile(m_dir, "a.json", text);
        const Read r = readAll(path);
        QCOMPARE(r.kind, std::string("json"));
        QCOMPARE(r.issues, std::vector<std::string>{});
        QCOMPARE(lines(r), (std::vector<int64_t>{1, 3, 6}));
        QCOMPARE(r.records[0].value["a"].get<std::string>(), std::string("x]}\"[{"));
        QCOMPARE(r.records[0].value["b"].dump(), std::string("[1,[2,{\"c\":3}]]"));
        QCOMPARE(r.records[1].value["a"].get<std::string>(), std::string("line\nbreak"));
        QVERIFY(r.records[2].value.empty());

        // A .json file of JSON Lines is read as such.
        const std::string jl = tempFile(m_dir, "lines.json", "{\"a\": 1}\n\n{\"a\": 2}\n");
        const Read l = readAll(jl);
        QCOMPARE(l.kind, std::string("jsonl"));
        QCOMPARE(lines(l), (std::vector<int64_t>{1, 3}));
        // A pretty-printed single object is neither.
        const std::string obj = tempFile(m_dir, "obj.json", "{\n  \"data\": []\n}\n");
        QCOMPARE(readAll(obj).issues,
                 std::vector<std::string>{obj + ":1: error: expected a JSON array of records ('[') or one JSON object "
                                                "per line; line 1 is not a complete JSON object"});
        // Empty array, trailing comma, text after the array.
        QCOMPARE(readAll(tempFile(m_dir, "e.json", " [ ] ")).records.size(), size_t(0));
        const std::string trailing = tempFile(m_dir, "t.json", "[{\"a\": 1},\n]\nx");
        const Read t = readAll(trailing);
        QCOMPARE(t.records.size(), size_t(1));
        QCOMPARE(t.issues, (std::vector<std::string>{trailing + ":2: error: trailing comma before ']'",
                                                     trailing + ":3: error: unexpected 'x' after the end of the array"}));
    }

    void recordsCrossBufferBoundaries()
    {
        // ByteReader with a 7-byte buffer: every line and record straddles refills.
        const std::string path = tempFile(m_dir, "tiny.jsonl", "{\"text\": \"first line\"}\r\n\n{\"text\": \"second\"}");
        ByteReader in(path, 7);
        std::string line;
        size_t length = 0;
        QVERIFY(in.readLine(line, 100, length));
        QCOMPARE(line, std::string("{\"text\": \"first line\"}"));
        QCOMPARE(length, line.size());
        QCOMPARE(in.line(), int64_t(2));
        line.clear();
        QVERIFY(in.readLine(line, 100, length));
        QCOMPARE(line, std::string());
        line.clear();
        QVERIFY(in.readLine(line, 5, length)); // only 5 bytes kept, the length is still known
        QCOMPARE(line, std::string("{\"tex"));
        QCOMPARE(length, size_t(18));
        QVERIFY(!in.readLine(line, 5, length));
    }

    void encodingsRefused()
    {
        const std::string utf16 = tempFile(m_dir, "u16.jsonl", std::string("\xFF\xFE{\0\"\0", 6));
        IssueList issues;
        try {
            openRecordReader(utf16, {}, issues)->next(*std::make_unique<RawRecord>());
            QFAIL("UTF-16 accepted");
        } catch (const Error &e) {
            QCOMPARE(std::string(e.what()),
                     utf16 + ": the file is UTF-16 or UTF-32 (byte order mark); save it as UTF-8");
        }
        try {
            openRecordReader(tempFile(m_dir, "x.parquet", "PAR1"), {}, issues);
            QFAIL("unknown extension accepted");
        } catch (const Error &e) {
            QVERIFY(std::string(e.what()).find("unknown dataset file type '.parquet'") != std::string::npos);
        }
    }
};

QTEST_GUILESS_MAIN(TestReaders)
#include "tst_readers.moc"
