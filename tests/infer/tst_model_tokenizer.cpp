// modelTokenizer(): the tokenizer found in a model's own files, per format. Each found
// tokenizer is checked against ids an independent engine produced (llama.cpp's golden
// tokens for stories260K, its qwen2 vocabulary vectors), so a wrong file would show.
#include "infer/ModelTokenizer.h"

#include "../tokenizer/VocabVectors.h"

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>

using namespace lathe;
using namespace lathe::test;

namespace {

// The golden text a.txt as llama.cpp tokenised it for stories260K (with BOS).
void checkStoriesTokens(const Tokenizer &tok)
{
    const auto golden = readJson(fixture("golden/stories260K/logits/F32_a.json"));
    const std::vector<int32_t> want = golden.at("tokens").get<std::vector<int32_t>>();
    std::vector<int32_t> got = tok.encode(readText(fixture("golden/texts/a.txt")));
    QVERIFY(got.size() >= want.size());
    got.resize(want.size());
    QCOMPARE(idsToString(got), idsToString(want));
}

} // namespace

class TestModelTokenizer : public QObject
{
    Q_OBJECT

private slots:
    void ggufVocabulary()
    {
        const LoadedModel model = loadGgufModel(fixture("models/stories260K/stories260Ktok512.gguf"));
        const std::optional<Tokenizer> tok = modelTokenizer(model);
        QVERIFY(tok.has_value());
        QCOMPARE(tok->vocabSize(), 512);
        checkStoriesTokens(*tok);
    }

    void ggufWithoutMetadataHasNone()
    {
        LoadedModel model;
        model.format = ModelFormat::Gguf;
        model.path = "no-such.gguf";
        QVERIFY(!modelTokenizer(model).has_value());
    }

    void llama2cTokenizerBinBeside()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        LoadedModel model;
        model.format = ModelFormat::Llama2c;
        model.path = dir.filePath("model.bin").toStdString();
        QVERIFY(!modelTokenizer(model).has_value()); // nothing beside it yet
        std::filesystem::copy_file(fixture("models/stories260K/tok512.bin"), dir.filePath("tokenizer.bin").toStdString());
        const std::optional<Tokenizer> tok = modelTokenizer(model);
        QVERIFY(tok.has_value());
        QCOMPARE(tok->vocabSize(), 512);
        checkStoriesTokens(*tok);
    }

    void hfFolderReadsTokenizerJsonAndConfig()
    {
        LoadedModel model;
        model.format = ModelFormat::HfFolder;
        model.path = fixture("tokenizers/qwen");
        const std::optional<Tokenizer> tok = modelTokenizer(model);
        QVERIFY(tok.has_value());
        QCOMPARE(tok->bosId(), -1); // tokenizer_config.json beside it says "bos_token": null
        const auto cases = readVocabVectors(fixture("tokenizers/qwen/ggml-vocab-qwen2.gguf.inp"),
                                            fixture("tokenizers/qwen/ggml-vocab-qwen2.gguf.out"));
        QVERIFY(cases.size() > 10);
        EncodeOptions plain;
        plain.addSpecial = false;
        for (size_t i = 0; i < 10; ++i)
            QCOMPARE(idsToString(tok->encode(cases[i].text, plain)), idsToString(cases[i].ids));

        QTemporaryDir empty;
        model.path = empty.path().toStdString();
        QVERIFY(!modelTokenizer(model).has_value());
    }

    void hfFolderFallsBackToSentencePieceModel()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        LoadedModel model;
        model.format = ModelFormat::HfFolder;
        model.path = dir.path().toStdString();
        std::filesystem::copy_file(fixture("models/stories260K/tok512.model"), dir.filePath("tokenizer.model").toStdString());
        const std::optional<Tokenizer> tok = modelTokenizer(model);
        QVERIFY(tok.has_value());
        QCOMPARE(tok->vocabSize(), 512);
        checkStoriesTokens(*tok);
    }
};

QTEST_GUILESS_MAIN(TestModelTokenizer)
#include "tst_model_tokenizer.moc"
