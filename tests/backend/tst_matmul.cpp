// cpu::matmul's f32-activation path (MatmulPrecision::Exact) against a double-precision
// reference built from dequantizeRow, for every weight dtype, every SIMD level this
// machine can run (forced through setIsaCap, the mechanism behind LATHE_ISA), and shapes
// that hit the edges: one token, tile remainders, one output row, a single block, K not
// a multiple of the vector width. The int8 path is tested in tst_matmul_int8.
#include "IsaRows.h"
#include "backend/cpu/CpuFeatures.h"
#include "backend/cpu/CpuMatmul.h"
#include "core/Error.h"
#include "core/Quant.h"

#include <QtTest>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

using namespace lathe;

namespace {

struct Problem
{
    int64_t T, K, N;
    DType type;
    std::vector<float> x, bias;
    std::vector<uint8_t> w;
};

Problem makeProblem(DType type, int64_t T, int64_t K, int64_t N, uint32_t seed)
{
    Problem p{T, K, N, type, {}, {}, {}};
    std::mt19937 rng(seed);
    std::normal_distribution<float> g(0.0f, 1.0f);
    p.x.resize(size_t(T * K));
    for (float &v : p.x)
        v = g(rng);
    p.bias.resize(size_t(N));
    for (float &v : p.bias)
        v = g(rng);
    const size_t rb = rowBytes(type, K);
    p.w.resize(rb * size_t(N));
    std::vector<float> row(static_cast<size_t>(K));
    for (int64_t n = 0; n < N; ++n) {
        for (float &v : row)
            v = 0.05f * g(rng) + (n % 3 == 0 ? 0.02f : 0.0f); // some rows off-centre (exercise mins)
        quantizeRow(type, row.data(), p.w.data() + size_t(n) * rb, K);
    }
    return p;
}

// Returns the largest |y - ref| / scale over all outputs, where scale = sum_k |x w|:
// f32 accumulation error is bounded relative to that sum, not to |y| (which can cancel).
double maxScaledError(const Problem &p, const std::vector<float> &y, bool withBias, QString &where)
{
    const size_t rb = rowBytes(p.type, p.K);
    std::vector<float> w(static_cast<size_t>(p.K));
    double worst = 0.0;
    for (int64_t n = 0; n < p.N; ++n) {
        dequantizeRow(p.type, p.w.data() + size_t(n) * rb, w.data(), p.K);
        for (int64_t t = 0; t < p.T; ++t) {
            double ref = withBias ? double(p.bias[size_t(n)]) : 0.0, scale = withBias ? std::fabs(ref) : 0.0;
            for (int64_t k = 0; k < p.K; ++k) {
                const double prod = double(p.x[size_t(t * p.K + k)]) * double(w[size_t(k)]);
                ref += prod;
                scale += std::fabs(prod);
            }
            const float got = y[size_t(t * p.N + n)];
            if (!std::isfinite(got)) {
                where = QString("non-finite y[%1,%2]").arg(t).arg(n);
                return INFINITY;
            }
            const double e = std::fabs(double(got) - ref) / std::max(scale, 1e-30);
            if (e > worst) {
                worst = e;
                where = QString("y[%1,%2]=%3 ref=%4").arg(t).arg(n).arg(got).arg(ref);
            }
        }
    }
    return worst;
}

std::vector<float> run(ThreadPool &pool, const Problem &p, bool withBias)
{
    std::vector<float> y(size_t(p.T * p.N), NAN);
    cpu::matmul(pool, p.x.data(), p.T, p.K, p.w.data(), p.type, p.N, withBias ? p.bias.data() : nullptr, y.data(),
                cpu::MatmulPrecision::Exact);
    return y;
}

const DType kTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                        DType::Q5_1, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::Q8_K, DType::NF4};

} // namespace

class TestMatmul : public QObject
{
    Q_OBJECT
private slots:
    void cleanup() { cpu::setIsaCap(cpu::Isa::Avx512Vnni); }

    void matchesReference_data()
    {
        test::addIsaTypeRows(kTypes);
    }
    void matchesReference()
    {
        QFETCH(int, isa);
        QFETCH(int, type);
        const DType t = DType(type);
        cpu::setIsaCap(cpu::Isa(isa));
        QCOMPARE(QByteArray(cpu::matmulIsa()), QByteArray(cpu::isaName(cpu::Isa(isa))));
        const int64_t bs = dtypeInfo(t).blockSize;
        std::vector<int64_t> ks = {bs, 256, 768};
        if (bs == 1)
            ks.insert(ks.end(), {7, 61, 33, 100, 1000, 2048});
        ThreadPool pool(3);
        uint32_t seed = 1;
        for (int64_t K : ks) {
            if (K % bs)
                continue;
            for (int64_t T : {1, 2, 3, 8, 17})
                for (int64_t N : {1, 13, 40}) {
                    const Problem p = makeProblem(t, T, K, N, seed++);
                    for (bool withBias : {false, true}) {
                        QString where;
                        const double err = maxScaledError(p, run(pool, p, withBias), withBias, where);
                        // f32 sums of at most K/32 + 5 terms per lane and reduction step,
                        // each rounding by 2^-24 relative to sum |x w| (~1e-6 at K=2048),
                        // plus decoding a weight with a fused multiply-add may round once
                        // differently from dequantizeRow (2^-24 of the weight's terms).
                        // 2e-5 leaves a margin yet fails on any wrong element (>= 1/K).
                        QVERIFY2(err <= 2e-5, qPrintable(QString("%1 T=%2 K=%3 N=%4 bias=%5: err %6 at %7")
                                                             .arg(dtypeName(t)).arg(T).arg(K).arg(N)
                                                             .arg(withBias).arg(err).arg(where)));
                    }
                }
        }
    }

    // Each output is computed by one thread in a fixed order, so the thread count never
    // changes bits. Within a batch (T >= 2) a token row takes the same operations
    // whatever tile it falls in (one accumulator per output, fed in K order, in every
    // tile shape), so rows of an 11-row batch equal the same rows in a 6- or 2-row batch.
    // A single row (decode) uses the streaming kernel: equal to the batch within f32
    // rounding (matchesReference bounds both), not bit for bit.
    void deterministicAcrossThreadsAndTiles_data()
    {
        test::addIsaRows();
    }
    void deterministicAcrossThreadsAndTiles()
    {
        QFETCH(int, isa);
        cpu::setIsaCap(cpu::Isa(isa));
        ThreadPool one(1), three(3);
        for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q4_0, DType::Q4_K, DType::Q6_K, DType::NF4}) {
            const Problem p = makeProblem(t, 11, t == DType::F32 ? 777 : 768, 203, 99);
            const auto a = run(one, p, true), b = run(three, p, true);
            QVERIFY(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
            auto slice = [&](int64_t t0, int64_t rows) {
                Problem s = p;
                s.T = rows;
                s.x.assign(p.x.begin() + t0 * p.K, p.x.begin() + (t0 + rows) * p.K);
                return s;
            };
            for (auto [t0, rows] : {std::pair<int64_t, int64_t>{5, 6}, {3, 2}}) {
                const auto s = run(three, slice(t0, rows), true);
                QVERIFY2(std::memcmp(s.data(), a.data() + t0 * p.N, s.size() * sizeof(float)) == 0, dtypeName(t));
            }
            const auto s1 = run(one, slice(4, 1), true), s3 = run(three, slice(4, 1), true);
            QVERIFY2(std::memcmp(s1.data(), s3.data(), s1.size() * sizeof(float)) == 0, dtypeName(t));
        }
    }

    void isaNames()
    {
        QCOMPARE(cpu::isaFromName("avx2"), std::optional<cpu::Isa>(cpu::Isa::Avx2));
        QCOMPARE(cpu::isaFromName("scalar"), std::optional<cpu::Isa>(cpu::Isa::Scalar));
        QVERIFY(!cpu::isaFromName("sse9"));
        cpu::setIsaCap(cpu::Isa::Scalar);
        QCOMPARE(cpu::activeIsa(), cpu::Isa::Scalar);
        QCOMPARE(cpu::isaFromName("avx512vnni"), std::optional<cpu::Isa>(cpu::Isa::Avx512Vnni));
        cpu::setIsaCap(cpu::Isa::Avx512Vnni); // clamped to what the CPU has
        QCOMPARE(cpu::activeIsa(), cpu::detectedIsa());
    }

    void rejectsBadShapes()
    {
        ThreadPool pool(1);
        std::vector<float> x(64), y(64);
        std::vector<uint8_t> w(1024);
        QVERIFY_THROWS_EXCEPTION(Error, cpu::matmul(pool, x.data(), 1, 33, w.data(), DType::Q4_0, 1, nullptr, y.data()));
        QVERIFY_THROWS_EXCEPTION(Error, cpu::matmul(pool, x.data(), 1, 0, w.data(), DType::F32, 1, nullptr, y.data()));
        QVERIFY_THROWS_EXCEPTION(Error, cpu::matmul(pool, x.data(), 1, 4, w.data(), DType::I32, 1, nullptr, y.data()));
    }
};

QTEST_GUILESS_MAIN(TestMatmul)
#include "tst_matmul.moc"
