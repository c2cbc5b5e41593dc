// TrainModel on the real stories260K (GGUF and llama2.c .bin): its logits must equal the
// inference engine's (engine/infer Transformer, itself checked against llama.cpp and
// llama2.c) for a packed batch whose segments are separate prompts, each compared with
// running that prompt alone from position 0; and the properties the trainer relies on:
// LoRA with B = 0 changes nothing, activation checkpointing and repeated runs give
// bit-identical losses and gradients, quantised bases stay close to f32 while the NF4
// base holds only NF4 bytes, f16 emulation overflows where a GPU's would, bad input
// is an Error.
#include "backend/cpu/CpuDevice.h"
#include "backend/cpu/CpuFeatures.h"
#include "core/Error.h"
#include "infer/KvCache.h"
#include "infer/Rng.h"
#include "infer/Transformer.h"
#include "model/LoadedModel.h"
#include "train/TrainModel.h"

#include "Fixtures.h"

#include <QtTest>
#include <cmath>

using namespace lathe;

namespace {

std::shared_ptr<const LoadedModel> loadStories(const QString &which)
{
    const std::string dir = test::fixture("models/stories260K/");
    if (which == "llama2c")
        return std::make_shared<LoadedModel>(loadLlama2cModel(dir + "stories260K.bin", {dir + "tok512.bin"}));
    return std::make_shared<LoadedModel>(loadGgufModel(dir + "stories260Ktok512.gguf"));
}

struct Segment
{
    int64_t row, start, length;
};

// Two rows of 48: row 0 packs prompts of 13 and 35 tokens, row 1 a prompt of 30 then 18
// padding tokens in a segment of their own. Prompts are slices of the reference greedy
// text (real TinyStories tokens); targets are the next token inside each prompt.
TrainBatch packedBatch(const std::vector<int32_t> &text, std::vector<Segment> &segments)
{
    TrainBatch b;
    b.rows = 2;
    b.seqLen = 48;
    segments = {{0, 0, 13}, {0, 13, 35}, {1, 0, 30}};
    const int64_t offsets[] = {0, 40, 100};
    b.tokens.assign(96, 0);
    b.targets.assign(96, kIgnoreIndex);
    b.positions.assign(96, 0);
    b.segments.assign(96, 99); // padding
    for (size_t s = 0; s < segments.size(); ++s) {
        const Segment &g = segments[s];
        for (int64_t t = 0; t < g.length; ++t) {
            const size_t i = size_t(g.row * b.seqLen + g.start + t);
            b.tokens[i] = text[size_t(offsets[s] + t)];
            b.positions[i] = int32_t(t);
            b.segments[i] = int32_t(s);
            if (t + 1 < g.length)
                b.targets[i] = text[size_t(offsets[s] + t + 1)];
        }
    }
    for (int64_t t = 30; t < 48; ++t) {
        b.tokens[size_t(48 + t)] = 0;
        b.positions[size_t(48 + t)] = int32_t(t - 30);
    }
    return b;
}

std::vector<int32_t> referenceText()
{
    const nlohmann::json ref = test::readJson(test::fixture("models/stories260K/reference_greedy.json"));
    return ref["greedy_ids_from_bos"].get<std::vector<int32_t>>();
}

TrainModelOptions loraOptions(int rank = 16)
{
    TrainModelOptions o;
    o.lora.rank = rank;
    o.lora.alpha = 32;
    o.lora.targets = {"all-linear"};
    o.seed = 1;
    return o;
}

// Sets every LoRA B to small random values so that adapters matter.
template <class Real>
void randomizeB(TrainModel<Real> &m, uint64_t seed)
{
    Rng rng(seed);
    for (auto &p : m.params())
        if (p.name.find("lora_B") != std::string::npos)
            for (Real &x : p.value)
                x = Real(0.05 * (2 * rng.uniform() - 1));
}

double maxAbsDiff(const std::vector<float> &a, const std::vector<float> &b)
{
    double w = 0;
    for (size_t i = 0; i < a.size(); ++i)
        w = std::max(w, double(std::fabs(a[i] - b[i])));
    return w;
}

// ||a − b|| / ||a − mean(a)||: the error relative to the spread of the logits.
double relativeRms(const std::vector<float> &a, const std::vector<float> &b)
{
    double mean = 0;
    for (float x : a)
        mean += x;
    mean /= double(a.size());
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
        den += (double(a[i]) - mean) * (double(a[i]) - mean);
    }
    return std::sqrt(num / den);
}

template <class Real>
bool sameGrads(const TrainModel<Real> &a, const TrainModel<Real> &b)
{
    if (a.params().size() != b.params().size())
        return false;
    for (size_t i = 0; i < a.params().size(); ++i)
        if (a.params()[i].grad != b.params()[i].grad)
            return false;
    return true;
}

} // namespace

class TestTrainForward : public QObject
{
    Q_OBJECT
    std::vector<int32_t> m_text;
    ThreadPool m_pool{2};

private slots:
    void initTestCase() { m_text = referenceText(); }

    void models_data()
    {
        QTest::addColumn<QString>("which");
        QTest::newRow("gguf") << QString("gguf");
        QTest::newRow("llama2c bin") << QString("llama2c");
    }

    void matchesInference_data()
    {
        QTest::addColumn<QString>("which");
        QTest::addColumn<bool>("portable");
        QTest::newRow("gguf") << QString("gguf") << false;
        QTest::newRow("llama2c bin") << QString("llama2c") << false;
        QTest::newRow("gguf, portable kernels") << QString("gguf") << true; // no AVX2 tile / exp
    }
    void matchesInference()
    {
        QFETCH(QString, which);
        QFETCH(bool, portable);
        const cpu::Isa savedIsa = cpu::isaCap();
        if (portable)
            cpu::setIsaCap(cpu::Isa::Scalar);
        auto restore = qScopeGuard([&] { cpu::setIsaCap(savedIsa); });
        auto model = loadStories(which);
        std::vector<Segment> segs;
        const TrainBatch batch = packedBatch(m_text, segs);
        TrainModel<float> tm(model->config, model->weights, loraOptions(), &m_pool);
        std::vector<float> logits;
        tm.logits(batch, logits);
        const int64_t V = model->config.vocabSize;
        QCOMPARE(int64_t(logits.size()), batch.size() * V);

        CpuDevice device(1);
        Transformer tf(device, model->config, model->weights);
        double worst = 0;
        for (const Segment &g : segs) {
            std::vector<int32_t> prompt(size_t(g.length));
            for (int64_t t = 0; t < g.length; ++t)
                prompt[size_t(t)] = batch.tokens[size_t(g.row * batch.seqLen + g.start + t)];
            KvCache cache(device, model->config, g.length);
            std::vector<float> want;
            tf.forward(prompt, 0, cache, LogitsMode::All, want);
            for (int64_t t = 0; t < g.length; ++t)
                for (int64_t v = 0; v < V; ++v)
                    worst = std::max(worst, double(std::fabs(
                                                logits[size_t((g.row * batch.seqLen + g.start + t) * V + v)] -
                                                want[size_t(t * V + v)])));
        }
        qInfo("%s: max |logit - inference logit| over 3 packed prompts = %.3g", qPrintable(which), worst);
        QVERIFY(worst <= 1e-4);

        // LoRA with B = 0 (as initialised) adds exactly nothing: the same bits as a model
        // with no adapters at all (full mode holds the same f32 weights).
        TrainModelOptions full;
        full.mode = TrainMode::Full;
        TrainModel<float> fm(model->config, model->weights, full, &m_pool);
        std::vector<float> fullLogits;
        fm.logits(batch, fullLogits);
        QVERIFY(fullLogits == logits);

        // evaluate() and forwardBackward() report the NLL these logits give, up to the f32
        // softmax (2-ulp exponentials summed in f32 lanes: ~1e-7 relative per row).
        double nll = 0;
        for (int64_t i = 0; i < batch.size(); ++i) {
            const int32_t t = batch.targets[size_t(i)];
            if (t == kIgnoreIndex)
                continue;
            double mx = -1e30, sum = 0;
            for (int64_t v = 0; v < V; ++v)
                mx = std::max(mx, double(logits[size_t(i * V + v)]));
            for (int64_t v = 0; v < V; ++v)
                sum += std::exp(double(logits[size_t(i * V + v)]) - mx);
            nll += mx + std::log(sum) - double(logits[size_t(i * V + t)]);
        }
        QVERIFY(std::fabs(tm.evaluate(batch) - nll) <= 1e-6 * nll);
        QVERIFY(std::fabs(tm.forwardBackward(batch, 1.0, 0) - nll) <= 1e-6 * nll);
    }

    void checkpointingIsBitIdentical_data()
    {
        QTest::addColumn<bool>("full");
        QTest::newRow("lora with dropout") << false;
        QTest::newRow("full") << true;
    }
    void checkpointingIsBitIdentical()
    {
        QFETCH(bool, full);
        auto model = loadStories("gguf");
        std::vector<Segment> segs;
        const TrainBatch batch = packedBatch(m_text, segs);
        TrainModelOptions o = loraOptions();
        o.lora.dropout = 0.1;
        if (full)
            o.mode = TrainMode::Full;
        TrainModel<float> a(model->config, model->weights, o, &m_pool);
        o.checkpointActivations = true;
        TrainModel<float> b(model->config, model->weights, o, &m_pool);
        if (!full) {
            randomizeB(a, 4);
            randomizeB(b, 4);
        }
        const double la = a.forwardBackward(batch, 0.01, 1234);
        const double lb = b.forwardBackward(batch, 0.01, 1234);
        QCOMPARE(la, lb);
        QVERIFY(sameGrads(a, b));
        QVERIFY(b.memory().activations < a.memory().activations);
        // Some gradient is non-zero (the comparison is not of empty vectors).
        double norm = 0;
        for (const auto &p : a.params())
            for (float g : p.grad)
                norm += double(g) * g;
        QVERIFY(norm > 0);
    }

    void repeatableAndThreadIndependent()
    {
        auto model = loadStories("gguf");
        std::vector<Segment> segs;
        const TrainBatch batch = packedBatch(m_text, segs);
        TrainModelOptions o = loraOptions();
        o.lora.dropout = 0.05;
        TrainModel<float> a(model->config, model->weights, o, &m_pool);
        TrainModel<float> b(model->config, model->weights, o, &m_pool);
        randomizeB(a, 2);
        randomizeB(b, 2);
        QCOMPARE(a.forwardBackward(batch, 0.01, 7), b.forwardBackward(batch, 0.01, 7));
        QVERIFY(sameGrads(a, b));
        // Gradients accumulate: a second identical call doubles them exactly.
        std::vector<float> once = a.params()[0].grad;
        a.forwardBackward(batch, 0.01, 7);
        for (size_t i = 0; i < once.size(); ++i)
            QCOMPARE(a.params()[0].grad[i], 2 * once[i]);
        // The split of work never changes a sum, so other thread counts agree too.
        ThreadPool three(3);
        TrainModel<float> c(model->config, model->weights, o, &three);
        TrainModel<float> d(model->config, model->weights, o, nullptr);
        randomizeB(c, 2);
        randomizeB(d, 2);
        b.zeroGrads();
        const double lb = b.forwardBackward(batch, 0.01, 7);
        QCOMPARE(c.forwardBackward(batch, 0.01, 7), lb);
        QCOMPARE(d.forwardBackward(batch, 0.01, 7), lb);
        QVERIFY(sameGrads(b, c));
        QVERIFY(sameGrads(b, d));
        // Another dropout seed is another mask.
        c.zeroGrads();
        QVERIFY(c.forwardBackward(batch, 0.01, 8) != lb);
    }

    void floatAgreesWithDouble()
    {
        // The f32 path (AVX2 tiles, float accumulation) against the double one on the
        // real model: gradients agree to f32 rounding (relative 1e-3 of each tensor's max).
        auto model = loadStories("gguf");
        std::vector<Segment> segs;
        const TrainBatch batch = packedBatch(m_text, segs);
        TrainModel<float> f(model->config, model->weights, loraOptions(4), &m_pool);
        TrainModel<double> d(model->config, model->weights, loraOptions(4), &m_pool);
        randomizeB(f, 5);
        randomizeB(d, 5);
        const double lf = f.forwardBackward(batch, 1.0, 0), ld = d.forwardBackward(batch, 1.0, 0);
        QVERIFY(std::fabs(lf - ld) <= 1e-5 * ld);
        for (size_t i = 0; i < f.params().size(); ++i) {
            double diff = 0, scale = 0;
            for (size_t j = 0; j < f.params()[i].grad.size(); ++j) {
                diff = std::max(diff, std::fabs(double(f.params()[i].grad[j]) - d.params()[i].grad[j]));
                scale = std::max(scale, std::fabs(d.params()[i].grad[j]));
            }
            QVERIFY2(scale > 0 && diff <= 1e-3 * scale, f.params()[i].name.c_str());
        }
    }

    void quantisedBases_data()
    {
        QTest::addColumn<int>("format");
        QTest::addColumn<bool>("doubleQuant");
        QTest::addColumn<double>("tolerance");
        QTest::addColumn<double>("lossTolerance");
        // Tolerance on the logits' relative rms error (relativeRms) against the f32 base:
        // twice the weights' own relative rms rounding error r, since errors from many
        // independent weights average rather than compound over 5 layers. r: bf16 2^-8/sqrt3
        // = 0.0023, f16 2^-11/sqrt3 = 0.00028, Q8_0 (absmax/127)/sqrt12 with absmax ~2.2 sigma
        // of a 32-block = 0.005, NF4 0.1 (QLoRA's code book on normal weights). The mean
        // loss may move by 0.05 nats (0.3 for NF4 on a model this small).
        QTest::newRow("bf16") << int(BaseFormat::BF16) << false << 0.005 << 0.05;
        QTest::newRow("f16") << int(BaseFormat::F16) << false << 0.0006 << 0.05;
        QTest::newRow("q8_0") << int(BaseFormat::Q8_0) << false << 0.01 << 0.05;
        QTest::newRow("nf4") << int(BaseFormat::Nf4) << false << 0.2 << 0.3;
        QTest::newRow("nf4 double quant") << int(BaseFormat::Nf4) << true << 0.2 << 0.3;
    }
    void quantisedBases()
    {
        QFETCH(int, format);
        QFETCH(bool, doubleQuant);
        QFETCH(double, tolerance);
        QFETCH(double, lossTolerance);
        auto model = loadStories("gguf");
        std::vector<Segment> segs;
        const TrainBatch batch = packedBatch(m_text, segs);
        TrainModelOptions o = loraOptions();
        o.baseFormat = BaseFormat::F32;
        TrainModel<float> ref(model->config, model->weights, o, &m_pool);
        o.baseFormat = BaseFormat(format);
        o.doubleQuant = doubleQuant;
        TrainModel<float> q(model->config, model->weights, o, &m_pool);
        std::vector<float> lr, lq;
        ref.logits(batch, lr);
        q.logits(batch, lq);
        const double rel = relativeRms(lr, lq);
        const double targets = double(batch.targetCount());
        const double nllRef = ref.evaluate(batch) / targets, nllQ = q.evaluate(batch) / targets;
        qInfo("relative rms %.3g (max |dlogit| %.3g), loss %.4f vs f32 %.4f, weights %lld bytes vs %lld", rel,
              maxAbsDiff(lr, lq), nllQ, nllRef, (long long)q.memory().weights, (long long)ref.memory().weights);
        QVERIFY(rel > 0);
        QVERIFY(rel <= tolerance);
        QVERIFY(std::fabs(nllQ - nllRef) <= lossTolerance);

        // Bytes held (memory().weights), counted here from the formats' definitions: the
        // decoder's linears as NF4 blocks (36 bytes per 64; double-quantised: 32 bytes of
        // nibbles + an int8 scale per block, an f32 per 256 blocks and an f32 offset per
        // matrix), embedding and untied head in bf16 (QLoRA keeps them 16-bit), norms as f32
        // copies. Nothing else: no matrix is held dequantised.
        if (BaseFormat(format) != BaseFormat::Nf4)
            return;
        const ModelConfig &c = model->config;
        const int64_t qd = int64_t(c.nHeads) * c.headDim, kv = int64_t(c.nKvHeads) * c.headDim;
        int64_t want = 0;
        for (int i = 0; i < c.nLayers; ++i)
            for (int64_t n : {qd * c.dim, kv * c.dim, kv * c.dim, c.dim * qd, int64_t(c.ffnDim) * c.dim,
                              int64_t(c.ffnDim) * c.dim, int64_t(c.dim) * c.ffnDim}) {
                const int64_t blocks = (n + 63) / 64;
                want += doubleQuant ? blocks * 33 + (blocks + 255) / 256 * 4 + 4 : blocks * 36;
            }
        const bool untied = model->weights.find("output.weight") != nullptr;
        want += int64_t(c.vocabSize) * c.dim * 2 * (untied ? 2 : 1);
        want += int64_t(c.dim) * (2 * c.nLayers + 1) * 4;
        QCOMPARE(q.memory().weights, want);
        QVERIFY(q.memory().weights * 4 < ref.memory().weights);
    }

    void mixedPrecision()
    {
        auto model = loadStories("gguf");
        std::vector<Segment> segs;
        const TrainBatch batch = packedBatch(m_text, segs);
        TrainModelOptions o = loraOptions();
        TrainModel<float> f32(model->config, model->weights, o, &m_pool);
        o.precision = ComputePrecision::BF16;
        TrainModel<float> bf16(model->config, model->weights, o, &m_pool);
        o.precision = ComputePrecision::F16;
        TrainModel<float> f16(model->config, model->weights, o, &m_pool);
        std::vector<float> a, b, h;
        f32.logits(batch, a);
        bf16.logits(batch, b);
        f16.logits(batch, h);
        const double db = maxAbsDiff(a, b), dh = maxAbsDiff(a, h);
        qInfo("max |dlogit| bf16 %.3g, f16 %.3g; relative rms %.3g, %.3g", db, dh, relativeRms(a, b), relativeRms(a, h));
        // Each rounding of an activation adds a relative rms error of 2^-8/sqrt3 = 0.0023
        // (bf16) or 2^-11/sqrt3 = 0.00028 (f16); the logits sit a few roundings deep, so
        // bound their relative rms error by 4x one rounding: 0.01 and 0.0012.
        QVERIFY(db > 0 && relativeRms(a, b) <= 0.01);
        QVERIFY(dh > 0 && relativeRms(a, h) <= 0.0012);
        // A loss scale past f16's range overflows the f16 gradients to inf (which the
        // trainer's loss scaler detects) while the f32 path stays finite.
        randomizeB(f16, 3);
        randomizeB(f32, 3);
        f16.forwardBackward(batch, 1e6, 0);
        f32.forwardBackward(batch, 1e6, 0);
        auto finite = [](const TrainModel<float> &m) {
            for (const auto &p : m.params())
                for (float g : p.grad)
                    if (!std::isfinite(g))
                        return false;
            return true;
        };
        QVERIFY(!finite(f16));
        QVERIFY(finite(f32));
    }

    void rejectsBadInput()
    {
        auto model = loadStories("gguf");
        std::vector<Segment> segs;
        const TrainBatch good = packedBatch(m_text, segs);
        TrainModel<float> m(model->config, model->weights, loraOptions(), &m_pool);
        TrainBatch b = good;
        b.tokens.pop_back();
        QVERIFY_THROWS_EXCEPTION(Error, m.evaluate(b));
        b = good;
        b.tokens[5] = 512;
        QVERIFY_THROWS_EXCEPTION(Error, m.forwardBackward(b, 1.0, 0));
        b = good;
        b.targets[7] = -2;
        QVERIFY_THROWS_EXCEPTION(Error, m.forwardBackward(b, 1.0, 0));
        b = good;
        b.rows = 0;
        QVERIFY_THROWS_EXCEPTION(Error, m.evaluate(b));
        TrainModelOptions o = loraOptions();
        o.lora.rank = 0;
        QVERIFY_THROWS_EXCEPTION(Error, TrainModel<float>(model->config, model->weights, o, &m_pool));
        o = loraOptions();
        o.lora.targets = {"lm_head"};
        QVERIFY_THROWS_EXCEPTION(Error, TrainModel<float>(model->config, model->weights, o, &m_pool));
        o = loraOptions();
        o.lora.dropout = 1.0;
        QVERIFY_THROWS_EXCEPTION(Error, TrainModel<float>(model->config, model->weights, o, &m_pool));
        Weights missing;
        QVERIFY_THROWS_EXCEPTION(Error, TrainModel<float>(model->config, missing, loraOptions(), &m_pool));
    }
};

QTEST_GUILESS_MAIN(TestTrainForward)
#include "tst_train_forward.moc"
