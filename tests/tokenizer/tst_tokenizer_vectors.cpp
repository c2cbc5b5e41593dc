// Every llama.cpp / SentencePiece reference vector in the fixtures, exactly, plus the
// round trip decode(encode(text)) == text for the lossless tokenizers. The references
// come from the SentencePiece library and llama.cpp, never from our own output.
#include "tokenizer/Tokenizer.h"

#include "../tokenizer/VocabVectors.h"

#include <QtTest>

using namespace lathe;
using namespace lathe::test;

class TestTokenizerVectors : public QObject
{
    Q_OBJECT

    // parseSpecial off and no BOS: how the reference ids were produced.
    static void checkAll(const Tokenizer &tok, const std::vector<VocabCase> &cases, bool lossless)
    {
        QCOMPARE(cases.size(), size_t(46));
        EncodeOptions opt;
        opt.addSpecial = false;
        opt.parseSpecial = false;
        for (const VocabCase &c : cases) {
            const std::vector<int32_t> got = tok.encode(c.text, opt);
            if (got != c.ids)
                qWarning("text: '%s'", c.text.c_str());
            QCOMPARE(idsToString(got), idsToString(c.ids));
            if (lossless)
                QCOMPARE(QString::fromStdString(tok.decode(got)), QString::fromStdString(c.text));
        }
    }

private slots:
    void llamaSpmFromTokenizerModel()
    {
        const auto tok = Tokenizer::fromFile(fixture("tokenizers/llama2-spm/tokenizer.model"));
        QCOMPARE(tok.vocabSize(), 32000);
        checkAll(tok, readVocabVectors(fixture("tokenizers/llama2-spm/ggml-vocab-llama-spm.gguf.inp"),
                                       fixture("tokenizers/llama2-spm/ggml-vocab-llama-spm.gguf.out")), true);
    }
    void llamaSpmFromLlama2cBin()
    {
        const auto tok = Tokenizer::fromFile(fixture("tokenizers/llama2-spm/llama2c-tokenizer.bin"));
        QCOMPARE(tok.vocabSize(), 32000);
        checkAll(tok, readVocabVectors(fixture("tokenizers/llama2-spm/ggml-vocab-llama-spm.gguf.inp"),
                                       fixture("tokenizers/llama2-spm/ggml-vocab-llama-spm.gguf.out")), true);
    }
    void mistralV1()
    {
        const auto tok = Tokenizer::fromFile(fixture("tokenizers/mistral/tokenizer.model.v1"));
        checkAll(tok, readVocabVectors(fixture("tokenizers/mistral/vocab-test.inp"),
                                       fixture("tokenizers/mistral/vocab-test-v1.out")), true);
    }
    void mistralV3()
    {
        const auto tok = Tokenizer::fromFile(fixture("tokenizers/mistral/mistral_instruct_tokenizer_240323.model.v3"));
        QCOMPARE(tok.vocabSize(), 32768);
        checkAll(tok, readVocabVectors(fixture("tokenizers/mistral/vocab-test.inp"),
                                       fixture("tokenizers/mistral/vocab-test-v3.out")), true);
    }
    void mistralTokenizerJsonMatchesSentencePiece()
    {
        // The same Mistral v0.1 vocabulary as tokenizer.json (rank-ordered merges) must
        // give the SentencePiece library's ids too.
        const auto tok = Tokenizer::fromFile(fixture("tokenizers/mistral/tokenizer.json"));
        checkAll(tok, readVocabVectors(fixture("tokenizers/mistral/vocab-test.inp"),
                                       fixture("tokenizers/mistral/vocab-test-v1.out")), true);
    }
    void qwen2()
    {
        const auto tok = Tokenizer::fromFile(fixture("tokenizers/qwen/tokenizer.json"));
        checkAll(tok, readVocabVectors(fixture("tokenizers/qwen/ggml-vocab-qwen2.gguf.inp"),
                                       fixture("tokenizers/qwen/ggml-vocab-qwen2.gguf.out")), true);
    }
};

QTEST_GUILESS_MAIN(TestTokenizerVectors)
#include "tst_tokenizer_vectors.moc"
