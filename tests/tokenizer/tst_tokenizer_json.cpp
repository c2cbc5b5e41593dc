// tokenizer.json families (Llama 3, Qwen, Mistral, SmolLM2): loading, special-token
// matching on and off, BOS/EOS rules, and streaming decode of split characters. Expected
// ids are the ids these files assign (read from the files' own vocab/added_tokens).
#include "tokenizer/Tokenizer.h"

#include "Fixtures.h"

#include <QtTest>
#include <map>

using namespace lathe;
using namespace lathe::test;

class TestTokenizerJson : public QObject
{
    Q_OBJECT

    static int32_t addedId(const nlohmann::json &tj, const std::string &content)
    {
        for (const auto &a : tj.at("added_tokens"))
            if (a.at("content") == content)
                return a.at("id").get<int32_t>();
        return -1;
    }

    // special on: one id; off: plain text pieces that decode back to the same text.
    // Loaded once per family: the big vocabularies take a second or two each.
    std::map<std::string, Tokenizer> m_loaded;
    const Tokenizer &load(const std::string &dir)
    {
        auto it = m_loaded.find(dir);
        if (it == m_loaded.end())
            it = m_loaded.emplace(dir, Tokenizer::fromFile(fixture("tokenizers/" + dir + "/tokenizer.json"))).first;
        return it->second;
    }

    void checkSpecial(const char *dir, const std::string &content)
    {
        const std::string path = fixture(std::string("tokenizers/") + dir + "/tokenizer.json");
        const Tokenizer &tok = load(dir);
        const int32_t id = addedId(readJson(path), content);
        QVERIFY(id >= 0);
        EncodeOptions on;
        on.addSpecial = false;
        const std::string text = "Hi" + content + "there";
        const auto with = tok.encode(text, on);
        QVERIFY(std::count(with.begin(), with.end(), id) == 1);
        QVERIFY(tok.isSpecial(id));
        QCOMPARE(tok.decode(with), text);
        QCOMPARE(tok.decode(with, true), std::string("Hithere"));
        EncodeOptions off = on;
        off.parseSpecial = false;
        const auto without = tok.encode(text, off);
        QVERIFY(std::count(without.begin(), without.end(), id) == 0);
        QVERIFY(without.size() > with.size());
        QCOMPARE(tok.decode(without), text);
        QCOMPARE(tok.tokenToId(content), id);
    }

private slots:
    void llama3()
    {
        checkSpecial("llama3", "<|begin_of_text|>");
        checkSpecial("llama3", "<|eot_id|>");
        const Tokenizer &tok = load("llama3");
        QCOMPARE(tok.vocabSize(), 128256);
        QCOMPARE(tok.bosId(), 128000);
        QCOMPARE(tok.eotId(), 128009);
        // ignore_merges: a word that is itself a vocab entry is one token.
        EncodeOptions plain;
        plain.addSpecial = false;
        const auto ids = tok.encode(" Hello world", plain);
        QCOMPARE(ids.size(), size_t(2));
        QCOMPARE(ids[0], tok.tokenToId("\xC4\xA0Hello")); // "ĠHello"
    }
    void qwen()
    {
        checkSpecial("qwen", "<|im_start|>");
        checkSpecial("qwen", "<|im_end|>");
        const Tokenizer &tok = load("qwen");
        QCOMPARE(tok.encode("hi").size(), size_t(1)); // no BOS: the ByteLevel post-processor adds none
        QCOMPARE(tok.eotId(), tok.tokenToId("<|im_end|>"));
    }
    void qwenNfc()
    {
        // NFC normalizer: "e" + U+0301 must encode as the precomposed "é".
        const Tokenizer &tok = load("qwen");
        QCOMPARE(tok.encode("caf\x65\xCC\x81"), tok.encode("caf\xC3\xA9"));
        // Values from the Unicode standard: A + U+030A -> U+00C5; Hangul L + V jamo ->
        // U+AC00; a + acute (class 230) + dot below (class 220) reorders to put the dot
        // first, which composes: U+1EA1 (a with dot below) + U+0301.
        QCOMPARE(tok.encode("A\xCC\x8A"), tok.encode("\xC3\x85"));
        QCOMPARE(tok.encode("\xE1\x84\x80\xE1\x85\xA1"), tok.encode("\xEA\xB0\x80"));
        QCOMPARE(tok.encode("a\xCC\x81\xCC\xA3"), tok.encode("\xE1\xBA\xA1\xCC\x81"));
    }
    void mistral()
    {
        checkSpecial("mistral", "</s>");
        const Tokenizer &tok = load("mistral");
        const auto ids = tok.encode("Hello");
        QCOMPARE(ids.front(), 1); // TemplateProcessing: <s> $A
        QCOMPARE(tok.decode(ids, true), std::string("Hello"));
        EncodeOptions noBos;
        noBos.addBos = false;
        QCOMPARE(tok.encode("Hello", noBos).front(), tok.tokenToId("\xE2\x96\x81Hello"));
    }
    void smollm2()
    {
        checkSpecial("smollm2", "<|im_start|>");
        const Tokenizer &tok = load("smollm2");
        EncodeOptions plain;
        plain.addSpecial = false;
        // Digits(individual_digits): "2024" is four tokens, one per digit.
        QCOMPARE(tok.encode("2024", plain).size(), size_t(4));
    }
    void streamDecoderHoldsBackSplitCharacters()
    {
        // Byte-level vocabularies split rare characters into byte tokens; the stream must
        // never show half a character, and the concatenation equals decode().
        const Tokenizer &tok = load("qwen");
        const std::string text = "Emoji 🦙🌫️ and 中文字符 and Ωmega!";
        const auto ids = tok.encode(text);
        auto stream = tok.streamDecoder();
        std::string joined;
        for (int32_t id : ids) {
            const std::string part = stream.feed(id);
            QVERIFY(QString::fromUtf8(part.data(), qsizetype(part.size())).toUtf8() ==
                    QByteArray(part.data(), qsizetype(part.size()))); // valid UTF-8 only
            joined += part;
        }
        joined += stream.flush();
        QCOMPARE(joined, text);
        // An incomplete character at the end comes out as U+FFFD on flush.
        auto s2 = tok.streamDecoder();
        const int32_t lead = tok.encode("\xF0\x9F\xA6\x99").front(); // first byte token of 🦙
        if (tok.pieceBytes(lead).size() < 4) {
            QCOMPARE(s2.feed(lead), std::string());
            QCOMPARE(s2.flush(), std::string("\xEF\xBF\xBD"));
        }
    }
    void spmStreamStripsDummyPrefixOnce()
    {
        const auto tok = Tokenizer::fromFile(fixture("tokenizers/llama2-spm/tokenizer.model"));
        const auto ids = tok.encode(" Hello world"); // BOS, ▁, ▁Hello, ▁world
        auto stream = tok.streamDecoder(true);
        std::string joined;
        for (int32_t id : ids)
            joined += stream.feed(id);
        QCOMPARE(joined, std::string(" Hello world"));
    }
};

QTEST_GUILESS_MAIN(TestTokenizerJson)
#include "tst_tokenizer_json.moc"
