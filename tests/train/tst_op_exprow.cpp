// expRow, the softmax exponential: against std::exp in double over the range softmax
// uses (x − shift <= 0) and beyond, for the AVX2 kernel and the portable path, with row
// lengths that leave a SIMD tail. ExpRow.h promises 2 ulp (relative 2.4e-7) on
// [-87, 88]; below -87 the result is e^-87 (tiny, positive), never garbage.
#include "backend/cpu/CpuFeatures.h"
#include "train/ops/ExpRow.h"

#include <QtTest>
#include <cmath>
#include <vector>

using namespace lathe;
using namespace lathe::train;

class TestOpExpRow : public QObject
{
    Q_OBJECT

    static double worstRelative(int64_t n, float lo, float hi, float shift)
    {
        std::vector<float> x(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i)
            x[size_t(i)] = lo + (hi - lo) * float(i) / float(n - 1);
        std::vector<float> y(x.size());
        expRow(x.data(), y.data(), n, shift);
        double worst = 0;
        for (int64_t i = 0; i < n; ++i) {
            const double want = std::exp(double(x[size_t(i)] - shift)); // the subtraction as the kernel does it
            worst = std::max(worst, std::fabs(double(y[size_t(i)]) - want) / want);
        }
        return worst;
    }

private slots:
    void accuracy_data()
    {
        QTest::addColumn<bool>("avx2");
        QTest::newRow("dispatched") << true;
        QTest::newRow("portable") << false;
    }
    void accuracy()
    {
        QFETCH(bool, avx2);
        const cpu::Isa saved = cpu::isaCap();
        if (!avx2)
            cpu::setIsaCap(cpu::Isa::Scalar);
        const double a = worstRelative(100003, -87.0f, 0.0f, 0.0f);  // odd length: a tail
        const double b = worstRelative(1001, -20.0f, 20.0f, 3.5f);   // a shift, both signs
        const double c = worstRelative(7, -1.0f, 1.0f, 0.0f);        // shorter than a vector
        cpu::setIsaCap(saved);
        qInfo("max relative error %.3g %.3g %.3g", a, b, c);
        QVERIFY(a <= 2.4e-7);
        QVERIFY(b <= 2.4e-7);
        QVERIFY(c <= 2.4e-7);
    }

    void clampsFarBelow()
    {
        std::vector<float> x{-1000.0f, -INFINITY, -87.5f, 0.0f};
        expRow(x.data(), x.data(), int64_t(x.size()), 0.0f); // in place
        for (int i = 0; i < 3; ++i)
            QVERIFY(x[size_t(i)] >= 0.0f && x[size_t(i)] <= 2e-38f);
        QCOMPARE(x[3], 1.0f);
    }
};

QTEST_GUILESS_MAIN(TestOpExpRow)
#include "tst_op_exprow.moc"
