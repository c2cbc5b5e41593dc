// The training gemm against a plain triple loop in long double: every kind of right
// operand (dense, transposed, frozen, frozen transposed), A as stored or read transposed
// (gemmAT), shapes that cross every block boundary of the driver (96-row, 256-column and
// 256-deep blocks, 6x16 tiles) and odd ones, float (AVX2 tile where the CPU has it, and
// the portable one) and double; and the same bits for 1, 2 and 3 threads.
#include "backend/cpu/CpuFeatures.h"
#include "core/ThreadPool.h"
#include "infer/Rng.h"
#include "train/model/FrozenMatrix.h"
#include "train/ops/Gemm.h"

#include <QtTest>
#include <cmath>
#include <vector>

using namespace lathe;
using namespace lathe::train;

namespace {

template <class Real>
std::vector<Real> randomVec(size_t n, uint64_t seed)
{
    Rng rng(seed);
    std::vector<Real> v(n);
    for (Real &x : v)
        x = Real(2.0 * rng.uniform() - 1.0);
    return v;
}

enum class Kind { Dense, DenseT, Frozen, FrozenT };

// Runs C += A·B (gemm) or C += A^T·B with A stored [K, M] (gemmAT) for kind, with B's
// data laid out as that kind reads it; returns the max relative error against long
// double (normalised by the largest |reference|).
template <class Real>
double runCase(ThreadPool *pool, Kind kind, int64_t M, int64_t N, int64_t K, bool transA = false,
               std::vector<Real> *outC = nullptr)
{
    const std::vector<Real> A = randomVec<Real>(size_t(M * K), 1);
    auto a = [&](int64_t i, int64_t k) -> long double { return transA ? A[size_t(k * M + i)] : A[size_t(i * K + k)]; };
    const std::vector<Real> C0 = randomVec<Real>(size_t(M * N), 2);
    // Bmat[k][j] as the reference sees it, stored as the kind expects.
    const bool transposed = kind == Kind::DenseT || kind == Kind::FrozenT;
    const int64_t rows = transposed ? N : K, cols = transposed ? K : N;
    std::vector<float> stored = randomVec<float>(size_t(rows * cols), 3);
    std::vector<Real> storedReal(stored.begin(), stored.end());
    auto b = [&](int64_t k, int64_t j) -> long double {
        return transposed ? stored[size_t(j * K + k)] : stored[size_t(k * N + j)];
    };
    TensorView view{"test.weight", DType::F32, {rows, cols}, stored.data(), stored.size() * sizeof(float)};
    const FrozenMatrix fm = FrozenMatrix::view(view);
    GemmB<Real> B;
    switch (kind) {
    case Kind::Dense: B = GemmB<Real>::dense(storedReal.data(), N); break;
    case Kind::DenseT: B = GemmB<Real>::denseT(storedReal.data(), K); break;
    case Kind::Frozen: B = GemmB<Real>::frozenPlain(fm); break;
    case Kind::FrozenT: B = GemmB<Real>::frozenT(fm); break;
    }
    std::vector<Real> C = C0;
    if (transA)
        gemmAT<Real>(pool, M, N, K, A.data(), M, B, C.data(), N);
    else
        gemm<Real>(pool, M, N, K, A.data(), K, B, C.data(), N);
    double worst = 0, scale = 1e-30;
    for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
            long double ref = C0[size_t(i * N + j)];
            for (int64_t k = 0; k < K; ++k)
                ref += a(i, k) * b(k, j);
            worst = std::max(worst, double(std::fabs(ref - (long double)C[size_t(i * N + j)])));
            scale = std::max(scale, double(std::fabs(ref)));
        }
    if (outC)
        *outC = C;
    return worst / scale;
}

} // namespace

class TestOpGemm : public QObject
{
    Q_OBJECT

private slots:
    void shapes_data()
    {
        QTest::addColumn<int>("kind");
        QTest::addColumn<int>("M");
        QTest::addColumn<int>("N");
        QTest::addColumn<int>("K");
        QTest::addColumn<bool>("transA");
        const int shapes[][3] = {{1, 1, 1}, {5, 7, 3}, {6, 16, 16}, {7, 17, 33}, {97, 257, 300}, {131, 300, 517}};
        const char *names[] = {"dense", "denseT", "frozen", "frozenT"};
        for (int k = 0; k < 4; ++k)
            for (const auto &s : shapes)
                for (bool t : {false, true})
                    QTest::addRow("%s%s %dx%dx%d", t ? "A^T " : "", names[k], s[0], s[1], s[2])
                        << k << s[0] << s[1] << s[2] << t;
    }

    void shapes()
    {
        QFETCH(int, kind);
        QFETCH(int, M);
        QFETCH(int, N);
        QFETCH(int, K);
        QFETCH(bool, transA);
        ThreadPool pool(2);
        const double errD = runCase<double>(&pool, Kind(kind), M, N, K, transA);
        QVERIFY2(errD <= 1e-13, qPrintable(QString("double error %1").arg(errD)));
        // Float: the sum of K products rounds to ~K · 6e-8 relative at worst.
        const double errF = runCase<float>(&pool, Kind(kind), M, N, K, transA);
        QVERIFY2(errF <= 1e-7 * std::max(16, K), qPrintable(QString("float error %1").arg(errF)));
        const cpu::Isa saved = cpu::isaCap();
        cpu::setIsaCap(cpu::Isa::Scalar); // the portable tile
        const double errS = runCase<float>(&pool, Kind(kind), M, N, K, transA);
        cpu::setIsaCap(saved);
        QVERIFY2(errS <= 1e-7 * std::max(16, K), qPrintable(QString("portable float error %1").arg(errS)));
    }

    void sameBitsForAnyThreadCount()
    {
        std::vector<float> c1, c2, c3;
        ThreadPool p2(2), p3(3);
        for (bool t : {false, true}) {
            runCase<float>(nullptr, Kind::FrozenT, 203, 70, 300, t, &c1);
            runCase<float>(&p2, Kind::FrozenT, 203, 70, 300, t, &c2);
            runCase<float>(&p3, Kind::FrozenT, 203, 70, 300, t, &c3);
            QVERIFY(c1 == c2);
            QVERIFY(c1 == c3);
        }
    }
};

QTEST_GUILESS_MAIN(TestOpGemm)
#include "tst_op_gemm.moc"
