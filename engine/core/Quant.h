// Block quantization formats: scalar reference dequantization and quantization of
// whole rows, bit-compatible with ggml (GGUF) block layouts and with bitsandbytes'
// NF4 code book. These are the definitions every faster kernel is tested against.
#pragma once

#include "core/DType.h"

#include <cstdint>

namespace lathe {

// dst[n] = the values of src (one row of n elements of type t). n must be a multiple
// of the block size (Error otherwise). Supports every DType except I32.
void dequantizeRow(DType t, const void *src, float *dst, int64_t n);

// Writes one row of n values as type t into dst (rowBytes(t, n) bytes). Supported for
// F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q8_K, NF4 and the K-quants (Q4_K,
// Q5_K, Q6_K: simple per-sub-block min/max scales, not llama.cpp's search).
void quantizeRow(DType t, const float *src, void *dst, int64_t n);

} // namespace lathe
