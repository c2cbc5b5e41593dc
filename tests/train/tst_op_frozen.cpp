// FrozenMatrix, the frozen base store: slices of any row must equal what core/Quant's
// reference codecs give for the same format (a view decodes its own rows; converted
// copies quantise the flattened matrix, so rows that are not a whole number of blocks
// still work), NF4 double quantisation stays within one int8 step of the scales and
// holds fewer bytes, and bytes() counts what is held.
#include "core/Error.h"
#include "core/Quant.h"
#include "infer/Rng.h"
#include "train/model/FrozenMatrix.h"

#include <QtTest>
#include <cmath>
#include <vector>

using namespace lathe;
using namespace lathe::train;

namespace {

std::vector<float> randomMatrix(int64_t n, uint64_t seed)
{
    Rng rng(seed);
    std::vector<float> v(static_cast<size_t>(n));
    for (float &x : v)
        x = float((2.0 * rng.uniform() - 1.0) * (1.0 + 3.0 * rng.uniform()));
    return v;
}

// The reference: the flattened matrix zero-padded to whole blocks, through quantizeRow
// and dequantizeRow.
std::vector<float> referenceFlat(const std::vector<float> &m, DType t)
{
    const int64_t bs = dtypeInfo(t).blockSize;
    const int64_t n = (int64_t(m.size()) + bs - 1) / bs * bs;
    std::vector<float> padded(m);
    padded.resize(size_t(n), 0.0f);
    std::vector<uint8_t> q(rowBytes(t, n));
    quantizeRow(t, padded.data(), q.data(), n);
    std::vector<float> out(static_cast<size_t>(n));
    dequantizeRow(t, q.data(), out.data(), n);
    out.resize(m.size());
    return out;
}

void checkSlices(const FrozenMatrix &fm, const std::vector<float> &want, double tol)
{
    const int64_t R = fm.rows(), C = fm.cols();
    const int64_t cuts[][2] = {{0, C}, {0, 1}, {C - 1, C}, {C / 3, C / 3 + C / 2}, {5, 5}};
    std::vector<float> got(static_cast<size_t>(C));
    for (int64_t r = 0; r < R; ++r)
        for (const auto &cut : cuts) {
            fm.dequantize(r, cut[0], cut[1], got.data());
            for (int64_t k = cut[0]; k < cut[1]; ++k)
                if (std::fabs(got[size_t(k - cut[0])] - want[size_t(r * C + k)]) > tol)
                    QFAIL(qPrintable(QString("row %1 col %2: %3 vs %4").arg(r).arg(k)
                                         .arg(got[size_t(k - cut[0])]).arg(want[size_t(r * C + k)])));
        }
}

} // namespace

class TestOpFrozen : public QObject
{
    Q_OBJECT

private slots:
    void converted_data()
    {
        QTest::addColumn<int>("dtype");
        QTest::addColumn<int>("cols");
        for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::NF4})
            for (int cols : {64, 172, 7}) // whole blocks, stories260K's ffn_down width, tiny
                QTest::addRow("%s x%d", dtypeName(t), cols) << int(t) << cols;
    }
    void converted()
    {
        QFETCH(int, dtype);
        QFETCH(int, cols);
        const DType t = DType(dtype);
        const int64_t rows = 11;
        std::vector<float> m = randomMatrix(rows * cols, 7);
        TensorView v{"blk.0.ffn_down.weight", DType::F32, {rows, cols}, m.data(), m.size() * sizeof(float)};
        const FrozenMatrix fm = FrozenMatrix::convert(v, t);
        QCOMPARE(fm.rows(), rows);
        QCOMPARE(fm.cols(), int64_t(cols));
        const int64_t blocks = (rows * cols + dtypeInfo(t).blockSize - 1) / dtypeInfo(t).blockSize;
        QCOMPARE(fm.bytes(), blocks * dtypeInfo(t).blockBytes);
        checkSlices(fm, referenceFlat(m, t), 0.0); // the same codec: exactly equal
    }

    void viewOfQuantizedRows()
    {
        // A Q8_0 tensor as a GGUF would hold it: each row its own blocks.
        const int64_t rows = 5, cols = 96;
        std::vector<float> m = randomMatrix(rows * cols, 3);
        std::vector<uint8_t> q(size_t(rows) * rowBytes(DType::Q8_0, cols));
        std::vector<float> want(m.size());
        for (int64_t r = 0; r < rows; ++r) {
            quantizeRow(DType::Q8_0, m.data() + r * cols, q.data() + r * rowBytes(DType::Q8_0, cols), cols);
            dequantizeRow(DType::Q8_0, q.data() + r * rowBytes(DType::Q8_0, cols), want.data() + r * cols, cols);
        }
        TensorView v{"w", DType::Q8_0, {rows, cols}, q.data(), q.size()};
        const FrozenMatrix fm = FrozenMatrix::view(v);
        QCOMPARE(fm.bytes(), int64_t(q.size()));
        checkSlices(fm, want, 0.0);
    }

    void nf4DoubleQuant()
    {
        const int64_t rows = 300, cols = 256; // 1200 blocks: 5 scale groups, the last partial
        std::vector<float> m = randomMatrix(rows * cols, 11);
        TensorView v{"w", DType::F32, {rows, cols}, m.data(), m.size() * sizeof(float)};
        const FrozenMatrix single = FrozenMatrix::convert(v, DType::NF4, false);
        const FrozenMatrix dq = FrozenMatrix::convert(v, DType::NF4, true);
        QVERIFY(dq.doubleQuant());
        const int64_t blocks = rows * cols / 64;
        QCOMPARE(single.bytes(), blocks * 36);
        // nibbles + one int8 scale per block + one f32 per 256 blocks + the f32 offset
        QCOMPARE(dq.bytes(), blocks * 32 + blocks + ((blocks + 255) / 256) * 4 + 4);
        // Each block's scale moves by at most half an int8 step of its group. The block
        // absmax values here all lie in about [2, 4], within 2 of their mean, so a step is
        // < 2/127 and a weight (|level| <= 1) moves by < 1/127 ~ 0.008; 0.016 is the bound.
        const std::vector<float> want = referenceFlat(m, DType::NF4);
        std::vector<float> got(static_cast<size_t>(cols));
        double worst = 0;
        for (int64_t r = 0; r < rows; ++r) {
            dq.dequantize(r, 0, cols, got.data());
            for (int64_t k = 0; k < cols; ++k)
                worst = std::max(worst, double(std::fabs(got[size_t(k)] - want[size_t(r * cols + k)])));
        }
        qInfo("NF4 double quantisation: max |w_dq - w_nf4| = %.4g", worst);
        QVERIFY(worst > 0);
        QVERIFY(worst <= 0.016);
    }

    void rejectsBadInput()
    {
        std::vector<float> m(12);
        TensorView vec{"v", DType::F32, {12}, m.data(), m.size() * sizeof(float)};
        QVERIFY_THROWS_EXCEPTION(Error, FrozenMatrix::view(vec));
        TensorView shortBytes{"w", DType::F32, {3, 4}, m.data(), 8};
        QVERIFY_THROWS_EXCEPTION(Error, FrozenMatrix::view(shortBytes));
        TensorView ok{"w", DType::F32, {3, 4}, m.data(), m.size() * sizeof(float)};
        QVERIFY_THROWS_EXCEPTION(Error, FrozenMatrix::convert(ok, DType::Q4_K));
    }
};

QTEST_GUILESS_MAIN(TestOpFrozen)
#include "tst_op_frozen.moc"
