// RoPE frequency tables against values computed independently (Python, float64) from
// Meta's llama3 apply_scaling reference and the plain theta^(-2i/d) definition.
#include "infer/RopeFrequencies.h"

#include <QtTest>
#include <cmath>

using namespace lathe;

class TestRopeScaling : public QObject
{
    Q_OBJECT
    static ModelConfig base()
    {
        ModelConfig c;
        c.ropeTheta = 500000.0f;
        c.ropeDim = 128;
        return c;
    }
    // Both sides are double computations of the same formula: 1e-12 relative.
    static bool close(double a, double b) { return std::abs(a - b) <= 1e-12 * std::abs(b); }

private slots:
    void unscaled()
    {
        const auto f = ropeInverseFrequencies(base());
        QCOMPARE(f.size(), size_t(64));
        QCOMPARE(f[0], 1.0);
        QVERIFY(close(f[20], 0.016560440080994446));
        QVERIFY(close(f[63], 2.455140791131609e-06));
    }
    void llama3()
    {
        ModelConfig c = base();
        c.ropeScaling.kind = RopeScaling::Kind::Llama3;
        c.ropeScaling.factor = 8;
        c.ropeScaling.lowFreqFactor = 1;
        c.ropeScaling.highFreqFactor = 4;
        c.ropeScaling.originalContext = 8192;
        const auto f = ropeInverseFrequencies(c);
        QVERIFY(close(f[28], 0.003211445994752591));   // high frequency: unchanged
        QVERIFY(close(f[29], 0.002166570763503359));   // smooth interpolation
        QVERIFY(close(f[31], 0.0008567514129196321));
        QVERIFY(close(f[34], 0.0001785078127679964));
        QVERIFY(close(f[35], 9.556212353964683e-05));  // low frequency: / factor
        QVERIFY(close(f[63], 3.068925988914511e-07));
    }
    void linear()
    {
        ModelConfig c = base();
        c.ropeScaling.kind = RopeScaling::Kind::Linear;
        c.ropeScaling.factor = 4;
        const auto f = ropeInverseFrequencies(c);
        QVERIFY(close(f[20], 0.016560440080994446 / 4));
    }
    void partialRotary()
    {
        ModelConfig c = base();
        c.ropeTheta = 10000;
        c.ropeDim = 8; // stories260K's GGUF says rope.dimension_count = 8 = head dim
        const auto f = ropeInverseFrequencies(c);
        QCOMPARE(f.size(), size_t(4));
        QVERIFY(close(f[1], 0.1));  // 10000^(-2/8)
        QVERIFY(close(f[3], 0.001)); // 10000^(-6/8)
    }
};

QTEST_GUILESS_MAIN(TestRopeScaling)
#include "tst_rope_scaling.moc"
