// cpu::matmul's int8-activation path (MatmulPrecision::Int8, the default for quantized
// weights) on every SIMD level this machine can run, checked two ways:
//  * against this file's own statement of the math, llama.cpp's (CpuMatmulKernels.h):
//    each activation block quantised as q = nearest-even(x * (127 / amax)) with scale
//    d = f16(amax / 127) for 32-blocks (f32 where that is not a normal f16) and
//    1 / (127 / amax) for 256-blocks; y = sum_blocks d * sum q * w with w from
//    dequantizeRow, summed in double, except that Q4_1/Q5_1's offset m multiplies
//    ds = f16(amax / 127 * sum q) (block_q8_1's s). The kernels compute exactly that,
//    in integers and f32, so they must agree to f32 rounding.
//  * against the f32 path (MatmulPrecision::Exact) within the bound that the activation
//    rounding implies: |x - d q| <= amax / 254 + 127 |d - amax / 127| per element, the
//    f16 rounding of d adding at most amax * 2^-11, so |y_int8 - y_exact| <=
//    sum_k |w_k| * amax(block of k) * (1/254 + 1/2048) (+ |m| amax 32 2^-11 per block
//    for the f16 ds).
// Shapes: T = 1 (decode), 2..3 (row by row), >= 4 (packed panels, with a partial token
// tile), odd N (partial panels), K not a multiple of 256 for the 32-element types.
#include "IsaRows.h"
#include "backend/cpu/CpuFeatures.h"
#include "backend/cpu/CpuMatmul.h"
#include "core/Error.h"
#include "core/Half.h"
#include "core/Quant.h"

#include <QtTest>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

using namespace lathe;

namespace {

const DType kTypes[] = {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                        DType::Q5_1, DType::Q4_K, DType::Q5_K, DType::Q6_K};

struct Problem
{
    int64_t T, K, N;
    DType type;
    std::vector<float> x;
    std::vector<uint8_t> w;
};

Problem makeProblem(DType type, int64_t T, int64_t K, int64_t N, uint32_t seed)
{
    Problem p{T, K, N, type, {}, {}};
    std::mt19937 rng(seed);
    std::normal_distribution<float> g(0.0f, 1.0f);
    p.x.resize(size_t(T * K));
    for (size_t i = 0; i < p.x.size(); ++i) // some outliers, as real activations have
        p.x[i] = g(rng) * (i % 97 == 5 ? 20.0f : 1.0f);
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

int activationBlock(DType t) { return dtypeInfo(t).blockSize == 256 ? 256 : 32; }

struct Reference
{
    // Per output: the value; the magnitude of its terms (sum |d q w|, plus those of the
    // split Q4_1/Q5_1 terms), against which f32 rounding is measured; int8-vs-f32 bound.
    std::vector<double> y, scale, bound;
};

// llama.cpp stores a 32-block's scale as f16; only normal f16 values are taken.
float roundScale(float v)
{
    const float r = f16ToF32(f32ToF16(v));
    return std::fabs(r) >= 6.103515625e-05f && std::fabs(r) <= 65504.0f ? r : v;
}

bool hasMin(DType t) { return t == DType::Q4_1 || t == DType::Q5_1; }

// Q4_1 / Q5_1 blocks (ggml layout): f16 d at byte 0, f16 m at byte 2.
float blockMin(const uint8_t *block)
{
    uint16_t h;
    std::memcpy(&h, block + 2, 2);
    return f16ToF32(h);
}

Reference reference(const Problem &p)
{
    const int B = activationBlock(p.type);
    const int64_t nb = p.K / B;
    std::vector<float> q(static_cast<size_t>(p.K)), d(static_cast<size_t>(nb)), amax(static_cast<size_t>(nb)),
        ds(static_cast<size_t>(nb));
    std::vector<float> w(size_t(p.N * p.K)), mins(size_t(p.N * nb));
    const size_t rb = rowBytes(p.type, p.K), bb = size_t(dtypeInfo(p.type).blockBytes);
    for (int64_t n = 0; n < p.N; ++n) {
        dequantizeRow(p.type, p.w.data() + size_t(n) * rb, w.data() + n * p.K, p.K);
        if (hasMin(p.type))
            for (int64_t b = 0; b < nb; ++b)
                mins[size_t(n * nb + b)] = blockMin(p.w.data() + size_t(n) * rb + size_t(b) * bb);
    }
    Reference ref;
    for (int64_t t = 0; t < p.T; ++t) {
        const float *x = p.x.data() + t * p.K;
        for (int64_t b = 0; b < nb; ++b) {
            float m = 0.0f;
            for (int i = 0; i < B; ++i)
                m = std::max(m, std::fabs(x[b * B + i]));
            amax[size_t(b)] = m;
            const float id = m > 0.0f ? 127.0f / m : 0.0f;
            d[size_t(b)] = B == 32 ? roundScale(m / 127.0f) : m > 0.0f ? 1.0f / id : 0.0f;
            int sum = 0;
            for (int i = 0; i < B; ++i) {
                q[size_t(b * B + i)] = std::nearbyint(x[b * B + i] * id);
                sum += int(q[size_t(b * B + i)]);
            }
            ds[size_t(b)] = roundScale(m / 127.0f * float(sum));
        }
        for (int64_t n = 0; n < p.N; ++n) {
            const float *wn = w.data() + n * p.K;
            double y = 0, scale = 0, bound = 0;
            for (int64_t b = 0; b < nb; ++b) {
                const double mn = hasMin(p.type) ? mins[size_t(n * nb + b)] : 0.0;
                for (int64_t k = b * B; k < (b + 1) * B; ++k) {
                    // The min travels with ds, the rest (w - m = d_w * code) with d.
                    const double term = double(d[size_t(b)]) * q[size_t(k)] * (wn[k] - mn);
                    y += term;
                    scale += std::fabs(double(d[size_t(b)]) * q[size_t(k)] * wn[k]) + std::fabs(term);
                    bound += std::fabs(wn[k]) * amax[size_t(b)] * (1.0 / 254 + 1.0 / 2048);
                }
                y += mn * ds[size_t(b)];
                scale += std::fabs(mn * ds[size_t(b)]);
                bound += std::fabs(mn) * amax[size_t(b)] * 32.0 / 2048;
            }
            ref.y.push_back(y);
            ref.scale.push_back(scale);
            ref.bound.push_back(bound);
        }
    }
    return ref;
}

std::vector<float> run(ThreadPool &pool, const Problem &p, cpu::MatmulPrecision precision,
                       const float *bias = nullptr)
{
    std::vector<float> y(size_t(p.T * p.N), NAN);
    cpu::matmul(pool, p.x.data(), p.T, p.K, p.w.data(), p.type, p.N, bias, y.data(), precision);
    return y;
}

std::vector<int64_t> kValues(DType t)
{
    if (activationBlock(t) == 256)
        return {256, 768, 2048};
    return {32, 96, 800, 2048}; // 800 = 25 blocks: not a multiple of 256
}

} // namespace

class TestMatmulInt8 : public QObject
{
    Q_OBJECT
private slots:
    void cleanup() { cpu::setIsaCap(cpu::Isa::Avx512Vnni); }

    void matchesInt8Math_data()
    {
        test::addIsaTypeRows(kTypes);
    }
    void matchesInt8Math()
    {
        QFETCH(int, isa);
        QFETCH(int, type);
        const DType t = DType(type);
        cpu::setIsaCap(cpu::Isa(isa));
        QVERIFY(cpu::usesInt8Activations(t, cpu::MatmulPrecision::Int8));
        ThreadPool pool(3);
        uint32_t seed = 7;
        for (int64_t K : kValues(t))
            for (int64_t T : {1, 2, 3, 4, 9})
                for (int64_t N : {1, 13, 45}) {
                    const Problem p = makeProblem(t, T, K, N, seed++);
                    const Reference ref = reference(p);
                    const std::vector<float> y = run(pool, p, cpu::MatmulPrecision::Int8);
                    const std::vector<float> exact = run(pool, p, cpu::MatmulPrecision::Exact);
                    double worst = 0, worstBound = 0;
                    for (size_t i = 0; i < y.size(); ++i) {
                        QVERIFY2(std::isfinite(y[i]), qPrintable(QString("non-finite y[%1]").arg(i)));
                        // f32 sums of per-block terms, each rounded once or twice relative
                        // to the terms' magnitude; at most K/16 + 8 terms: well under 1e-6.
                        // A code off by one, or a wrong block scale, is >= 1/(254 K) ~ 2e-6.
                        const double e = std::fabs(y[i] - ref.y[i]) / std::max(ref.scale[i], 1e-30);
                        worst = std::max(worst, e);
                        QVERIFY2(e <= 1e-6, qPrintable(QString("%1 T=%2 K=%3 N=%4: y[%5]=%6 ref=%7 rel %8")
                                                           .arg(dtypeName(t)).arg(T).arg(K).arg(N).arg(i)
                                                           .arg(y[i]).arg(ref.y[i]).arg(e)));
                        // The activation-rounding bound, plus f32 slack for both paths.
                        const double slack = 4e-5 * ref.scale[i];
                        const double gap = std::fabs(double(y[i]) - exact[i]);
                        worstBound = std::max(worstBound, gap / (ref.bound[i] + slack));
                        QVERIFY2(gap <= ref.bound[i] + slack,
                                 qPrintable(QString("%1 T=%2 K=%3 N=%4: |int8 - exact| %5 > bound %6")
                                                .arg(dtypeName(t)).arg(T).arg(K).arg(N).arg(gap)
                                                .arg(ref.bound[i])));
                    }
                    if (K == 2048 && T == 9 && N == 45)
                        qInfo("%s %s: worst rel. error vs int8 math %.2g, worst |int8 - exact| / bound %.2f",
                              cpu::isaName(cpu::Isa(isa)), dtypeName(t), worst, worstBound);
                }
    }

    // Every SIMD level computes the same math; the integer sums are exact, so the levels
    // may differ only by f32 summation order: within 1e-6 of sum |d q w|, as above.
    void isaLevelsAgree()
    {
        ThreadPool pool(2);
        for (DType t : kTypes) {
            const Problem p = makeProblem(t, 6, 512, 37, 3);
            const Reference ref = reference(p);
            cpu::setIsaCap(cpu::Isa::Scalar);
            const std::vector<float> base = run(pool, p, cpu::MatmulPrecision::Int8);
            for (int isa = 1; isa <= int(cpu::detectedIsa()); ++isa) {
                cpu::setIsaCap(cpu::Isa(isa));
                const std::vector<float> y = run(pool, p, cpu::MatmulPrecision::Int8);
                for (size_t i = 0; i < y.size(); ++i)
                    QVERIFY2(std::fabs(y[i] - base[i]) <= 2e-6 * ref.scale[i],
                             qPrintable(QString("%1 %2 vs scalar at %3").arg(cpu::isaName(cpu::Isa(isa)))
                                            .arg(dtypeName(t)).arg(i)));
            }
        }
    }

    // One thread computes each output in a fixed order: 1 or 3 threads give the same
    // bits. Within a kernel a token row's result does not depend on its tile or on T:
    // rows of a 13-row batch equal the same rows in a 6-row batch (both gemm), and a
    // single row equals itself inside a 3-row call (both gemv).
    void deterministic_data()
    {
        test::addIsaRows();
    }
    void deterministic()
    {
        QFETCH(int, isa);
        cpu::setIsaCap(cpu::Isa(isa));
        ThreadPool one(1), three(3);
        for (DType t : kTypes) {
            const Problem p = makeProblem(t, 13, 768, 203, 99);
            const auto a = run(one, p, cpu::MatmulPrecision::Int8), b = run(three, p, cpu::MatmulPrecision::Int8);
            QVERIFY2(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0, dtypeName(t));
            auto slice = [&](int64_t t0, int64_t rows) {
                Problem s = p;
                s.T = rows;
                s.x.assign(p.x.begin() + t0 * p.K, p.x.begin() + (t0 + rows) * p.K);
                return s;
            };
            const auto six = run(three, slice(7, 6), cpu::MatmulPrecision::Int8);
            QVERIFY2(std::memcmp(six.data(), a.data() + 7 * p.N, six.size() * sizeof(float)) == 0, dtypeName(t));
            const auto trio = run(three, slice(2, 3), cpu::MatmulPrecision::Int8);
            const auto single = run(three, slice(3, 1), cpu::MatmulPrecision::Int8);
            QVERIFY2(std::memcmp(single.data(), trio.data() + p.N, single.size() * sizeof(float)) == 0, dtypeName(t));
        }
        // A batch big enough (T * K >= 2^16) that the activations are quantised by the
        // pool's threads too: still the same bits, and still the int8 math.
        const Problem big = makeProblem(DType::Q4_0, 40, 2048, 37, 5);
        const auto a = run(one, big, cpu::MatmulPrecision::Int8), b = run(three, big, cpu::MatmulPrecision::Int8);
        QVERIFY(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
        const Reference ref = reference(big);
        for (size_t i = 0; i < b.size(); ++i)
            QVERIFY(std::fabs(b[i] - ref.y[i]) <= 1e-6 * ref.scale[i]);
    }

    // A NaN activation must not vanish into a code: its block's scale becomes NaN.
    void nanPropagates()
    {
        ThreadPool pool(1);
        for (int isa = 0; isa <= int(cpu::detectedIsa()); ++isa) {
            cpu::setIsaCap(cpu::Isa(isa));
            for (DType t : {DType::Q4_0, DType::Q6_K})
                for (int64_t T : {1, 5}) {
                    Problem p = makeProblem(t, T, 512, 20, 5);
                    p.x[size_t(T - 1) * 512 + 300] = NAN;
                    const auto y = run(pool, p, cpu::MatmulPrecision::Int8);
                    for (int64_t n = 0; n < p.N; ++n) {
                        QVERIFY(std::isnan(y[size_t((T - 1) * p.N + n)]));
                        if (T > 1)
                            QVERIFY(std::isfinite(y[size_t(n)]));
                    }
                }
        }
    }

    void biasAndZeroActivations()
    {
        ThreadPool pool(2);
        Problem p = makeProblem(DType::Q4_K, 5, 256, 9, 11);
        std::fill(p.x.begin(), p.x.begin() + 256, 0.0f); // amax 0: scale 0, codes 0
        std::vector<float> bias(9);
        for (size_t i = 0; i < bias.size(); ++i)
            bias[i] = float(i) - 4.0f;
        const auto y = run(pool, p, cpu::MatmulPrecision::Int8, bias.data());
        const auto y0 = run(pool, p, cpu::MatmulPrecision::Int8);
        for (int64_t n = 0; n < 9; ++n) {
            QCOMPARE(y[size_t(n)], bias[size_t(n)]);
            for (int64_t t = 1; t < 5; ++t)
                QCOMPARE(y[size_t(t * 9 + n)], y0[size_t(t * 9 + n)] + bias[size_t(n)]);
        }
    }

    void precisionSelection()
    {
        for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_K, DType::NF4})
            QVERIFY(!cpu::usesInt8Activations(t, cpu::MatmulPrecision::Int8));
        for (DType t : kTypes) {
            QVERIFY(cpu::usesInt8Activations(t, cpu::MatmulPrecision::Int8));
            QVERIFY(!cpu::usesInt8Activations(t, cpu::MatmulPrecision::Exact));
        }
        QCOMPARE(cpu::matmulPrecisionFromName("exact"), std::optional(cpu::MatmulPrecision::Exact));
        QCOMPARE(cpu::matmulPrecisionFromName("int8"), std::optional(cpu::MatmulPrecision::Int8));
        QVERIFY(!cpu::matmulPrecisionFromName("fast"));
        qputenv("LATHE_MATMUL", "exact");
        QCOMPARE(cpu::matmulPrecisionFromEnvironment(), cpu::MatmulPrecision::Exact);
        qputenv("LATHE_MATMUL", "f32");
        QVERIFY_THROWS_EXCEPTION(Error, cpu::matmulPrecisionFromEnvironment());
        qunsetenv("LATHE_MATMUL");
        QCOMPARE(cpu::matmulPrecisionFromEnvironment(), cpu::MatmulPrecision::Int8);
    }
};

QTEST_GUILESS_MAIN(TestMatmulInt8)
#include "tst_matmul_int8.moc"
