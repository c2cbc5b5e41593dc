// The seam between the matmul driver (CpuMatmul.cpp) and the per-ISA kernels.
// Two families:
//  * f32 activations (CpuMatmul_avx2.cpp, CpuMatmul_avx512.cpp): a kernel decodes a
//    tile of weight rows block by block in registers and multiplies them into a tile of
//    activation rows, one accumulator per (weight row, activation row) over all of K.
//  * int8 activations (CpuMatmulQ8*.cpp): the activations are quantised once per matmul
//    to 8-bit blocks (Q8Rows) and the quantized weight blocks are multiplied as integers.
#pragma once

#include "core/DType.h"

#include <cstddef>
#include <cstdint>

namespace lathe::cpu::detail {

// ---- f32 activations -------------------------------------------------------------

// out[r * ldo + c] = sum_k W_c[k] * x[r * ldx + k] for c < cols, r < rows, where W_c is
// the row of K elements (kernel's dtype) at w + c * rb; 1 <= cols <= maxCols and
// 1 <= rows <= maxRows. Each output is the same sequence of operations whatever cols
// and rows are and wherever it sits in the tile, so tiling never changes a result.
using DotTileFn = void (*)(const uint8_t *w, size_t rb, int cols, const float *x, int64_t ldx, int rows, int64_t K,
                           float *out, int64_t ldo);

// Decode (a single activation row): out[n] = sum_k W_n[k] * x[k] for n < rows, W_n at
// w + n * rb. Built for streaming the weights from memory (one row at a time, in order),
// so its summation order differs from the tile's.
using DotRowsFn = void (*)(const uint8_t *w, size_t rb, int64_t rows, const float *x, int64_t K, float *out);

struct MatmulKernels
{
    DotTileFn tile[16] = {};   // indexed by DType; null: fall back to the scalar path
    DotRowsFn decode[16] = {}; // indexed by DType; null where tile is null
    int maxCols = 1;           // weight rows per tile
    int maxRows = 1;           // activation rows per tile
};

// Only call the one matching activeIsa(): the code inside uses those instructions.
const MatmulKernels &avx2Kernels();
const MatmulKernels &avx512Kernels();

// ---- int8 activations ------------------------------------------------------------

// T activation rows of K values quantised in blocks of `block` (32 for the legacy
// weight types, 256 for the K-quants), with llama.cpp's conventions so that results
// track the reference engine (its golden files show single-code flips moving logits):
//  * codes q[t*K ..] = nearest-even(x * (127 / amax)), |q| <= 127 (amax of the block);
//  * one scale d[t*(K/block) + b] per block: for 32-blocks amax / 127 rounded to f16
//    (block_q8_0 stores it so) unless that is not a normal f16, then kept in f32; for
//    256-blocks 1 / (127 / amax) in f32 (block_q8_K);
//  * for 32-blocks ds[t*(K/32) + b] = d32 * sum(q) with d32 = amax / 127 unrounded,
//    rounded to f16 likewise (block_q8_1's s): the multiplier of Q4_1/Q5_1's offset;
//  * the sum of every 16 codes s16[t*(K/16) + i], and for 32-blocks the sum of the
//    block's codes s32[t*(K/32) + b].
// A NaN anywhere in a block makes its d (and ds) NaN.
struct Q8Rows
{
    const int8_t *q = nullptr;
    const float *d = nullptr;
    const float *ds = nullptr;   // null for 256-blocks
    const int32_t *s32 = nullptr; // null for 256-blocks
    const int16_t *s16 = nullptr;
    int64_t T = 0, K = 0;
    int block = 32;
};

// Quantises one row of K floats (K a multiple of block) as described above; ds and s32
// may be null when block is 256.
using QuantizeRowFn = void (*)(const float *x, int64_t K, int block, int8_t *q, float *d, float *ds, int32_t *s32,
                               int16_t *s16);

// y[t * ldy + n] for n in [n0, n1) and every activation row t of a: the int8 dot
// products of weight rows n (at w + n * rb, the kernel's dtype) with the
// quantised rows. gemv serves T = 1 and small T (one row at a time); gemm decodes
// panels of weight rows once for all T rows (prefill). Each output depends only on its
// weight row and activation row, never on n0, n1, T or the thread that computes it.
using Int8MatmulFn = void (*)(const uint8_t *w, size_t rb, int64_t n0, int64_t n1, const Q8Rows &a, float *y,
                              int64_t ldy);

struct Int8Kernels
{
    QuantizeRowFn quantize = nullptr;
    Int8MatmulFn gemv[16] = {}; // indexed by DType; null: the type has no int8 path
    Int8MatmulFn gemm[16] = {};
    int panelRows = 1; // gemm's weight-row granularity: thread splits should align to it
};

const Int8Kernels &int8ScalarKernels();
const Int8Kernels &int8Avx2Kernels();
const Int8Kernels &int8Avx512Kernels();     // AVX-512BW, no VNNI
const Int8Kernels &int8Avx512VnniKernels(); // AVX-512BW + VNNI

} // namespace lathe::cpu::detail
