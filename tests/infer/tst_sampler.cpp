// Sampler: each option against distributions computed by hand, the penalties' exact
// arithmetic, and reproducibility of the seeded generator.
#include "infer/Rng.h"
#include "infer/Sampler.h"

#include <QtTest>
#include <cmath>
#include <map>

using namespace lathe;

namespace {

std::map<int32_t, int> draws(Sampler &s, const std::vector<float> &logits, int n)
{
    std::map<int32_t, int> counts;
    for (int i = 0; i < n; ++i)
        ++counts[s.sample(logits)];
    return counts;
}

// |f - p| within 5 binomial standard deviations: a correct sampler fails this with
// probability ~6e-7 per check, and the seed is fixed, so the outcome is reproducible.
bool withinBinomial(int count, int n, double p)
{
    const double f = double(count) / n;
    return std::abs(f - p) <= 5.0 * std::sqrt(p * (1 - p) / n);
}

} // namespace

class TestSampler : public QObject
{
    Q_OBJECT
private slots:
    void rngIsPinned()
    {
        // xoshiro256** seeded by splitmix64, values from an independent Python
        // transcription of the published algorithms: the same on every platform.
        Rng r0(0);
        QCOMPARE(r0.next(), 0x99ec5f36cb75f2b4ull);
        QCOMPARE(r0.next(), 0xbf6e1f784956452aull);
        QCOMPARE(r0.next(), 0x1a5f849d4933e6e0ull);
        Rng r42(42);
        QCOMPARE(r42.next(), 0x15780b2e0c2ec716ull);
        for (int i = 0; i < 1000; ++i) {
            const double u = r42.uniform();
            QVERIFY(u >= 0.0 && u < 1.0);
        }
    }

    void greedy()
    {
        SamplerParams p;
        p.temperature = 0;
        Sampler s(p);
        QCOMPARE(s.sample(std::vector<float>{1, 3, -2, 2.5f}), 1);
        QCOMPARE(s.sample(std::vector<float>{4, 1, 4}), 0); // ties: lowest id
    }

    void topKOnlyYieldsTheK()
    {
        SamplerParams p;
        p.topK = 2;
        p.seed = 7;
        Sampler s(p);
        const std::vector<float> logits = {1, 5, 3, 4.9f, -2};
        const auto d = s.distribution(logits);
        QCOMPARE(d.size(), size_t(2));
        QCOMPARE(d[0].id, 1);
        QCOMPARE(d[1].id, 3);
        const double p1 = 1.0 / (1.0 + std::exp(double(4.9f) - 5.0));
        QVERIFY(std::abs(d[0].p - p1) < 1e-12);
        const auto c = draws(s, logits, 4000);
        QCOMPARE(c.size(), size_t(2));
        QVERIFY(c.count(1) && c.count(3));
        QVERIFY(withinBinomial(c.at(1), 4000, p1));
    }

    void temperatureFrequencies()
    {
        // logits ln 1, ln 2, ln 4: at T = 1 the probabilities are 1/7, 2/7, 4/7; at T = 2
        // they are proportional to 1, sqrt 2, 2.
        const std::vector<float> logits = {0.0f, float(std::log(2.0)), float(std::log(4.0))};
        const int n = 20000;
        SamplerParams p;
        p.seed = 1234;
        p.temperature = 1;
        Sampler s1(p);
        auto c1 = draws(s1, logits, n);
        QVERIFY(withinBinomial(c1[0], n, 1.0 / 7));
        QVERIFY(withinBinomial(c1[1], n, 2.0 / 7));
        QVERIFY(withinBinomial(c1[2], n, 4.0 / 7));
        p.temperature = 2;
        Sampler s2(p);
        auto c2 = draws(s2, logits, n);
        const double z = 1 + std::sqrt(2.0) + 2;
        QVERIFY(withinBinomial(c2[0], n, 1 / z));
        QVERIFY(withinBinomial(c2[1], n, std::sqrt(2.0) / z));
        QVERIFY(withinBinomial(c2[2], n, 2 / z));
    }

    void topPAndMinP()
    {
        const std::vector<float> logits = {float(std::log(0.5)), float(std::log(0.3)), float(std::log(0.15)),
                                           float(std::log(0.05))};
        SamplerParams p;
        p.topP = 0.75f; // 0.5 < 0.75 <= 0.5 + 0.3: two tokens
        auto d = Sampler(p).distribution(logits);
        QCOMPARE(d.size(), size_t(2));
        QVERIFY(std::abs(d[0].p - 0.625) < 1e-6 && std::abs(d[1].p - 0.375) < 1e-6);
        p.topP = 0.81f; // needs the third
        QCOMPARE(Sampler(p).distribution(logits).size(), size_t(3));
        p.topP = 1.0f;
        p.minP = 0.35f; // floor 0.175: keeps 0.5 and 0.3
        d = Sampler(p).distribution(logits);
        QCOMPARE(d.size(), size_t(2));
        QCOMPARE(d[1].id, 1);
        p.minP = 0.29f; // floor 0.145: keeps 0.15 too
        QCOMPARE(Sampler(p).distribution(logits).size(), size_t(3));
    }

    void penaltiesArithmetic()
    {
        const std::vector<int32_t> history = {0, 1, 1};
        SamplerParams p;
        p.repetitionPenalty = 2;
        std::vector<float> l = {2, -2, 1};
        Sampler::applyPenalties(l, history, p);
        QCOMPARE(l, (std::vector<float>{1, -4, 1}));
        p.repetitionPenalty = 1;
        p.frequencyPenalty = 0.5f;
        l = {2, -2, 1};
        Sampler::applyPenalties(l, history, p);
        QCOMPARE(l, (std::vector<float>{1.5f, -3, 1}));
        p.frequencyPenalty = 0;
        p.presencePenalty = 0.25f;
        l = {2, -2, 1};
        Sampler::applyPenalties(l, history, p);
        QCOMPARE(l, (std::vector<float>{1.75f, -2.25f, 1}));
        // The window looks at the last penaltyWindow tokens only.
        p.penaltyWindow = 2;
        l = {2, -2, 1};
        Sampler::applyPenalties(l, history, p);
        QCOMPARE(l, (std::vector<float>{2, -2.25f, 1}));
        // Penalties change the greedy choice.
        p = SamplerParams{};
        p.temperature = 0;
        p.presencePenalty = 3;
        QCOMPARE(Sampler(p).sample(std::vector<float>{2, 0, 1}, std::vector<int32_t>{0}), 2);
    }

    void seedReproducible()
    {
        SamplerParams p;
        p.seed = 99;
        const std::vector<float> logits = {0.1f, 0.2f, 0.3f, 0.0f, -0.1f, 0.25f};
        Sampler a(p), b(p);
        std::vector<int32_t> sa, sb;
        for (int i = 0; i < 200; ++i) {
            sa.push_back(a.sample(logits));
            sb.push_back(b.sample(logits));
        }
        QCOMPARE(sa, sb);
        p.seed = 100;
        Sampler c(p);
        std::vector<int32_t> sc;
        for (int i = 0; i < 200; ++i)
            sc.push_back(c.sample(logits));
        QVERIFY(sc != sa);
        a.reseed(99);
        for (int i = 0; i < 200; ++i)
            QCOMPARE(a.sample(logits), sa[size_t(i)]);
    }
};

QTEST_GUILESS_MAIN(TestSampler)
#include "tst_sampler.moc"
