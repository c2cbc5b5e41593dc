// fp16/bf16 conversions against values fixed by IEEE 754 (independent of our code).
#include "core/Half.h"

#include <QtTest>
#include <cmath>
#include <limits>

using namespace lathe;

class TestHalf : public QObject
{
    Q_OBJECT
private slots:
    void knownBitPatterns()
    {
        QCOMPARE(f32ToF16(1.0f), uint16_t(0x3c00));
        QCOMPARE(f32ToF16(-2.0f), uint16_t(0xc000));
        QCOMPARE(f32ToF16(65504.0f), uint16_t(0x7bff));    // largest finite half
        QCOMPARE(f32ToF16(65520.0f), uint16_t(0x7c00));    // rounds to inf
        QCOMPARE(f32ToF16(5.9604645e-8f), uint16_t(0x0001)); // smallest subnormal
        QCOMPARE(f32ToF16(6.1035156e-5f), uint16_t(0x0400)); // smallest normal
        QCOMPARE(f32ToF16(0.0f), uint16_t(0x0000));
        QCOMPARE(f32ToF16(-0.0f), uint16_t(0x8000));
        QCOMPARE(f32ToF16(std::numeric_limits<float>::infinity()), uint16_t(0x7c00));
        QVERIFY((f32ToF16(std::nanf("")) & 0x7fff) > 0x7c00);
        QCOMPARE(f16ToF32(0x3555), 0.333251953125f);
        QCOMPARE(f16ToF32(0x0001), 5.9604644775390625e-8f);
        QCOMPARE(f16ToF32(0x03ff), 6.097555160522461e-5f);
    }
    void roundsToNearestEven()
    {
        // 1 + 2^-11 is exactly between 1 and 1 + 2^-10: ties go to the even mantissa.
        QCOMPARE(f32ToF16(1.0f + std::ldexp(1.0f, -11)), uint16_t(0x3c00));
        QCOMPARE(f32ToF16(1.0f + 3 * std::ldexp(1.0f, -11)), uint16_t(0x3c02));
        QCOMPARE(f32ToBf16(1.0f + std::ldexp(1.0f, -8)), uint16_t(0x3f80));
        QCOMPARE(f32ToBf16(1.0f + 3 * std::ldexp(1.0f, -8)), uint16_t(0x3f82));
    }
    void everyHalfRoundTrips()
    {
        for (uint32_t h = 0; h < 0x10000; ++h) {
            const float f = f16ToF32(uint16_t(h));
            if (std::isnan(f))
                continue;
            QCOMPARE(f32ToF16(f), uint16_t(h));
        }
    }
};

QTEST_GUILESS_MAIN(TestHalf)
#include "tst_half.moc"
