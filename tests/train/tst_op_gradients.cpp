// Every training op's backward against central finite differences of its own forward,
// in double. For an op y = f(x) the scalar checked is L = Σ w ∘ y with fixed random w,
// so dL/dx is exactly what backward returns for dy = w. Error measure (norm-wise):
//   err = max_i |a_i − n_i| / max(max_i |n_i|, 1e-8),  n_i = (L(x + h e_i) − L(x − h e_i)) / 2h,
// h = 1e-5, required err <= 1e-6 (truncation ~h² ~ 1e-10, rounding ~1e-16/h ~ 1e-11).
// Gradient buffers start at 0.25, not 0, so the "+=" contract is checked as well.
// Forwards whose semantics the model test does not pin down on its own (attention's
// segment masking, cross-entropy's ignore index, rope's pairs) are also compared with
// a naive implementation written here.
#include "core/Error.h"
#include "core/ThreadPool.h"
#include "infer/Rng.h"
#include "model/ModelConfig.h"
#include "train/TrainBatch.h"
#include "train/model/FrozenMatrix.h"
#include "train/ops/Attention.h"
#include "train/ops/CrossEntropy.h"
#include "train/ops/Embedding.h"
#include "train/ops/Linear.h"
#include "train/ops/Lora.h"
#include "train/ops/RmsNorm.h"
#include "train/ops/Rope.h"
#include "train/ops/SwiGlu.h"

#include <QtTest>
#include <cmath>
#include <functional>
#include <vector>

using namespace lathe;
using namespace lathe::train;

namespace {

using Vec = std::vector<double>;
constexpr double kPre = 0.25; // initial value of every gradient buffer
constexpr double kTol = 1e-6;

Vec rnd(size_t n, uint64_t seed, double scale = 1.0)
{
    Rng rng(seed);
    Vec v(n);
    for (double &x : v)
        x = scale * (2.0 * rng.uniform() - 1.0);
    return v;
}

double dotv(const Vec &a, const Vec &b)
{
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i)
        s += a[i] * b[i];
    return s;
}

Vec pre(size_t n)
{
    return Vec(n, kPre);
}

Vec minusPre(Vec v)
{
    for (double &x : v)
        x -= kPre;
    return v;
}

double fdError(Vec &x, const std::function<double()> &f, const Vec &analytic)
{
    const double h = 1e-5;
    double diff = 0, scale = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        const double keep = x[i];
        x[i] = keep + h;
        const double fp = f();
        x[i] = keep - h;
        const double fm = f();
        x[i] = keep;
        const double n = (fp - fm) / (2 * h);
        diff = std::max(diff, std::fabs(analytic[i] - n));
        scale = std::max(scale, std::fabs(n));
    }
    return diff / std::max(scale, 1e-8);
}

void expectGrad(const char *what, Vec &x, const std::function<double()> &f, const Vec &analytic)
{
    QCOMPARE(analytic.size(), x.size());
    const double err = fdError(x, f, analytic);
    qInfo("%-28s relative error %.3g", what, err);
    QVERIFY2(err <= kTol, what);
}

} // namespace

class TestOpGradients : public QObject
{
    Q_OBJECT
    ThreadPool m_pool{2};

private slots:
    void linear_data()
    {
        QTest::addColumn<int>("M");
        QTest::addColumn<int>("in");
        QTest::addColumn<int>("out");
        QTest::addColumn<bool>("bias");
        QTest::newRow("odd, bias") << 7 << 13 << 11 << true;
        QTest::newRow("odd, no bias") << 5 << 9 << 3 << false;
        QTest::newRow("deep (two K chunks)") << 9 << 260 << 19 << true;
    }
    void linear()
    {
        QFETCH(int, M);
        QFETCH(int, in);
        QFETCH(int, out);
        QFETCH(bool, bias);
        Vec x = rnd(size_t(M * in), 1), W = rnd(size_t(out * in), 2), b = rnd(size_t(out), 3), w = rnd(size_t(M * out), 4);
        auto forward = [&](const LinearWeight<double> &lw) {
            Vec y(size_t(M * out));
            linearForward<double>(&m_pool, x.data(), M, lw, bias ? b.data() : nullptr, y.data());
            return y;
        };
        const LinearWeight<double> dense{nullptr, W.data(), out, in};
        auto loss = [&] { return dotv(w, forward(dense)); };
        Vec dx = pre(x.size()), dW = pre(W.size()), db = pre(b.size());
        linearBackwardInput<double>(&m_pool, w.data(), M, dense, dx.data());
        linearBackwardParams<double>(&m_pool, w.data(), x.data(), M, out, in, dW.data(), bias ? db.data() : nullptr);
        expectGrad("linear dx", x, loss, minusPre(dx));
        expectGrad("linear dW", W, loss, minusPre(dW));
        if (bias)
            expectGrad("linear db", b, loss, minusPre(db));

        // The same weights frozen (f32 view and NF4): forward equals the dense product
        // with the dequantised values; dx against finite differences.
        std::vector<float> wf(W.begin(), W.end());
        TensorView view{"w", DType::F32, {out, in}, wf.data(), wf.size() * sizeof(float)};
        for (const FrozenMatrix &fm : {FrozenMatrix::view(view), FrozenMatrix::convert(view, DType::NF4)}) {
            Vec deq(W.size());
            std::vector<float> row(static_cast<size_t>(in));
            for (int r = 0; r < out; ++r) {
                fm.dequantize(r, 0, in, row.data());
                std::copy(row.begin(), row.end(), deq.begin() + r * in);
            }
            const LinearWeight<double> frozen{&fm, nullptr, out, in};
            const Vec yf = forward(frozen), yd = forward({nullptr, deq.data(), out, in});
            for (size_t i = 0; i < yf.size(); ++i)
                QVERIFY(std::fabs(yf[i] - yd[i]) <= 1e-12 * (1 + std::fabs(yd[i])));
            Vec dxf = pre(x.size());
            linearBackwardInput<double>(&m_pool, w.data(), M, frozen, dxf.data());
            expectGrad(fm.dtype() == DType::NF4 ? "linear frozen NF4 dx" : "linear frozen F32 dx", x,
                       [&] { return dotv(w, forward(frozen)); }, minusPre(dxf));
        }
    }

    void lora_data()
    {
        QTest::addColumn<double>("dropout");
        QTest::newRow("no dropout") << 0.0;
        QTest::newRow("dropout 0.3, fixed mask") << 0.3;
    }
    void lora()
    {
        QFETCH(double, dropout);
        const int M = 6, in = 13, out = 9, r = 3;
        Vec x = rnd(size_t(M * in), 1), A = rnd(size_t(r * in), 2), B = rnd(size_t(out * r), 3), w = rnd(size_t(M * out), 4);
        Vec mask(size_t(M * in));
        dropoutMask<double>(42, 5, dropout, M, in, mask.data());
        const double *mk = dropout > 0 ? mask.data() : nullptr;
        const LoraWeight<double> lw{A.data(), B.data(), r, in, out, 16.0 / r};
        Vec u(size_t(M * r));
        auto loss = [&] {
            Vec y(size_t(M * out), 0.0);
            loraForward<double>(&m_pool, x.data(), mk, M, lw, u.data(), y.data());
            return dotv(w, y);
        };
        loss(); // u for backward
        Vec dx = pre(x.size()), dA = pre(A.size()), dB = pre(B.size());
        loraBackward<double>(&m_pool, x.data(), mk, M, lw, u.data(), w.data(), dA.data(), dB.data(), dx.data());
        expectGrad("lora dx", x, loss, minusPre(dx));
        expectGrad("lora dA", A, loss, minusPre(dA));
        expectGrad("lora dB", B, loss, minusPre(dB));
    }

    void dropoutMaskIsReproducible()
    {
        const int64_t n = 100000;
        std::vector<float> a(n), b(n), c(n);
        dropoutMask<float>(7, 3, 0.25, 1, n, a.data());
        dropoutMask<float>(7, 3, 0.25, 1, n, b.data());
        dropoutMask<float>(7, 4, 0.25, 1, n, c.data());
        QVERIFY(a == b);
        QVERIFY(a != c);
        int64_t dropped = 0;
        for (float v : a) {
            QVERIFY(v == 0.0f || v == float(1.0 / 0.75));
            dropped += v == 0.0f;
        }
        // Binomial(1e5, 0.25): standard deviation 137, so +-1000 is over 7 sigma.
        QVERIFY(std::abs(dropped - n / 4) < 1000);
    }

    void rmsnorm()
    {
        const int rows = 5, n = 13;
        Vec x = rnd(size_t(rows * n), 1, 2.0), g = rnd(size_t(n), 2), w = rnd(size_t(rows * n), 3);
        const double eps = 1e-5;
        auto forward = [&] {
            Vec y(x.size());
            rmsnormForward<double>(&m_pool, x.data(), rows, n, g.data(), eps, y.data());
            return y;
        };
        const Vec y = forward();
        for (int r = 0; r < rows; ++r) { // y = x / rms(x) * g
            double ss = 0;
            for (int i = 0; i < n; ++i)
                ss += x[size_t(r * n + i)] * x[size_t(r * n + i)];
            for (int i = 0; i < n; ++i)
                QVERIFY(std::fabs(y[size_t(r * n + i)] - x[size_t(r * n + i)] / std::sqrt(ss / n + eps) * g[size_t(i)]) <
                        1e-14);
        }
        auto loss = [&] { return dotv(w, forward()); };
        Vec dx = pre(x.size()), dg = pre(g.size());
        rmsnormBackward<double>(&m_pool, x.data(), rows, n, g.data(), eps, w.data(), dx.data(), dg.data());
        expectGrad("rmsnorm dx", x, loss, minusPre(dx));
        expectGrad("rmsnorm dw", g, loss, minusPre(dg));
    }

    void rope_data()
    {
        QTest::addColumn<bool>("rotateHalf");
        QTest::addColumn<int>("ropeDim");
        QTest::newRow("interleaved") << false << 10;
        QTest::newRow("rotate-half") << true << 10;
        QTest::newRow("interleaved, partial") << false << 6;
        QTest::newRow("rotate-half, partial") << true << 6;
    }
    void rope()
    {
        QFETCH(bool, rotateHalf);
        QFETCH(int, ropeDim);
        const int M = 6, heads = 3, D = 10;
        const RopeShape shape{heads, D, ropeDim, rotateHalf};
        const std::vector<int32_t> pos{0, 1, 7, 100, 3, 5000};
        std::vector<double> invFreq(size_t(ropeDim / 2));
        for (int i = 0; i < ropeDim / 2; ++i)
            invFreq[size_t(i)] = std::pow(10000.0, -2.0 * i / ropeDim);
        Vec cs(size_t(M * ropeDim));
        ropeTable<double>(&m_pool, pos.data(), M, invFreq.data(), ropeDim / 2, cs.data());
        Vec x = rnd(size_t(M * heads * D), 1), w = rnd(x.size(), 2);
        auto forward = [&] {
            Vec y = x;
            ropeApply<double>(&m_pool, y.data(), M, shape, cs.data(), false);
            return y;
        };
        const Vec y = forward();
        for (int m = 0; m < M; ++m)
            for (int h = 0; h < heads; ++h) {
                const size_t o = size_t((m * heads + h) * D);
                for (int i = 0; i < ropeDim / 2; ++i) {
                    const size_t a = o + size_t(rotateHalf ? i : 2 * i), b = o + size_t(rotateHalf ? i + ropeDim / 2 : 2 * i + 1);
                    const double t = pos[size_t(m)] * invFreq[size_t(i)];
                    QVERIFY(std::fabs(y[a] - (x[a] * std::cos(t) - x[b] * std::sin(t))) < 1e-12);
                    QVERIFY(std::fabs(y[b] - (x[a] * std::sin(t) + x[b] * std::cos(t))) < 1e-12);
                }
                for (int i = ropeDim; i < D; ++i)
                    QCOMPARE(y[o + size_t(i)], x[o + size_t(i)]);
            }
        Vec dx = w; // backward maps dy to dx in place
        ropeApply<double>(&m_pool, dx.data(), M, shape, cs.data(), true);
        expectGrad("rope dx", x, [&] { return dotv(w, forward()); }, dx);
    }

    void attention_data()
    {
        QTest::addColumn<int>("heads");
        QTest::addColumn<int>("kvHeads");
        QTest::addColumn<int>("headDim");
        QTest::newRow("GQA 4/2, D 2") << 4 << 2 << 2;
        QTest::newRow("MHA 2/2, D 3") << 2 << 2 << 3;
        QTest::newRow("MQA 3/1, D 2") << 3 << 1 << 2;
    }
    void attention()
    {
        QFETCH(int, heads);
        QFETCH(int, kvHeads);
        QFETCH(int, headDim);
        // Two rows of 66 (more than one 64-query block): row 0 packs segments of 30, 1
        // and 35 tokens; row 1 takes the contract literally with an id that comes back
        // (0 x 20, 1 x 20, 0 x 26: the last run sees the first, not the middle).
        const int B = 2, T = 66, D = headDim;
        std::vector<int32_t> seg(size_t(B * T));
        for (int t = 0; t < T; ++t) {
            seg[size_t(t)] = t < 30 ? 4 : t < 31 ? 9 : 2;
            seg[size_t(T + t)] = t >= 20 && t < 40 ? 1 : 0;
        }
        const AttentionDims dims{B, T, heads, kvHeads, D, 1.0 / std::sqrt(double(D))};
        Vec q = rnd(size_t(B * T * heads * D), 1, 1.5), k = rnd(size_t(B * T * kvHeads * D), 2, 1.5),
            v = rnd(size_t(B * T * kvHeads * D), 3), w = rnd(q.size(), 4);
        Vec lse(size_t(B * T * heads));
        auto forward = [&] {
            Vec out(q.size());
            attentionForward<double>(&m_pool, dims, q.data(), k.data(), v.data(), seg.data(), out.data(), lse.data());
            return out;
        };
        const Vec out = forward();
        // Naive reference: softmax over the visible keys s <= t of the same segment.
        for (int b = 0; b < B; ++b)
            for (int h = 0; h < heads; ++h)
                for (int t = 0; t < T; ++t) {
                    const int kvh = h / (heads / kvHeads);
                    std::vector<double> p(size_t(T), 0.0);
                    double mx = -1e300, sum = 0;
                    for (int s = 0; s <= t; ++s)
                        if (seg[size_t(b * T + s)] == seg[size_t(b * T + t)]) {
                            double dot = 0;
                            for (int d = 0; d < D; ++d)
                                dot += q[size_t(((b * T + t) * heads + h) * D + d)] *
                                       k[size_t(((b * T + s) * kvHeads + kvh) * D + d)];
                            p[size_t(s)] = dot * dims.scale;
                            mx = std::max(mx, p[size_t(s)]);
                        }
                    for (int s = 0; s <= t; ++s)
                        if (seg[size_t(b * T + s)] == seg[size_t(b * T + t)])
                            sum += std::exp(p[size_t(s)] - mx);
                    QVERIFY(std::fabs(lse[size_t((b * T + t) * heads + h)] - (mx + std::log(sum))) < 1e-12);
                    for (int d = 0; d < D; ++d) {
                        double o = 0;
                        for (int s = 0; s <= t; ++s)
                            if (seg[size_t(b * T + s)] == seg[size_t(b * T + t)])
                                o += std::exp(p[size_t(s)] - mx) / sum * v[size_t(((b * T + s) * kvHeads + kvh) * D + d)];
                        QVERIFY(std::fabs(out[size_t(((b * T + t) * heads + h) * D + d)] - o) < 1e-12);
                    }
                }
        Vec dq = pre(q.size()), dk = pre(k.size()), dv = pre(v.size());
        attentionBackward<double>(&m_pool, dims, q.data(), k.data(), v.data(), seg.data(), lse.data(), w.data(), dq.data(),
                                  dk.data(), dv.data());
        auto loss = [&] { return dotv(w, forward()); };
        expectGrad("attention dq", q, loss, minusPre(dq));
        expectGrad("attention dk", k, loss, minusPre(dk));
        expectGrad("attention dv", v, loss, minusPre(dv));
    }

    void swiglu()
    {
        const int n = 17;
        Vec g = rnd(n, 1, 3.0), u = rnd(n, 2, 2.0), w = rnd(n, 3);
        auto loss = [&] {
            Vec a(n);
            swigluForward<double>(&m_pool, g.data(), u.data(), n, a.data());
            return dotv(w, a);
        };
        Vec dg = pre(n), du = pre(n);
        swigluBackward<double>(&m_pool, g.data(), u.data(), w.data(), n, dg.data(), du.data());
        expectGrad("swiglu dg", g, loss, minusPre(dg));
        expectGrad("swiglu du", u, loss, minusPre(du));
    }

    void crossEntropy()
    {
        const int M = 6, V = 11;
        const std::vector<int32_t> targets{3, kIgnoreIndex, 0, 10, kIgnoreIndex, 5};
        Vec z = rnd(size_t(M * V), 1, 3.0);
        const double gw = 0.7;
        auto loss = [&] { return lathe::train::crossEntropy<double>(&m_pool, z.data(), M, V, targets.data(), 0.0, nullptr); };
        double want = 0;
        for (int m = 0; m < M; ++m) {
            if (targets[size_t(m)] == kIgnoreIndex)
                continue;
            double sum = 0;
            for (int v = 0; v < V; ++v)
                sum += std::exp(z[size_t(m * V + v)]);
            want += std::log(sum) - z[size_t(m * V + targets[size_t(m)])];
        }
        QVERIFY(std::fabs(loss() - want) < 1e-12);
        Vec dz = pre(z.size());
        const double nll = lathe::train::crossEntropy<double>(&m_pool, z.data(), M, V, targets.data(), gw, dz.data());
        QVERIFY(std::fabs(nll - want) < 1e-12);
        dz = minusPre(dz);
        for (int v = 0; v < V; ++v) { // ignored rows get nothing
            QCOMPARE(dz[size_t(1 * V + v)], 0.0);
            QCOMPARE(dz[size_t(4 * V + v)], 0.0);
        }
        for (double &x : dz)
            x /= gw;
        expectGrad("cross-entropy dlogits", z, loss, dz);
        const std::vector<int32_t> bad{3, 11, 0, 0, 0, 0};
        QVERIFY_THROWS_EXCEPTION(Error, lathe::train::crossEntropy<double>(&m_pool, z.data(), M, V, bad.data(), 1.0, nullptr));
    }

    void embedding()
    {
        const int V = 9, dim = 5;
        const std::vector<int32_t> tokens{3, 1, 3, 8, 0, 3, 7};
        const int M = int(tokens.size());
        Vec table = rnd(size_t(V * dim), 1), w = rnd(size_t(M * dim), 2);
        auto loss = [&] {
            Vec out(size_t(M * dim));
            embeddingForward<double>(&m_pool, table.data(), dim, tokens.data(), M, out.data());
            return dotv(w, out);
        };
        Vec dt = pre(table.size());
        embeddingBackward<double>(&m_pool, tokens.data(), M, dim, w.data(), dt.data());
        expectGrad("embedding dtable", table, loss, minusPre(dt));
        // The frozen lookup reads the same rows.
        std::vector<float> tf(table.begin(), table.end());
        TensorView view{"token_embd.weight", DType::F32, {V, dim}, tf.data(), tf.size() * sizeof(float)};
        const FrozenMatrix fm = FrozenMatrix::view(view);
        Vec a(size_t(M * dim)), b(size_t(M * dim));
        embeddingForward<double>(&m_pool, fm, tokens.data(), M, a.data());
        embeddingForward<double>(&m_pool, table.data(), dim, tokens.data(), M, b.data());
        for (size_t i = 0; i < a.size(); ++i)
            QCOMPARE(a[i], double(float(b[i])));
    }
};

QTEST_GUILESS_MAIN(TestOpGradients)
#include "tst_op_gradients.moc"
