// Gemm driver: rows of C are split over the pool; each thread walks N in blocks of kNc
// columns and K in chunks of kKc, packs B's [kKc, kNc] block into 16-column panels
// (dequantising frozen weights as it goes) and runs register tiles over its rows in
// blocks of kMc, so a panel stays in L1/L2 while A streams past it.
#include "train/ops/Gemm.h"

#include "backend/cpu/CpuFeatures.h"
#include "train/model/FrozenMatrix.h"
#include "train/ops/GemmTile.h"
#include "train/ops/Parallel.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace lathe::train {

namespace {

using detail::kTileCols;
using detail::kTileRows;

constexpr int64_t kKc = 256;
constexpr int64_t kNc = 256;
constexpr int64_t kMc = 16 * kTileRows;
constexpr int64_t kSerialWork = int64_t(1) << 16; // multiply-adds below which threads cost more than they save

template <class Real, int R>
void tileGeneric(const Real *A, int64_t lda, const Real *panel, int64_t kc, Real *C, int64_t ldc, int cols)
{
    Real acc[R][kTileCols];
    for (int r = 0; r < R; ++r)
        for (int j = 0; j < kTileCols; ++j)
            acc[r][j] = j < cols ? C[r * ldc + j] : Real(0);
    for (int64_t k = 0; k < kc; ++k) {
        const Real *b = panel + k * kTileCols;
        for (int r = 0; r < R; ++r) {
            const Real a = A[r * lda + k];
            for (int j = 0; j < kTileCols; ++j)
                acc[r][j] += a * b[j];
        }
    }
    for (int r = 0; r < R; ++r)
        for (int j = 0; j < cols; ++j)
            C[r * ldc + j] = acc[r][j];
}

template <class Real>
void tileGenericAny(const Real *A, int64_t lda, int rows, const Real *panel, int64_t kc, Real *C, int64_t ldc, int cols)
{
    switch (rows) {
    case 6: tileGeneric<Real, 6>(A, lda, panel, kc, C, ldc, cols); break;
    case 5: tileGeneric<Real, 5>(A, lda, panel, kc, C, ldc, cols); break;
    case 4: tileGeneric<Real, 4>(A, lda, panel, kc, C, ldc, cols); break;
    case 3: tileGeneric<Real, 3>(A, lda, panel, kc, C, ldc, cols); break;
    case 2: tileGeneric<Real, 2>(A, lda, panel, kc, C, ldc, cols); break;
    default: tileGeneric<Real, 1>(A, lda, panel, kc, C, ldc, cols); break;
    }
}

template <class Real>
using TileFn = void (*)(const Real *, int64_t, int, const Real *, int64_t, Real *, int64_t, int);

template <class Real>
TileFn<Real> pickTile()
{
    if constexpr (std::is_same_v<Real, float>) {
        if (cpu::activeIsa() >= cpu::Isa::Avx2)
            return detail::avx2TileF32();
    }
    return &tileGenericAny<Real>;
}

// Packs B[k0 .. k0+kc, j0 .. j0+nc] into panels: group g (columns j0+16g ..) occupies
// panel[g*kc*16 ..], row k at +k*16; columns past nc are zero.
template <class Real>
void packB(const GemmB<Real> &B, int64_t k0, int64_t kc, int64_t j0, int64_t nc, Real *panel)
{
    using Kind = typename GemmB<Real>::Kind;
    const int64_t groups = (nc + kTileCols - 1) / kTileCols;
    if (nc % kTileCols != 0) // zero the partial last group first
        std::fill(panel + (groups - 1) * kc * kTileCols, panel + groups * kc * kTileCols, Real(0));
    thread_local std::vector<float> row;
    auto putRow = [&](int64_t k, auto get) { // B[k0+k, j0 .. j0+nc) = get(j)
        for (int64_t g = 0; g < groups; ++g) {
            Real *dst = panel + g * kc * kTileCols + k * kTileCols;
            const int64_t n = std::min<int64_t>(kTileCols, nc - g * kTileCols);
            for (int64_t j = 0; j < n; ++j)
                dst[j] = get(g * kTileCols + j);
        }
    };
    auto putCol = [&](int64_t j, auto get) { // B[k0 .. k0+kc, j0+j] = get(k)
        Real *dst = panel + (j / kTileCols) * kc * kTileCols + (j % kTileCols);
        for (int64_t k = 0; k < kc; ++k)
            dst[k * kTileCols] = get(k);
    };
    switch (B.kind) {
    case Kind::Dense:
        for (int64_t k = 0; k < kc; ++k) {
            const Real *src = B.data + (k0 + k) * B.ld + j0;
            putRow(k, [&](int64_t j) { return src[j]; });
        }
        break;
    case Kind::DenseT:
        for (int64_t j = 0; j < nc; ++j) {
            const Real *src = B.data + (j0 + j) * B.ld + k0;
            putCol(j, [&](int64_t k) { return src[k]; });
        }
        break;
    case Kind::Frozen:
        row.resize(size_t(nc));
        for (int64_t k = 0; k < kc; ++k) {
            B.frozen->dequantize(k0 + k, j0, j0 + nc, row.data());
            putRow(k, [&](int64_t j) { return Real(row[size_t(j)]); });
        }
        break;
    case Kind::FrozenT:
        row.resize(size_t(kc));
        for (int64_t j = 0; j < nc; ++j) {
            B.frozen->dequantize(j0 + j, k0, k0 + kc, row.data());
            putCol(j, [&](int64_t k) { return Real(row[size_t(k)]); });
        }
        break;
    }
}

// dst[m, k] = src[k*lds + m] for k < kc, m < mc (dst row stride kc), in 16x16 blocks so
// both sides stay within a few cache lines.
template <class Real>
void packTransposed(const Real *src, int64_t lds, int64_t kc, int64_t mc, Real *dst)
{
    constexpr int64_t kB = 16;
    for (int64_t k0 = 0; k0 < kc; k0 += kB)
        for (int64_t m0 = 0; m0 < mc; m0 += kB) {
            const int64_t k1 = std::min(kc, k0 + kB), m1 = std::min(mc, m0 + kB);
            for (int64_t m = m0; m < m1; ++m)
                for (int64_t k = k0; k < k1; ++k)
                    dst[m * kc + k] = src[k * lds + m];
        }
}

// Rows [m0, m1) of C. A(i, k) = A[i*lda + k], or A[k*lda + i] when transA (then each
// [kMc, kKc] block of A is first copied into row-major scratch).
template <class Real>
void gemmRows(int64_t m0, int64_t m1, int64_t N, int64_t K, const Real *A, int64_t lda, bool transA,
              const GemmB<Real> &B, Real *C, int64_t ldc, TileFn<Real> tile)
{
    thread_local std::vector<Real> panel, ablock;
    panel.resize(size_t(kKc * ((kNc + kTileCols - 1) / kTileCols) * kTileCols));
    if (transA)
        ablock.resize(size_t(kMc * kKc));
    for (int64_t jc = 0; jc < N; jc += kNc) {
        const int64_t nc = std::min(kNc, N - jc);
        const int64_t groups = (nc + kTileCols - 1) / kTileCols;
        for (int64_t k0 = 0; k0 < K; k0 += kKc) {
            const int64_t kc = std::min(kKc, K - k0);
            packB(B, k0, kc, jc, nc, panel.data());
            for (int64_t ic = m0; ic < m1; ic += kMc) {
                const int64_t ie = std::min(m1, ic + kMc);
                const Real *a = A + ic * lda + k0;
                int64_t la = lda;
                if (transA) {
                    packTransposed(A + k0 * lda + ic, lda, kc, ie - ic, ablock.data());
                    a = ablock.data();
                    la = kc;
                }
                for (int64_t g = 0; g < groups; ++g) {
                    const Real *p = panel.data() + g * kc * kTileCols;
                    const int cols = int(std::min<int64_t>(kTileCols, nc - g * kTileCols));
                    for (int64_t ir = ic; ir < ie; ir += kTileRows)
                        tile(a + (ir - ic) * la, la, int(std::min<int64_t>(kTileRows, ie - ir)), p, kc,
                             C + ir * ldc + jc + g * kTileCols, ldc, cols);
                }
            }
        }
    }
}

template <class Real>
void gemmAny(ThreadPool *pool, int64_t M, int64_t N, int64_t K, const Real *A, int64_t lda, bool transA,
             const GemmB<Real> &B, Real *C, int64_t ldc)
{
    if (M <= 0 || N <= 0 || K <= 0)
        return;
    const TileFn<Real> tile = pickTile<Real>();
    if (M * N * K <= kSerialWork)
        pool = nullptr;
    parallelRanges(pool, M, kTileRows,
                   [&](int64_t m0, int64_t m1) { gemmRows(m0, m1, N, K, A, lda, transA, B, C, ldc, tile); });
}

} // namespace

template <class Real>
void gemm(ThreadPool *pool, int64_t M, int64_t N, int64_t K, const Real *A, int64_t lda, const GemmB<Real> &B, Real *C,
          int64_t ldc)
{
    gemmAny(pool, M, N, K, A, lda, false, B, C, ldc);
}

template <class Real>
void gemmAT(ThreadPool *pool, int64_t M, int64_t N, int64_t K, const Real *A, int64_t lda, const GemmB<Real> &B,
            Real *C, int64_t ldc)
{
    gemmAny(pool, M, N, K, A, lda, true, B, C, ldc);
}

int64_t gemmScratchBytes(int threads, int realBytes)
{
    return int64_t(threads) * (kKc * kNc + kMc * kKc) * realBytes;
}

template void gemm<float>(ThreadPool *, int64_t, int64_t, int64_t, const float *, int64_t, const GemmB<float> &, float *,
                          int64_t);
template void gemm<double>(ThreadPool *, int64_t, int64_t, int64_t, const double *, int64_t, const GemmB<double> &,
                           double *, int64_t);
template void gemmAT<float>(ThreadPool *, int64_t, int64_t, int64_t, const float *, int64_t, const GemmB<float> &,
                            float *, int64_t);
template void gemmAT<double>(ThreadPool *, int64_t, int64_t, int64_t, const double *, int64_t, const GemmB<double> &,
                             double *, int64_t);

} // namespace lathe::train
