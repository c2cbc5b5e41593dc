// Perplexity of stories260K (F32 GGUF) against llama.cpp's per-position NLL (golden
// F32_kvf32 files, F32 cache like ours). The stream is text a's 128 tokens followed by
// text b's (each starts with BOS), so with n_ctx 128 each window is exactly one golden
// context and the reference is exp(mean nll_next over positions 64..126 of both),
// computed from the golden files alone.
#include "backend/cpu/CpuDevice.h"
#include "core/Error.h"
#include "eval/Perplexity.h"
#include "model/LoadedModel.h"

#include "Fixtures.h"

#include <QtTest>
#include <cmath>

using namespace lathe;

class TestPerplexity : public QObject
{
    Q_OBJECT
private slots:
    void matchesGolden()
    {
        auto model = std::make_shared<LoadedModel>(
            loadGgufModel(test::fixture("golden/stories260K/models/stories260K-F32.gguf")));
        Session s(model, std::make_shared<CpuDevice>(2), {128, DType::F32});
        std::vector<int32_t> stream;
        double refSum = 0;
        int refCount = 0;
        std::vector<double> chunkRef;
        for (const char *text : {"a", "b"}) {
            const auto g = test::readJson(test::fixture(std::string("golden/stories260K/logits/F32_kvf32_") + text + ".json"));
            const auto tokens = g["tokens"].get<std::vector<int32_t>>();
            QCOMPARE(tokens.size(), size_t(128));
            stream.insert(stream.end(), tokens.begin(), tokens.end());
            double sum = 0;
            for (int j = 64; j <= 126; ++j)
                sum += g["positions"][size_t(j)]["nll_next"].get<double>();
            chunkRef.push_back(sum / 63);
            refSum += sum;
            refCount += 63;
        }
        stream.insert(stream.end(), {5, 6, 7}); // a short tail is dropped by the protocol
        const double refNll = refSum / refCount;

        const PerplexityResult r = computePerplexity(s, stream, {128, true});
        QCOMPARE(r.tokensScored, int64_t(126));
        QCOMPARE(r.chunks.size(), size_t(2));
        // Per position an F32 engine is within ~1e-5 of these NLLs (crosscheck_f64); 1e-4
        // on the mean catches any scoring off by one position (~1 nat on this text).
        qInfo("mean NLL %.7f vs golden %.7f, ppl %.6f vs %.6f", r.meanNll, refNll, r.ppl, std::exp(refNll));
        QVERIFY(std::abs(r.meanNll - refNll) < 1e-4);
        QVERIFY(std::abs(r.ppl / std::exp(refNll) - 1) < 1e-4);
        for (size_t c = 0; c < 2; ++c)
            QVERIFY(std::abs(r.chunks[c].meanNll - chunkRef[c]) < 1e-4);

        QVERIFY_THROWS_EXCEPTION(Error, computePerplexity(s, std::vector<int32_t>(100, 1), {128, true}));
        QVERIFY_THROWS_EXCEPTION(Error, computePerplexity(s, stream, {256, true})); // beyond the context
    }
};

QTEST_GUILESS_MAIN(TestPerplexity)
#include "tst_perplexity.moc"
