// Whole-model gradients against finite differences, in double: random 2-layer models of
// every architecture (llama, mistral, qwen2 with q/k/v bias, qwen3 with q/k norm and a
// head dim != dim/heads), tied and untied heads, both RoPE layouts (one with llama3 RoPE
// scaling), over a batch of two rows where row 0 packs two sequences, with ignored
// targets. LoRA on all seven linears, B set non-zero (with B = 0, dA would be 0 and
// prove nothing), one case with dropout (a fixed seed is a fixed mask, so the loss is
// still a smooth function of the parameters). Full fine-tuning checks every weight.
// Error per parameter tensor (norm-wise): max_i |a_i − n_i| / max(max_i |n_i|, 1e-8) with
// central differences n_i at h = 1e-5 of the summed NLL; required <= 1e-5.
#include "infer/Rng.h"
#include "model/write/ModelInit.h"
#include "model/write/ModelPresets.h"
#include "train/TrainModel.h"

#include <QtTest>
#include <cmath>

using namespace lathe;

namespace {

constexpr double kTol = 1e-5;

struct Case
{
    std::string arch;
    bool tied = false;
    RopeLayout layout = RopeLayout::RotateHalf;
    bool llama3Scaling = false;
    double dropout = 0.0;
};

ModelConfig tinyConfig(const Case &k, int dim, int heads, int kvHeads, int ffn, int vocab)
{
    ModelConfig c;
    c.arch = k.arch;
    c.vocabSize = vocab;
    c.dim = dim;
    c.nLayers = 2;
    c.nHeads = heads;
    c.nKvHeads = kvHeads;
    c.ffnDim = ffn;
    c.contextLength = 64;
    c.bosId = 1;
    c.eosId = 2;
    if (k.arch == "qwen3")
        c.headDim = 6; // != dim / heads, as in real Qwen3
    completeConfig(c);
    c.ropeLayout = k.layout;
    c.tiedEmbeddings = k.tied;
    c.ropeTheta = 500.0f; // positions < 10 still turn the slow pairs noticeably
    if (k.llama3Scaling) {
        c.ropeScaling.kind = RopeScaling::Kind::Llama3;
        c.ropeScaling.factor = 8.0f;
        c.ropeScaling.lowFreqFactor = 1.0f;
        c.ropeScaling.highFreqFactor = 4.0f;
        c.ropeScaling.originalContext = 32; // so that some pairs fall in each band
    }
    return c;
}

// Row 0: a 4-token sequence then a 5-token one (positions restart); row 1: one 9-token
// sequence whose first two targets are masked like a prompt. The last token of each
// sequence has no target.
TrainBatch tinyBatch(int vocab, uint64_t seed)
{
    TrainBatch b;
    b.rows = 2;
    b.seqLen = 9;
    Rng rng(seed);
    const int seg[18] = {0, 0, 0, 0, 1, 1, 1, 1, 1, 7, 7, 7, 7, 7, 7, 7, 7, 7};
    for (int i = 0; i < 18; ++i) {
        b.tokens.push_back(int32_t(rng.next() % uint64_t(vocab)));
        b.segments.push_back(seg[i]);
        const int t = i % 9;
        b.positions.push_back(i < 9 ? (t < 4 ? t : t - 4) : t);
    }
    for (int i = 0; i < 18; ++i) {
        const bool last = i % 9 == 8 || seg[i + 1] != seg[i];
        const bool prompt = i == 9 || i == 10;
        b.targets.push_back(last || prompt ? kIgnoreIndex : b.tokens[size_t(i + 1)]);
    }
    return b;
}

double loss(TrainModel<double> &m, const TrainBatch &b, double dropout)
{
    // With dropout the loss of forwardBackward (the one with masks) is the function.
    return dropout > 0 ? m.forwardBackward(b, 0.0, 99) : m.evaluate(b);
}

// Checks every element of every parameter; returns the worst error (1 for an all-zero gradient).
double checkParams(TrainModel<double> &m, const TrainBatch &b, double dropout)
{
    m.zeroGrads();
    m.forwardBackward(b, 1.0, 99);
    std::vector<std::vector<double>> analytic;
    for (const auto &p : m.params())
        analytic.push_back(p.grad);
    double worstAll = 0;
    const double h = 1e-5;
    for (size_t pi = 0; pi < m.params().size(); ++pi) {
        double diff = 0, scale = 0;
        for (size_t i = 0; i < m.params()[pi].value.size(); ++i) {
            double &x = m.params()[pi].value[i];
            const double keep = x;
            x = keep + h;
            const double fp = loss(m, b, dropout);
            x = keep - h;
            const double fm = loss(m, b, dropout);
            x = keep;
            const double n = (fp - fm) / (2 * h);
            diff = std::max(diff, std::fabs(analytic[pi][i] - n));
            scale = std::max(scale, std::fabs(n));
        }
        const double err = diff / std::max(scale, 1e-8);
        if (err > kTol)
            qWarning("%s: relative error %.3g (max |grad| %.3g)", m.params()[pi].name.c_str(), err, scale);
        // A parameter whose gradient is exactly zero everywhere would make the check vacuous.
        if (scale == 0)
            qWarning("%s: zero gradient", m.params()[pi].name.c_str());
        worstAll = std::max(worstAll, scale == 0 ? 1.0 : err);
    }
    return worstAll;
}

void addCases()
{
    QTest::addColumn<QString>("arch");
    QTest::addColumn<bool>("tied");
    QTest::addColumn<bool>("rotateHalf");
    QTest::addColumn<bool>("llama3");
    QTest::addColumn<double>("dropout");
    for (const char *arch : {"llama", "mistral", "qwen2", "qwen3"})
        for (bool tied : {false, true})
            for (bool half : {false, true}) {
                // llama3 scaling on the llama cases; dropout on one case per arch.
                const bool llama3 = QString(arch) == "llama";
                const double dropout = (!tied && half) ? 0.1 : 0.0;
                QTest::addRow("%s %s %s%s", arch, tied ? "tied" : "untied", half ? "rotate-half" : "interleaved",
                              dropout > 0 ? " dropout" : "")
                    << QString(arch) << tied << half << llama3 << dropout;
            }
}

Case caseFromRow(const QString &arch, bool tied, bool half, bool llama3, double dropout)
{
    return {arch.toStdString(), tied, half ? RopeLayout::RotateHalf : RopeLayout::Interleaved, llama3, dropout};
}

} // namespace

class TestModelGradients : public QObject
{
    Q_OBJECT

private slots:
    void lora_data() { addCases(); }
    void lora()
    {
        QFETCH(QString, arch);
        QFETCH(bool, tied);
        QFETCH(bool, rotateHalf);
        QFETCH(bool, llama3);
        QFETCH(double, dropout);
        const Case k = caseFromRow(arch, tied, rotateHalf, llama3, dropout);
        const ModelConfig c = tinyConfig(k, 16, 4, 2, 24, 40);
        InitOptions io;
        io.seed = 5;
        io.stddev = 0.3f;
        io.normNoise = 0.2f;
        io.biasStd = 0.2f;
        const InitializedModel init = initModel(c, io);
        const Weights w = init.views();
        TrainModelOptions o;
        o.lora.rank = 2;
        o.lora.alpha = 3.0;
        o.lora.dropout = dropout;
        o.lora.targets = {"all-linear"};
        o.seed = 17;
        TrainModel<double> m(c, w, o, nullptr);
        QCOMPARE(m.params().size(), size_t(2 * 7 * 2));
        Rng rng(3);
        for (auto &p : m.params())
            if (p.name.find("lora_B") != std::string::npos)
                for (double &x : p.value)
                    x = 0.5 * (2 * rng.uniform() - 1);
        const double worst = checkParams(m, tinyBatch(c.vocabSize, 8), dropout);
        qInfo("worst relative error over %zu LoRA tensors: %.3g", m.params().size(), worst);
        QVERIFY(worst <= kTol);
    }

    void full_data()
    {
        QTest::addColumn<QString>("arch");
        QTest::addColumn<bool>("tied");
        QTest::addColumn<bool>("rotateHalf");
        QTest::newRow("llama untied interleaved") << QString("llama") << false << false;
        QTest::newRow("qwen2 tied rotate-half (bias)") << QString("qwen2") << true << true;
        QTest::newRow("qwen3 untied rotate-half (qk norm)") << QString("qwen3") << false << true;
    }
    void full()
    {
        QFETCH(QString, arch);
        QFETCH(bool, tied);
        QFETCH(bool, rotateHalf);
        const Case k = caseFromRow(arch, tied, rotateHalf, false, 0.0);
        const ModelConfig c = tinyConfig(k, 8, 2, 1, 12, 20);
        InitOptions io;
        io.seed = 6;
        io.stddev = 0.4f;
        io.normNoise = 0.2f;
        io.biasStd = 0.2f;
        const InitializedModel init = initModel(c, io);
        const Weights w = init.views();
        TrainModelOptions o;
        o.mode = TrainMode::Full;
        TrainModel<double> m(c, w, o, nullptr);
        // Every tensor of the model is a parameter (the tied head is one).
        QCOMPARE(int64_t(m.params().size()), int64_t(w.count()));
        int64_t n = 0;
        for (const auto &p : m.params())
            n += p.size();
        QCOMPARE(n, init.parameterCount());
        const double worst = checkParams(m, tinyBatch(c.vocabSize, 9), 0.0);
        qInfo("worst relative error over %zu tensors: %.3g", m.params().size(), worst);
        QVERIFY(worst <= kTol);
    }
};

QTEST_GUILESS_MAIN(TestModelGradients)
#include "tst_model_gradients.moc"
