// AVX2/FMA gemm tile for f32 (compiled with -mavx2 -mfma): a 6x16 block of C lives in
// twelve ymm registers while k runs; each step loads one 16-wide panel row and
// broadcasts one A element per row. Partial tiles run the same FMAs on fewer rows and
// pass the columns through a padded buffer, so every row's arithmetic is identical.
#include "train/ops/GemmTile.h"

#include <immintrin.h>

namespace lathe::train::detail {

namespace {

template <int R>
void tile(const float *A, int64_t lda, const float *panel, int64_t kc, float *C, int64_t ldc, int cols)
{
    __m256 c0[R], c1[R];
    if (cols == kTileCols) {
        for (int r = 0; r < R; ++r) {
            c0[r] = _mm256_loadu_ps(C + r * ldc);
            c1[r] = _mm256_loadu_ps(C + r * ldc + 8);
        }
    } else {
        for (int r = 0; r < R; ++r) {
            alignas(32) float t[kTileCols] = {};
            for (int j = 0; j < cols; ++j)
                t[j] = C[r * ldc + j];
            c0[r] = _mm256_load_ps(t);
            c1[r] = _mm256_load_ps(t + 8);
        }
    }
    for (int64_t k = 0; k < kc; ++k) {
        const __m256 b0 = _mm256_loadu_ps(panel + k * kTileCols);
        const __m256 b1 = _mm256_loadu_ps(panel + k * kTileCols + 8);
        for (int r = 0; r < R; ++r) {
            const __m256 a = _mm256_broadcast_ss(A + r * lda + k);
            c0[r] = _mm256_fmadd_ps(a, b0, c0[r]);
            c1[r] = _mm256_fmadd_ps(a, b1, c1[r]);
        }
    }
    if (cols == kTileCols) {
        for (int r = 0; r < R; ++r) {
            _mm256_storeu_ps(C + r * ldc, c0[r]);
            _mm256_storeu_ps(C + r * ldc + 8, c1[r]);
        }
    } else {
        for (int r = 0; r < R; ++r) {
            alignas(32) float t[kTileCols];
            _mm256_store_ps(t, c0[r]);
            _mm256_store_ps(t + 8, c1[r]);
            for (int j = 0; j < cols; ++j)
                C[r * ldc + j] = t[j];
        }
    }
}

void tileAny(const float *A, int64_t lda, int rows, const float *panel, int64_t kc, float *C, int64_t ldc, int cols)
{
    switch (rows) {
    case 6: tile<6>(A, lda, panel, kc, C, ldc, cols); break;
    case 5: tile<5>(A, lda, panel, kc, C, ldc, cols); break;
    case 4: tile<4>(A, lda, panel, kc, C, ldc, cols); break;
    case 3: tile<3>(A, lda, panel, kc, C, ldc, cols); break;
    case 2: tile<2>(A, lda, panel, kc, C, ldc, cols); break;
    default: tile<1>(A, lda, panel, kc, C, ldc, cols); break;
    }
}

static_assert(kTileRows == 6 && kTileCols == 16, "the switch above and the register plan assume a 6x16 tile");

} // namespace

TileF32Fn avx2TileF32()
{
    return &tileAny;
}

} // namespace lathe::train::detail
