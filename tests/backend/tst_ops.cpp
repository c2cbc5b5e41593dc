// Each CPU op against a naive double-precision reference written here, on shapes that
// hit the edges: 1, odd sizes, non-multiples of 8/16, GQA ratios 1/2/4, both RoPE
// layouts, partial rotary dims, F16 KV. Plus the Device memory accounting and registry.
// Tolerances: the ops compute in f32 with f32 inputs; 2e-6 relative (a few f32 ulps
// times the reduction length's error growth) is far below any bug's signature.
#include "backend/DeviceRegistry.h"
#include "backend/cpu/CpuDevice.h"
#include "backend/cpu/CpuOps.h"
#include "core/Error.h"
#include "core/Half.h"
#include "core/Quant.h"

#include <QtTest>
#include <cmath>
#include <random>
#include <vector>

using namespace lathe;

namespace {

std::vector<float> randomVector(size_t n, uint32_t seed, float scale = 1.0f)
{
    std::mt19937 gen(seed);
    std::uniform_real_distribution<float> dist(-scale, scale);
    std::vector<float> v(n);
    for (float &x : v)
        x = dist(gen);
    return v;
}

double maxRelError(const std::vector<float> &got, const std::vector<double> &want)
{
    double worst = 0.0;
    for (size_t i = 0; i < got.size(); ++i) {
        if (!std::isfinite(got[i]))
            return INFINITY;
        worst = std::max(worst, std::abs(double(got[i]) - want[i]) / std::max(1.0, std::abs(want[i])));
    }
    return worst;
}

} // namespace

class TestOps : public QObject
{
    Q_OBJECT
    CpuDevice m_device{3}; // an odd thread count: uneven splits
    ThreadPool &pool() { return m_device.pool(); }

private slots:
    void rmsnorm()
    {
        for (int64_t rows : {1, 3})
            for (int64_t n : {1, 7, 16, 67, 255, 9001}) { // 9001: split across threads
                auto x = randomVector(size_t(rows * n), uint32_t(n), 3.0f);
                auto w = randomVector(size_t(n), uint32_t(n + 1));
                std::vector<float> y(x.size());
                cpu::rmsnorm(pool(), x.data(), rows, n, w.data(), 1e-5f, y.data());
                std::vector<double> ref(x.size());
                for (int64_t r = 0; r < rows; ++r) {
                    double ss = 0;
                    for (int64_t i = 0; i < n; ++i)
                        ss += double(x[r * n + i]) * x[r * n + i];
                    const double inv = 1.0 / std::sqrt(ss / n + 1e-5);
                    for (int64_t i = 0; i < n; ++i)
                        ref[r * n + i] = x[r * n + i] * inv * w[i];
                }
                QVERIFY2(maxRelError(y, ref) < 2e-6, qPrintable(QString("rows %1 n %2").arg(rows).arg(n)));
                // in place gives the same
                cpu::rmsnorm(pool(), x.data(), rows, n, w.data(), 1e-5f, x.data());
                QCOMPARE(x, y);
            }
    }

    void logSoftmax()
    {
        for (int64_t n : {1, 5, 513}) {
            auto x = randomVector(size_t(2 * n), uint32_t(n), 30.0f);
            std::vector<float> y(x.size());
            cpu::logSoftmax(pool(), x.data(), 2, n, y.data());
            for (int64_t r = 0; r < 2; ++r) {
                double mx = -INFINITY, sum = 0;
                for (int64_t i = 0; i < n; ++i)
                    mx = std::max(mx, double(x[r * n + i]));
                for (int64_t i = 0; i < n; ++i)
                    sum += std::exp(x[r * n + i] - mx);
                for (int64_t i = 0; i < n; ++i) {
                    const double want = x[r * n + i] - mx - std::log(sum);
                    QVERIFY(std::abs(y[r * n + i] - want) < 1e-5 * std::max(1.0, std::abs(want)));
                }
            }
        }
    }

    void rope_data()
    {
        QTest::addColumn<bool>("rotateHalf");
        QTest::addColumn<int>("heads");
        QTest::addColumn<int>("headDim");
        QTest::addColumn<int>("ropeDim");
        QTest::newRow("interleaved full") << false << 3 << 16 << 16;
        QTest::newRow("interleaved partial") << false << 2 << 16 << 6;
        QTest::newRow("rotate-half full") << true << 3 << 10 << 10;
        QTest::newRow("rotate-half partial") << true << 1 << 24 << 8;
        QTest::newRow("one pair") << true << 1 << 2 << 2;
    }
    void rope()
    {
        QFETCH(bool, rotateHalf);
        QFETCH(int, heads);
        QFETCH(int, headDim);
        QFETCH(int, ropeDim);
        const std::vector<int32_t> positions = {0, 1, 77, 5000, 3};
        const int64_t T = int64_t(positions.size());
        std::vector<double> invFreq(size_t(ropeDim / 2));
        for (int i = 0; i < ropeDim / 2; ++i)
            invFreq[size_t(i)] = std::pow(10000.0, -2.0 * i / ropeDim);
        auto x = randomVector(size_t(T * heads * headDim), 7);
        const auto x0 = x;
        cpu::rope(pool(), x.data(), T, heads, headDim, ropeDim, rotateHalf, positions.data(), invFreq.data());
        for (int64_t t = 0; t < T; ++t)
            for (int h = 0; h < heads; ++h) {
                const int64_t base = (t * heads + h) * headDim;
                std::vector<double> want(static_cast<size_t>(headDim));
                for (int d = 0; d < headDim; ++d)
                    want[size_t(d)] = x0[size_t(base + d)];
                for (int i = 0; i < ropeDim / 2; ++i) {
                    const int a = rotateHalf ? i : 2 * i, b = rotateHalf ? i + ropeDim / 2 : 2 * i + 1;
                    const double ang = positions[size_t(t)] * invFreq[size_t(i)];
                    want[size_t(a)] = x0[size_t(base + a)] * std::cos(ang) - x0[size_t(base + b)] * std::sin(ang);
                    want[size_t(b)] = x0[size_t(base + a)] * std::sin(ang) + x0[size_t(base + b)] * std::cos(ang);
                }
                for (int d = 0; d < headDim; ++d) {
                    if (d >= ropeDim)
                        QCOMPARE(x[size_t(base + d)], x0[size_t(base + d)]); // untouched, bit for bit
                    QVERIFY2(std::abs(x[size_t(base + d)] - want[size_t(d)]) < 1e-6,
                             qPrintable(QString("t %1 h %2 d %3").arg(t).arg(h).arg(d)));
                }
            }
    }

    void attention_data()
    {
        QTest::addColumn<int>("heads");
        QTest::addColumn<int>("kvHeads");
        QTest::addColumn<int>("headDim");
        QTest::addColumn<int>("T");
        QTest::addColumn<int>("startPos");
        QTest::addColumn<bool>("f16");
        QTest::newRow("mha T1") << 2 << 2 << 8 << 1 << 0 << false;
        QTest::newRow("gqa2 prefill") << 4 << 2 << 5 << 7 << 0 << false;
        QTest::newRow("gqa4 continue") << 8 << 2 << 16 << 3 << 5 << false;
        QTest::newRow("mqa D1") << 3 << 1 << 1 << 4 << 2 << false;
        QTest::newRow("gqa2 f16 kv") << 4 << 2 << 17 << 5 << 4 << true;
        // long enough that the work is split across the pool's threads
        QTest::newRow("gqa4 long threaded") << 8 << 2 << 64 << 5 << 200 << false;
    }
    void attention()
    {
        QFETCH(int, heads);
        QFETCH(int, kvHeads);
        QFETCH(int, headDim);
        QFETCH(int, T);
        QFETCH(int, startPos);
        QFETCH(bool, f16);
        const int64_t cap = startPos + T + 2;
        const int64_t kvw = int64_t(kvHeads) * headDim;
        // The cache content for all positions; the first startPos are stored beforehand.
        auto kAll = randomVector(size_t((startPos + T) * kvw), 11, 2.0f);
        auto vAll = randomVector(size_t((startPos + T) * kvw), 12);
        auto q = randomVector(size_t(T * heads * headDim), 13, 2.0f);
        std::vector<uint8_t> kBuf(size_t(cap * kvw * 4)), vBuf(kBuf.size());
        const KvLayerView kv{f16 ? DType::F16 : DType::F32, kBuf.data(), vBuf.data(), cap, kvHeads, headDim};
        if (startPos > 0)
            cpu::kvStore(kv, 0, startPos, kAll.data(), vAll.data());
        cpu::kvStore(kv, startPos, T, kAll.data() + startPos * kvw, vAll.data() + startPos * kvw);
        const AttentionShape shape{heads, kvHeads, headDim, float(1.0 / std::sqrt(double(headDim)))};
        std::vector<float> out(q.size());
        cpu::attention(pool(), q.data(), T, startPos, kv, shape, out.data());

        auto stored = [&](float x) { return f16 ? double(f16ToF32(f32ToF16(x))) : double(x); };
        std::vector<double> ref(out.size());
        for (int t = 0; t < T; ++t)
            for (int h = 0; h < heads; ++h) {
                const int kvh = h / (heads / kvHeads);
                const float *qv = q.data() + (int64_t(t) * heads + h) * headDim;
                const int n = startPos + t + 1;
                std::vector<double> s(static_cast<size_t>(n));
                double mx = -INFINITY;
                for (int p = 0; p < n; ++p) {
                    double dot = 0;
                    for (int d = 0; d < headDim; ++d)
                        dot += double(qv[d]) * stored(kAll[size_t(p * kvw + kvh * headDim + d)]);
                    s[size_t(p)] = dot / std::sqrt(double(headDim));
                    mx = std::max(mx, s[size_t(p)]);
                }
                double sum = 0;
                for (double &x : s)
                    sum += (x = std::exp(x - mx));
                for (int d = 0; d < headDim; ++d) {
                    double acc = 0;
                    for (int p = 0; p < n; ++p)
                        acc += s[size_t(p)] * stored(vAll[size_t(p * kvw + kvh * headDim + d)]);
                    ref[size_t((int64_t(t) * heads + h) * headDim + d)] = acc / sum;
                }
            }
        QVERIFY(maxRelError(out, ref) < 2e-6);

        // Token-by-token decode over the same cache gives the batched result bit for bit.
        for (int t = 0; t < T; ++t) {
            std::vector<float> one(size_t(heads * headDim));
            cpu::attention(pool(), q.data() + int64_t(t) * heads * headDim, 1, startPos + t, kv, shape, one.data());
            for (size_t i = 0; i < one.size(); ++i)
                QCOMPARE(one[i], out[size_t(t) * one.size() + i]);
        }
    }

    void swigluAndAdd()
    {
        for (int64_t n : {1, 15, 4097, 9000}) {
            auto a = randomVector(size_t(n), 1, 8.0f), b = randomVector(size_t(n), 2, 3.0f);
            std::vector<float> y(static_cast<size_t>(n)), s(static_cast<size_t>(n));
            cpu::swiglu(pool(), a.data(), b.data(), n, y.data());
            cpu::add(pool(), a.data(), b.data(), n, s.data());
            std::vector<double> ry(static_cast<size_t>(n));
            for (int64_t i = 0; i < n; ++i) {
                ry[size_t(i)] = a[i] / (1.0 + std::exp(-double(a[i]))) * b[i];
                QCOMPARE(s[size_t(i)], a[i] + b[i]); // one f32 rounding: exact
            }
            QVERIFY(maxRelError(y, ry) < 2e-6);
        }
    }

    void embedding()
    {
        const int64_t V = 5, C = 7;
        auto table = randomVector(size_t(V * C), 3);
        std::vector<uint16_t> half(table.size());
        for (size_t i = 0; i < table.size(); ++i)
            half[i] = f32ToF16(table[i]);
        const std::vector<int32_t> tokens = {4, 0, 4, 2};
        std::vector<float> out(tokens.size() * C);
        TensorView f32{"emb", DType::F32, {V, C}, table.data(), table.size() * 4};
        m_device.embedding(f32, tokens.data(), int64_t(tokens.size()), out.data());
        for (size_t t = 0; t < tokens.size(); ++t)
            for (int64_t c = 0; c < C; ++c)
                QCOMPARE(out[t * C + c], table[size_t(tokens[t] * C + c)]);
        TensorView f16{"emb", DType::F16, {V, C}, half.data(), half.size() * 2};
        m_device.embedding(f16, tokens.data(), int64_t(tokens.size()), out.data());
        for (size_t t = 0; t < tokens.size(); ++t)
            for (int64_t c = 0; c < C; ++c)
                QCOMPARE(out[t * C + c], f16ToF32(half[size_t(tokens[t] * C + c)]));
        const int32_t bad = 5;
        QVERIFY_THROWS_EXCEPTION(Error, m_device.embedding(f32, &bad, 1, out.data()));
    }

    void matmul_data()
    {
        QTest::addColumn<int>("dtype");
        QTest::addColumn<int>("T");
        QTest::addColumn<int>("K");
        QTest::addColumn<int>("N");
        QTest::addColumn<bool>("bias");
        QTest::newRow("f32 1x1x1") << int(DType::F32) << 1 << 1 << 1 << false;
        QTest::newRow("f32 odd bias") << int(DType::F32) << 3 << 67 << 13 << true;
        QTest::newRow("f16") << int(DType::F16) << 5 << 33 << 9 << false;
        QTest::newRow("bf16") << int(DType::BF16) << 2 << 40 << 7 << true;
        QTest::newRow("q8_0") << int(DType::Q8_0) << 4 << 96 << 11 << false;
        QTest::newRow("q4_k") << int(DType::Q4_K) << 3 << 256 << 5 << true;
    }
    void matmul()
    {
        QFETCH(int, dtype);
        QFETCH(int, T);
        QFETCH(int, K);
        QFETCH(int, N);
        QFETCH(bool, bias);
        const DType t = DType(dtype);
        auto wf = randomVector(size_t(N * K), 21);
        auto x = randomVector(size_t(T * K), 22);
        auto b = randomVector(size_t(N), 23);
        std::vector<uint8_t> w(size_t(N) * rowBytes(t, K));
        std::vector<float> deq(size_t(N * K));
        for (int n = 0; n < N; ++n) {
            quantizeRow(t, wf.data() + int64_t(n) * K, w.data() + size_t(n) * rowBytes(t, K), K);
            dequantizeRow(t, w.data() + size_t(n) * rowBytes(t, K), deq.data() + int64_t(n) * K, K);
        }
        TensorView view{"w", t, {N, K}, w.data(), w.size()};
        // The device's precision comes from LATHE_MATMUL (int8 unless set): Int8 quantizes
        // the activations of quantized-weight matmuls to 8 bits (tst_matmul_int8 tests
        // that path); Exact keeps them f32. Both are checked here through the device.
        const cpu::MatmulPrecision initial = m_device.matmulPrecision();
        QCOMPARE(initial, cpu::matmulPrecisionFromEnvironment());
        std::vector<float> y(size_t(T * N)), y8(size_t(T * N));
        m_device.setMatmulPrecision(cpu::MatmulPrecision::Exact);
        m_device.matmul(x.data(), T, view, bias ? b.data() : nullptr, y.data());
        m_device.setMatmulPrecision(cpu::MatmulPrecision::Int8);
        m_device.matmul(x.data(), T, view, bias ? b.data() : nullptr, y8.data());
        m_device.setMatmulPrecision(initial);
        const int block = dtypeInfo(t).blockSize == 256 ? 256 : 32;
        // Reference: the dequantized weights (the definition of a quantized matmul) in double.
        for (int i = 0; i < T; ++i)
            for (int n = 0; n < N; ++n) {
                double acc = bias ? b[size_t(n)] : 0.0, mag = 0.0, int8Bound = 0.0;
                for (int k0 = 0; k0 < K; k0 += block) {
                    double amax = 0.0, wsum = 0.0;
                    for (int k = k0; k < std::min(K, k0 + block); ++k) {
                        acc += double(x[size_t(i * K + k)]) * deq[size_t(n * K + k)];
                        mag += std::abs(double(x[size_t(i * K + k)]) * deq[size_t(n * K + k)]);
                        amax = std::max(amax, std::abs(double(x[size_t(i * K + k)])));
                        wsum += std::abs(double(deq[size_t(n * K + k)]));
                    }
                    // 8-bit activations: |x - d q| <= amax / 254, plus d's f16 rounding.
                    int8Bound += wsum * amax * (1.0 / 254 + 1.0 / 2048);
                }
                // f32 accumulation of K products: error <= K * 2^-24 * sum|x*w| (loose bound).
                const double tol = 1e-6 + K * 6e-8 * mag;
                QVERIFY2(std::abs(y[size_t(i * N + n)] - acc) <= tol,
                         qPrintable(QString("row %1 col %2: %3 vs %4").arg(i).arg(n).arg(y[size_t(i * N + n)]).arg(acc)));
                const bool int8Path = cpu::usesInt8Activations(t, cpu::MatmulPrecision::Int8);
                QVERIFY2(std::abs(y8[size_t(i * N + n)] - acc) <= (int8Path ? int8Bound : 0.0) + tol,
                         qPrintable(QString("int8 row %1 col %2: %3 vs %4").arg(i).arg(n).arg(y8[size_t(i * N + n)]).arg(acc)));
            }
    }

    void memoryAccounting()
    {
        CpuDevice d(1);
        d.setMemoryLimit(1000);
        {
            DeviceBuffer a = d.allocate(600, MemoryTag::KvCache);
            DeviceBuffer b = d.allocate(300, MemoryTag::Activations);
            QCOMPARE(d.memoryStats().used[int(MemoryTag::KvCache)], 600);
            QCOMPARE(d.memoryStats().total(), 900);
            QVERIFY(static_cast<uint8_t *>(a.data())[599] == 0); // zero-filled
            QVERIFY_THROWS_EXCEPTION(OutOfMemoryError, d.allocate(101, MemoryTag::Workspace));
            DeviceBuffer moved = std::move(b);
            QCOMPARE(d.memoryStats().total(), 900);
        }
        QCOMPARE(d.memoryStats().total(), 0);
        QCOMPARE(d.memoryStats().peak[int(MemoryTag::KvCache)], 600);
        DeviceBuffer c = d.allocate(1000, MemoryTag::Weights); // exactly the limit fits
        QCOMPARE(c.bytes(), size_t(1000));
    }

    void registry()
    {
        DeviceRegistry reg;
        QVERIFY(!reg.available().empty());
        QCOMPARE(reg.available().front().name, std::string("cpu"));
        auto d = reg.create("cpu", {2, 0});
        QCOMPARE(d->name(), std::string("cpu"));
        try {
            reg.create("tpu");
            QFAIL("expected an error");
        } catch (const Error &e) {
            QVERIFY(std::string(e.what()).find("cpu") != std::string::npos);
        }
    }
};

QTEST_GUILESS_MAIN(TestOps)
#include "tst_ops.moc"
