// CPU matrix multiplication with weights in any supported DType, used straight from
// their blocks (never a dequantized copy of the whole matrix). Activations are f32.
// SIMD paths (AVX2/FMA, AVX-512) are chosen at run time from CPUID; the scalar
// reference (dequantizeRow + dot in f32) defines the result within rounding.
#pragma once

#include "core/DType.h"
#include "core/ThreadPool.h"

#include <cstdint>

namespace lathe::cpu {

// y[T, N] = x[T, K] · W[N, K]^T (+ bias[N] if not null).
// w: N rows of K elements of type wtype, each row rowBytes(wtype, K) bytes.
// Rows of y are independent; the split across threads never changes a result.
void matmul(ThreadPool &pool, const float *x, int64_t T, int64_t K, const void *w, DType wtype, int64_t N,
            const float *bias, float *y);

// Which SIMD level the dispatcher picked ("avx512", "avx2", "scalar"); for bench output.
const char *matmulIsa();

} // namespace lathe::cpu
