// tokenizer_config.json over tokenizer.json: an explicit null bos_token / eos_token means
// "none" (Qwen ships "bos_token": null while its vocabulary has an ordinary piece "<s>"),
// an absent config or key keeps the guess by name, and a null cannot remove the BOS a
// TemplateProcessing post-processor inserts. Expected ids are read from the fixture
// files' own vocab and added_tokens.
#include "tokenizer/Tokenizer.h"

#include "Fixtures.h"

#include <QtTest>

using namespace lathe;
using namespace lathe::test;

class TestTokenizerConfig : public QObject
{
    Q_OBJECT

    std::string m_qwenJson;
    nlohmann::json m_qwenVocab, m_qwenConfig;

    static int32_t idIn(const nlohmann::json &tokenizerJson, const std::string &piece)
    {
        for (const auto &a : tokenizerJson.at("added_tokens"))
            if (a.at("content") == piece)
                return a.at("id").get<int32_t>();
        const auto &vocab = tokenizerJson.at("model").at("vocab");
        return vocab.contains(piece) ? vocab.at(piece).get<int32_t>() : -1;
    }

    Tokenizer qwenWith(const nlohmann::json &config) { return Tokenizer::fromTokenizerJson(m_qwenJson, config.dump()); }

private slots:
    void initTestCase()
    {
        m_qwenJson = readText(fixture("tokenizers/qwen/tokenizer.json"));
        m_qwenVocab = nlohmann::json::parse(m_qwenJson);
        m_qwenConfig = readJson(fixture("tokenizers/qwen/tokenizer_config.json"));
        // The premise: the file says null, and "<s>" is a plain piece of the vocabulary.
        QVERIFY(m_qwenConfig.contains("bos_token") && m_qwenConfig["bos_token"].is_null());
        QVERIFY(idIn(m_qwenVocab, "<s>") >= 0);
    }

    void qwenNullBosMeansNone()
    {
        const Tokenizer tok = Tokenizer::fromFile(fixture("tokenizers/qwen/tokenizer.json"));
        QCOMPARE(tok.bosId(), -1);
        QVERIFY(!tok.addsBos());
        QCOMPARE(tok.eosId(), idIn(m_qwenVocab, "<|im_end|>"));      // eos_token
        QCOMPARE(tok.padId(), idIn(m_qwenVocab, "<|endoftext|>"));   // pad_token
        QCOMPARE(tok.eotId(), idIn(m_qwenVocab, "<|im_end|>"));
        EncodeOptions forceBos;
        forceBos.addBos = true; // asked for, but there is none to add
        QCOMPARE(tok.encode("hi", forceBos), tok.encode("hi"));
        QCOMPARE(tok.encode("hi").size(), size_t(1));
    }

    void absentConfigOrKeyKeepsTheGuess()
    {
        // tokenizer.json alone names no BOS: the usual names are looked up, as before.
        const Tokenizer bare = Tokenizer::fromTokenizerJson(m_qwenJson);
        QCOMPARE(bare.bosId(), idIn(m_qwenVocab, "<s>"));
        QCOMPARE(bare.eosId(), idIn(m_qwenVocab, "</s>"));
        nlohmann::json cfg = m_qwenConfig;
        cfg.erase("bos_token");
        const Tokenizer noKey = qwenWith(cfg);
        QCOMPARE(noKey.bosId(), idIn(m_qwenVocab, "<s>"));
        QCOMPARE(noKey.eosId(), idIn(m_qwenVocab, "<|im_end|>"));
    }

    void namedAndNullEos()
    {
        nlohmann::json cfg = m_qwenConfig;
        cfg["bos_token"] = "<|endoftext|>";
        cfg["eos_token"] = nullptr;
        const Tokenizer tok = qwenWith(cfg);
        QCOMPARE(tok.bosId(), idIn(m_qwenVocab, "<|endoftext|>"));
        QCOMPARE(tok.eosId(), -1);
        QVERIFY(!tok.addsEos());
        EncodeOptions forceEos;
        forceEos.addEos = true;
        QCOMPARE(tok.encode("hi", forceEos).size(), size_t(1));
        // The end-of-turn marker does not depend on eos_token.
        QCOMPARE(tok.eotId(), idIn(m_qwenVocab, "<|im_end|>"));
    }

    void nullBosKeepsThePostProcessorsToken()
    {
        // Mistral's TemplateProcessing inserts <s>: encoding keeps doing so whatever the
        // config says, so the BOS must stay the token it inserts.
        const std::string json = readText(fixture("tokenizers/mistral/tokenizer.json"));
        const int32_t s = idIn(nlohmann::json::parse(json), "<s>");
        QVERIFY(s >= 0);
        nlohmann::json cfg = readJson(fixture("tokenizers/mistral/tokenizer_config.json"));
        cfg["bos_token"] = nullptr;
        const Tokenizer tok = Tokenizer::fromTokenizerJson(json, cfg.dump());
        QCOMPARE(tok.bosId(), s);
        QVERIFY(tok.addsBos());
        QCOMPARE(tok.encode("Hello").front(), s);
    }
};

QTEST_GUILESS_MAIN(TestTokenizerConfig)
#include "tst_tokenizer_config.moc"
