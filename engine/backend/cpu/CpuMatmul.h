// CPU matrix multiplication with weights in any supported DType, used straight from
// their blocks (never a dequantized copy of the whole matrix). SIMD paths (AVX2/FMA,
// AVX-512, AVX-512 VNNI) are chosen at run time from CPUID.
// Two precisions:
//  * Exact: activations stay f32; each weight block is decoded to f32 and multiplied in
//    f32. The scalar reference (dequantizeRow + dot in f32) defines the result within
//    rounding. Always used for F32, F16, BF16, Q8_K and NF4 weights.
//  * Int8 (the default for Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K): as llama.cpp
//    does, each activation row is quantised once per matmul to 8-bit blocks (32 values
//    and an f32 scale; 256 for the K-quants) and the weight blocks are multiplied as
//    integers. Faster, and it differs from Exact by the activation rounding: at most
//    sum_k |w_k| * amax(block of k) / 254 per output (plus f32 rounding).
#pragma once

#include "core/DType.h"
#include "core/ThreadPool.h"

#include <cstdint>
#include <optional>
#include <string_view>

namespace lathe::cpu {

enum class MatmulPrecision { Int8, Exact };

const char *matmulPrecisionName(MatmulPrecision p);                       // "int8", "exact"
std::optional<MatmulPrecision> matmulPrecisionFromName(std::string_view name); // as above

// The LATHE_MATMUL environment variable (int8|exact), Int8 when unset or empty. Throws
// Error naming the variable when it holds anything else.
MatmulPrecision matmulPrecisionFromEnvironment();

// Whether matmul(..., precision) takes the int8-activation path for weights of type t.
bool usesInt8Activations(DType t, MatmulPrecision precision);

// y[T, N] = x[T, K] · W[N, K]^T (+ bias[N] if not null).
// w: N rows of K elements of type wtype, each row rowBytes(wtype, K) bytes.
// Each output is computed by one thread in a fixed order: the thread count never
// changes a result. The kernel used for a row of x can depend on T (a single row takes
// the decode path, a batch the blocked GEMM), so the same row may round differently
// alone and within a batch; with Exact precision it does not.
void matmul(ThreadPool &pool, const float *x, int64_t T, int64_t K, const void *w, DType wtype, int64_t N,
            const float *bias, float *y, MatmulPrecision precision = MatmulPrecision::Int8);

// Which SIMD level the dispatcher picked ("avx512vnni", "avx512", "avx2", "scalar"); for
// bench output.
const char *matmulIsa();

} // namespace lathe::cpu
