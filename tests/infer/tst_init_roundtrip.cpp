// init's acceptance test: a random model written by engine/model/write as a Hugging
// Face folder and as a GGUF file must give the same logits as the weights in memory,
// through loadModel and the engine's forward pass, for the tiny llama, mistral, qwen2
// and qwen3 shapes. For llama and mistral this only holds if the GGUF q/k rows were
// permuted into the interleaved layout exactly as llama.cpp's converter does and the
// loader reads GGUF llama as interleaved; a negative control shows the test would see
// a missing permutation.
#include "backend/cpu/CpuDevice.h"
#include "infer/Session.h"
#include "model/LoadedModel.h"
#include "model/WeightNames.h"
#include "model/write/ModelInit.h"
#include "model/write/ModelPresets.h"
#include "model/write/ModelWriter.h"

#include "Fixtures.h"

#include <QtTest>
#include <cmath>

using namespace lathe;

namespace {

// Tokens spread over the 512-entry vocab, long enough that attention over several
// positions (and so RoPE at several angles) shapes every logit.
const std::vector<int32_t> kTokens = {1, 17, 300, 42, 7, 99, 511, 256, 3, 128, 64, 200};

InitOptions sharpInit(uint64_t seed)
{
    // std 0.1 instead of 0.02: with 128-wide tiny layers, 0.02 gives near-uniform
    // attention, where a wrong rotary pairing would move logits by only ~1e-5; 0.1 makes
    // it move them by O(1) while logits stay O(1), so f32 rounding stays far below 1e-5.
    InitOptions o;
    o.seed = seed;
    o.stddev = 0.1f;
    o.biasStd = 0.1f;
    o.normNoise = 0.1f;
    return o;
}

std::vector<float> logitsOf(std::shared_ptr<const LoadedModel> model, std::shared_ptr<Device> device)
{
    Session s(std::move(model), std::move(device), {int64_t(kTokens.size()), DType::F32});
    return s.prefillAll(kTokens);
}

double maxAbsDiff(const std::vector<float> &a, const std::vector<float> &b)
{
    if (a.size() != b.size())
        return INFINITY;
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i)
        worst = std::max(worst, std::abs(double(a[i]) - double(b[i])));
    return worst;
}

} // namespace

class TestInitRoundtrip : public QObject
{
    Q_OBJECT
    std::shared_ptr<Device> m_device = std::make_shared<CpuDevice>(2);

private slots:
    void sameLogits_data()
    {
        QTest::addColumn<QString>("preset");
        QTest::addColumn<bool>("ggufInterleaved");
        QTest::newRow("tiny-llama") << QString("tiny-llama") << true;
        QTest::newRow("tiny-mistral") << QString("tiny-mistral") << true;
        QTest::newRow("tiny-qwen2") << QString("tiny-qwen2") << false;
        QTest::newRow("tiny-qwen3") << QString("tiny-qwen3") << false;
    }

    void sameLogits()
    {
        QFETCH(QString, preset);
        QFETCH(bool, ggufInterleaved);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const ModelConfig config = *modelPreset(preset.toStdString());
        const InitializedModel init = initModel(config, sharpInit(7));

        auto memory = std::make_shared<LoadedModel>();
        memory->config = config;
        memory->weights = init.views();
        const std::string hfDir = test::tempPath(dir, "hf").toStdString();
        const std::string ggufPath = test::tempPath(dir, "model.gguf").toStdString();
        writeHfModel(config, memory->weights, hfDir, DType::F32);
        writeGgufModel(config, memory->weights, ggufPath, DType::F32);

        auto hf = std::make_shared<LoadedModel>(loadModel(hfDir));
        auto gguf = std::make_shared<LoadedModel>(loadModel(ggufPath));
        QCOMPARE(int(hf->format), int(ModelFormat::HfFolder));
        QCOMPARE(int(gguf->format), int(ModelFormat::Gguf));
        for (const LoadedModel *m : {hf.get(), gguf.get()}) {
            validateWeights(m->config, m->weights); // throws on a missing or misshapen tensor
            QCOMPARE(m->config.dim, config.dim);
            QCOMPARE(m->config.nLayers, config.nLayers);
            QCOMPARE(m->config.nHeads, config.nHeads);
            QCOMPARE(m->config.nKvHeads, config.nKvHeads);
            QCOMPARE(m->config.headDim, config.headDim);
            QCOMPARE(m->config.ffnDim, config.ffnDim);
            QCOMPARE(m->config.vocabSize, config.vocabSize);
            QCOMPARE(m->config.contextLength, config.contextLength);
            QCOMPARE(m->config.normEps, config.normEps);
            QCOMPARE(m->config.ropeTheta, config.ropeTheta);
            QCOMPARE(m->config.tiedEmbeddings, config.tiedEmbeddings);
            QCOMPARE(m->config.qkvBias, config.qkvBias);
            QCOMPARE(m->config.qkNorm, config.qkNorm);
        }
        QCOMPARE(int(hf->config.ropeLayout), int(RopeLayout::RotateHalf));
        QCOMPARE(int(gguf->config.ropeLayout),
                 int(ggufInterleaved ? RopeLayout::Interleaved : RopeLayout::RotateHalf));

        const std::vector<float> ref = logitsOf(memory, m_device);
        float largest = 0;
        for (float x : ref)
            largest = std::max(largest, std::abs(x));
        qInfo("%s: largest |logit| %.3g", qPrintable(preset), double(largest));
        QCOMPARE(ref.size(), kTokens.size() * size_t(config.vocabSize));
        // 1e-5: the files hold the very same f32 values; only the order of the q.k sums
        // changes with the layout (a few ulps on logits of magnitude ~1-10).
        const double dHf = maxAbsDiff(ref, logitsOf(hf, m_device));
        const double dGguf = maxAbsDiff(ref, logitsOf(gguf, m_device));
        qInfo("%s: max |dlogit| memory vs HF %.3g, vs GGUF %.3g", qPrintable(preset), dHf, dGguf);
        QVERIFY(dHf <= 1e-5);
        QVERIFY(dGguf <= 1e-5);

        // Negative control: the same GGUF read with the other rotary layout must be far
        // off for the permuted archs (and for qwen, the unpermuted weights read as
        // interleaved likewise), so the comparison above can fail.
        auto wrong = std::make_shared<LoadedModel>(loadModel(ggufPath));
        wrong->config.ropeLayout = ggufInterleaved ? RopeLayout::RotateHalf : RopeLayout::Interleaved;
        const double dWrong = maxAbsDiff(ref, logitsOf(wrong, m_device));
        qInfo("%s: with the wrong rotary layout %.3g", qPrintable(preset), dWrong);
        QVERIFY(dWrong > 1e-2);
    }
};

QTEST_GUILESS_MAIN(TestInitRoundtrip)
#include "tst_init_roundtrip.moc"
