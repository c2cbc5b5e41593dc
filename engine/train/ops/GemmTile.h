// The seam between the gemm driver (Gemm.cpp) and its register tiles. A tile computes
//   C[r, j] += sum_{k < kc} A[r*lda + k] * panel[k*kTileCols + j]   r < rows, j < cols
// with 1 <= rows <= kTileRows and 1 <= cols <= kTileCols; the panel is zero-padded to
// kTileCols columns. Each row is the same sequence of operations whatever `rows` is.
#pragma once

#include <cstdint>

namespace lathe::train::detail {

constexpr int kTileRows = 6;
constexpr int kTileCols = 16;

using TileF32Fn = void (*)(const float *A, int64_t lda, int rows, const float *panel, int64_t kc, float *C,
                           int64_t ldc, int cols);

// The AVX2/FMA tile (GemmTile_avx2.cpp); call only when activeIsa() >= Avx2.
TileF32Fn avx2TileF32();

} // namespace lathe::train::detail
