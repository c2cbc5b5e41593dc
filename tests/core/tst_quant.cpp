// Block formats: hand-built blocks decode to values worked out from the ggml / QLoRA
// layouts by hand, and our quantizers round-trip random data within each format's
// bound (tst_quant_bounds.h). llama.cpp's own files are checked in tests/model.
#include "tst_quant_bounds.h"

#include "core/Error.h"
#include "core/Quant.h"

#include <QtTest>
#include <array>
#include <cstring>
#include <random>
#include <vector>

using namespace lathe;

namespace {

void putHalf(uint8_t *p, float v)
{
    const uint16_t h = f32ToF16(v);
    std::memcpy(p, &h, 2);
}

std::vector<float> decode(DType t, const std::vector<uint8_t> &bytes, int64_t n)
{
    std::vector<float> y(static_cast<size_t>(n));
    dequantizeRow(t, bytes.data(), y.data(), n);
    return y;
}

enum class Dist { Gaussian, Uniform, Outliers, Zeros, Constant, Tiny };

std::vector<float> sample(Dist dist, int64_t n, uint32_t seed)
{
    std::mt19937 rng(seed);
    std::normal_distribution<float> g(0.0f, 0.02f);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> x(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        switch (dist) {
        case Dist::Gaussian: x[size_t(i)] = g(rng); break;
        case Dist::Uniform: x[size_t(i)] = u(rng); break;
        case Dist::Outliers: x[size_t(i)] = (i % 97 == 5) ? 40.0f * u(rng) : g(rng); break;
        case Dist::Zeros: x[size_t(i)] = 0.0f; break;
        case Dist::Constant: x[size_t(i)] = -0.375f; break;
        case Dist::Tiny: x[size_t(i)] = 1e-6f * u(rng); break;
        }
    }
    return x;
}

} // namespace

class TestQuant : public QObject
{
    Q_OBJECT
private slots:
    void handBuiltBlocks()
    {
        { // Q4_0: (q - 8) * d, low nibbles are elements 0..15, high nibbles 16..31
            std::vector<uint8_t> b(18, 0x88);
            putHalf(b.data(), 0.5f);
            b[2] = 0x1F;
            const auto y = decode(DType::Q4_0, b, 32);
            QCOMPARE(y[0], 3.5f);
            QCOMPARE(y[16], -3.5f);
            QCOMPARE(y[1], 0.0f);
        }
        { // Q4_1: q * d + m
            std::vector<uint8_t> b(20, 0);
            putHalf(b.data(), 2.0f);
            putHalf(b.data() + 2, -1.0f);
            b[4] = 0x21;
            const auto y = decode(DType::Q4_1, b, 32);
            QCOMPARE(y[0], 1.0f);
            QCOMPARE(y[16], 3.0f);
            QCOMPARE(y[5], -1.0f);
        }
        { // Q5_0: fifth bit of element j is bit j of the little-endian qh word
            std::vector<uint8_t> b(22, 0);
            putHalf(b.data(), 1.0f);
            b[2] = 0x01; // bit 0
            b[4] = 0x01; // bit 16
            b[6] = 0x0F; // qs[0]
            b[7] = 0x0F; // qs[1]
            const auto y = decode(DType::Q5_0, b, 32);
            QCOMPARE(y[0], 15.0f);  // 15 | 16 - 16
            QCOMPARE(y[16], 0.0f);  // 0 | 16 - 16
            QCOMPARE(y[1], -1.0f);  // 15 - 16
            QCOMPARE(y[17], -16.0f);
        }
        { // Q5_1
            std::vector<uint8_t> b(24, 0);
            putHalf(b.data(), 1.0f);
            putHalf(b.data() + 2, 0.5f);
            b[4 + 3] = 0x80; // bit 31: element 31
            b[8 + 15] = 0x30;
            const auto y = decode(DType::Q5_1, b, 32);
            QCOMPARE(y[31], 19.5f); // (3 | 16) + 0.5
            QCOMPARE(y[15], 0.5f);
        }
        { // Q8_0
            std::vector<uint8_t> b(34, 0);
            putHalf(b.data(), 0.25f);
            b[2 + 3] = uint8_t(int8_t(-5));
            QCOMPARE(decode(DType::Q8_0, b, 32)[3], -1.25f);
        }
        { // Q4_K: d=1, dmin=0.5; sub-block 0 sc=3 m=2, 1 sc=2 m=0, 5 sc=17 m=3 (split bits)
            std::vector<uint8_t> b(144, 0);
            putHalf(b.data(), 1.0f);
            putHalf(b.data() + 2, 0.5f);
            uint8_t *s = b.data() + 4;
            s[0] = 3;
            s[4] = 2;
            s[1] = 0x40 | 2; // sub-block 1 scale 2; top bits 01 = high bits of sub-block 5's scale
            s[9] = 0x31;     // sub-block 5: scale low nibble 1, min low nibble 3
            uint8_t *qs = b.data() + 16;
            qs[0] = 0x75;  // element 0 (sub-block 0) = 5, element 32 (sub-block 1) = 7
            qs[64] = 0xA0; // element 160 (sub-block 5, high nibble of the third 32-byte group) = 10
            const auto y = decode(DType::Q4_K, b, 256);
            QCOMPARE(y[0], 14.0f);   // 1*3*5 - 0.5*2
            QCOMPARE(y[1], -1.0f);   // 0 - 0.5*2
            QCOMPARE(y[32], 14.0f);  // 1*2*7 - 0
            QCOMPARE(y[160], 168.5f); // 1*17*10 - 0.5*3
            QCOMPARE(y[128], 0.0f);
        }
        { // Q5_K: as Q4_K plus qh bit j of byte l = fifth bit of element 32*j + l
            std::vector<uint8_t> b(176, 0);
            putHalf(b.data(), 1.0f);
            putHalf(b.data() + 2, 0.0f);
            b[4 + 0] = 1; // sub-block 0 scale 1
            b[4 + 3] = 2; // sub-block 3 scale 2
            b[16 + 2] = 0x09; // qh[2]: bits 0 and 3
            b[48 + 2] = 0x01; // qs[2] low nibble: element 2
            b[48 + 32 + 2] = 0x40; // qs[34] high nibble: element 96 + 2
            const auto y = decode(DType::Q5_K, b, 256);
            QCOMPARE(y[2], 17.0f);       // (1 | 16) * 1
            QCOMPARE(y[98], 40.0f);      // (4 | 16) * 2
            QCOMPARE(y[34], 0.0f);
        }
        { // Q6_K: ql[128] qh[64] scales[16] d; element 0 = ql[0] low | qh[0] bits 0-1
            std::vector<uint8_t> b(210, 0);
            putHalf(b.data() + 208, 0.5f);
            b[192 + 0] = 2;
            b[192 + 6] = uint8_t(int8_t(-3));
            b[0] = 0x05;  // ql[0]
            b[128] = 0x02; // qh[0]: element 0 high bits = 2
            b[32] = 0x30; // ql[32] high nibble: element 96
            const auto y = decode(DType::Q6_K, b, 256);
            QCOMPARE(y[0], 5.0f);     // 0.5 * 2 * ((5 | 32) - 32)
            QCOMPARE(y[96], 43.5f);   // 0.5 * -3 * (3 - 32)
            QCOMPARE(y[16], 0.0f);    // scale 1 is 0
        }
        { // Q8_K: f32 d
            std::vector<uint8_t> b(292, 0);
            const float d = 0.125f;
            std::memcpy(b.data(), &d, 4);
            b[4 + 5] = uint8_t(int8_t(-7));
            QCOMPARE(decode(DType::Q8_K, b, 256)[5], -0.875f);
        }
        { // NF4: element 2i low nibble of byte i, 2i+1 high; f32 absmax at byte 32
            std::vector<uint8_t> b(36, 0x77); // code 7 is exactly zero
            const float a = 2.0f;
            std::memcpy(b.data() + 32, &a, 4);
            b[0] = 0xF0;
            b[1] = 0x87;
            const auto y = decode(DType::NF4, b, 64);
            QCOMPARE(y[0], -2.0f);
            QCOMPARE(y[1], 2.0f);
            QCOMPARE(y[2], 0.0f);
            QCOMPARE(y[3], 0.07958029955625534f * 2.0f);
            QCOMPARE(y[63], 0.0f);
        }
    }

    void roundTripWithinBounds_data()
    {
        QTest::addColumn<int>("type");
        QTest::addColumn<double>("maxRelRms");
        // Relative RMS on Gaussian data: uniform rounding costs step/sqrt(12); the step is
        // range/levels with the range ~4.5 sigma for 32..256-element blocks, e.g. Q4_0
        // 2*2.3/15/sqrt(12) ~ 0.09. Limits are ~1.3x what we measure (measured Q4_0 0.087, Q4_K 0.080,
        // Q6_K 0.019, NF4 0.092), so a worse scale search fails.
        const std::pair<DType, double> cases[] = {
            {DType::F32, 0.0},    {DType::F16, 5e-4},   {DType::BF16, 3e-3},  {DType::Q8_0, 0.008},
            {DType::Q4_0, 0.12},  {DType::Q4_1, 0.11},  {DType::Q5_0, 0.06},  {DType::Q5_1, 0.055},
            {DType::Q4_K, 0.11},  {DType::Q5_K, 0.055}, {DType::Q6_K, 0.028}, {DType::Q8_K, 0.01},
            {DType::NF4, 0.12},
        };
        for (const auto &[t, limit] : cases)
            QTest::newRow(dtypeName(t)) << int(t) << limit;
    }
    void roundTripWithinBounds()
    {
        QFETCH(int, type);
        QFETCH(double, maxRelRms);
        const DType t = DType(type);
        const int64_t n = 1024;
        for (Dist dist : {Dist::Gaussian, Dist::Uniform, Dist::Outliers, Dist::Zeros, Dist::Constant, Dist::Tiny}) {
            const auto x = sample(dist, n, 1234 + uint32_t(dist));
            std::vector<uint8_t> bytes(rowBytes(t, n));
            quantizeRow(t, x.data(), bytes.data(), n);
            const auto y = decode(t, bytes, n);
            test::BoundReport r;
            test::checkRowBounds(t, bytes.data(), x.data(), y.data(), n, r);
            const QByteArray what = QByteArray(dtypeName(t)) + " dist " + QByteArray::number(int(dist)) + ": " +
                                    QByteArray::fromStdString(r.first);
            QVERIFY2(r.violations == 0, what.constData());
            QVERIFY2(r.clamped * 100 <= r.elements, what.constData()); // rare: only coarsened scales clamp
            if (dist == Dist::Gaussian || dist == Dist::Uniform)
                QVERIFY2(r.relRms() <= maxRelRms, (what + " rms " + QByteArray::number(r.relRms())).constData());
            if (dist == Dist::Zeros)
                for (float v : y)
                    QCOMPARE(v, 0.0f);
        }
    }

    void rejectsBadRows()
    {
        std::vector<float> x(100, 1.0f);
        std::vector<uint8_t> bytes(1024);
        QVERIFY_THROWS_EXCEPTION(Error, quantizeRow(DType::Q4_0, x.data(), bytes.data(), 33));
        QVERIFY_THROWS_EXCEPTION(Error, dequantizeRow(DType::Q4_K, bytes.data(), x.data(), 64));
        QVERIFY_THROWS_EXCEPTION(Error, dequantizeRow(DType::I32, bytes.data(), x.data(), 4));
        QVERIFY_THROWS_EXCEPTION(Error, dequantizeRow(DType::NF4, bytes.data(), x.data(), 32));
    }
};

QTEST_GUILESS_MAIN(TestQuant)
#include "tst_quant.moc"
