// Hostile input: malformed tokenizer.json / tokenizer.model / tokenizer.bin must give a
// lathe::Error naming the problem (never a crash or a hang), and invalid UTF-8 text has
// the documented behaviour (each ill-formed subsequence becomes U+FFFD).
#include "core/Error.h"
#include "tokenizer/Tokenizer.h"

#include "Fixtures.h"

#include <QtTest>
#include <thread>

using namespace lathe;
using namespace lathe::test;

namespace {
// A tiny valid byte-level BPE over the GPT-2 alphabet for ASCII letters, built in the test.
std::string tinyJson(const std::string &extraModel = "", const std::string &merges = "[\"a b\"]")
{
    std::string vocab;
    int id = 0;
    for (char c = 'a'; c <= 'z'; ++c)
        vocab += std::string(vocab.empty() ? "" : ",") + "\"" + c + "\":" + std::to_string(id++);
    vocab += ",\"ab\":" + std::to_string(id++);
    return "{\"model\":{\"type\":\"BPE\",\"vocab\":{" + vocab + "},\"merges\":" + merges + extraModel +
           "},\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true},\"added_tokens\":[]}";
}

void expectError(const std::string &json, const char *fragment)
{
    try {
        Tokenizer::fromTokenizerJson(json);
        QFAIL(qPrintable(QString("accepted: ") + fragment));
    } catch (const Error &e) {
        const std::string what = e.what();
        if (what.find(fragment) == std::string::npos)
            QFAIL(qPrintable(QString::fromStdString("message '" + what + "' lacks '" + fragment + "'")));
    }
}
} // namespace

class TestTokenizerHostile : public QObject
{
    Q_OBJECT
private slots:
    void tinyIsValid()
    {
        const auto tok = Tokenizer::fromTokenizerJson(tinyJson());
        QCOMPARE(tok.encode("ab").size(), size_t(1));
        QCOMPARE(tok.encode("ab").front(), 26);
    }
    void malformedJson()
    {
        expectError("", "tokenizer.json");
        expectError("{", "tokenizer.json");
        expectError("[]", "root is not an object");
        expectError("{}", "model is missing");
        expectError("{\"model\":[]}", "model has type array");
        expectError("{\"model\":{\"type\":\"Unigram\",\"vocab\":[]}}", "not supported");
        expectError("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":\"x\"},\"merges\":[]}}", "not an integer");
        expectError("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":-1},\"merges\":[]}}", "has id -1");
        expectError("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":2000000000},\"merges\":[]}}", "has id");
        expectError("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":0},\"merges\":[]}}", "used twice");
        expectError("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":5}}", "merges has type");
        expectError(tinyJson("", "[\"a zz\"]"), "not in the vocabulary");
        expectError(tinyJson("", "[\"a c\"]"), "makes a token not in the vocabulary");
        expectError(tinyJson("", "[\"abc\"]"), "is not 'left right'");
        expectError(tinyJson("", "[[\"a\"]]"), "neither a string nor a pair");
        expectError(std::string(100000, '[') + std::string(100000, ']'), "nesting deeper");
        expectError("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(unclosed\"},\"behavior\":\"Isolated\"}}",
                    "regex '(unclosed'");
        expectError("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"added_tokens\":[{\"id\":99999999,\"content\":\"x\"}]}",
                    "out of range");
    }
    void hugeSingleToken()
    {
        // A 10 MB vocabulary entry loads (it is just a long piece) and encodes without
        // blowing up; merges do not name it.
        const std::string big(10 << 20, 'q');
        std::string json = tinyJson();
        json.replace(json.find("\"ab\":26"), 7, "\"ab\":26,\"" + big + "\":27");
        const auto tok = Tokenizer::fromTokenizerJson(json);
        QCOMPARE(tok.vocabSize(), 28);
        QCOMPARE(tok.encode("qqq").size(), size_t(3));
    }
    void malformedBinaries()
    {
        for (const std::string &bytes : {std::string(), std::string("\x0a\xff", 2), std::string("\x0a\x05" "ab", 4),
                                         std::string("\x08\x01", 2)}) {
            QVERIFY_THROWS_EXCEPTION(Error, Tokenizer::fromSentencePiece(bytes));
            QVERIFY_THROWS_EXCEPTION(Error, Tokenizer::fromLlama2c(bytes));
        }
        // Truncations of a real model: an Error or a smaller valid model, never a crash.
        const std::string real = readText(fixture("models/stories260K/tok512.model"));
        for (size_t cut : {size_t(1), size_t(7), real.size() / 3, real.size() - 1}) {
            try {
                (void)Tokenizer::fromSentencePiece(std::string_view(real).substr(0, cut)).encode("Hello");
            } catch (const Error &) {
            }
        }
    }
    void invalidUtf8BecomesReplacementCharacter()
    {
        const auto qwen = Tokenizer::fromFile(fixture("tokenizers/qwen/tokenizer.json"));
        // Lone continuation byte, truncated 3-byte sequence, overlong, surrogate.
        QCOMPARE(qwen.encode("a\x80z"), qwen.encode("a\xEF\xBF\xBDz"));
        QCOMPARE(qwen.encode("a\xE4\xB8z"), qwen.encode("a\xEF\xBF\xBDz"));
        QCOMPARE(qwen.encode("\xC0\xAF"), qwen.encode("\xEF\xBF\xBD\xEF\xBF\xBD"));
        QCOMPARE(qwen.encode("\xED\xA0\x80"), qwen.encode("\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"));
        const auto spm = Tokenizer::fromFile(fixture("models/stories260K/tok512.model"));
        QCOMPARE(spm.encode("x\xFFy"), spm.encode("x\xEF\xBF\xBDy"));
        QVERIFY_THROWS_EXCEPTION(Error, spm.decode({99999}));
        QVERIFY_THROWS_EXCEPTION(Error, spm.decode({-1}));
    }
    void sharedAcrossThreads()
    {
        // One Tokenizer, four threads, same answers as a single thread.
        const auto tok = Tokenizer::fromFile(fixture("tokenizers/qwen/tokenizer.json"));
        const std::string text = readText(fixture("golden/texts/a.txt"));
        const auto want = tok.encode(text);
        std::vector<std::thread> threads;
        std::atomic<int> mismatches{0};
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&] {
                for (int k = 0; k < 20; ++k)
                    if (tok.encode(text) != want || tok.decode(want) != text)
                        ++mismatches;
            });
        for (auto &th : threads)
            th.join();
        QCOMPARE(mismatches.load(), 0);
    }
    void longWhitespaceRunsDoNotHang()
    {
        const auto tok = Tokenizer::fromFile(fixture("tokenizers/qwen/tokenizer.json"));
        const std::string spaces(200000, ' ');
        const auto ids = tok.encode(spaces + "x" + std::string(100000, '\n'));
        QCOMPARE(tok.decode(ids), spaces + "x" + std::string(100000, '\n'));
    }
};

QTEST_GUILESS_MAIN(TestTokenizerHostile)
#include "tst_tokenizer_hostile.moc"
