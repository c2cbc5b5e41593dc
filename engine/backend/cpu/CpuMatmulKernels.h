// The seam between the matmul driver (CpuMatmul.cpp) and the per-ISA dot kernels
// (CpuMatmul_avx2.cpp, CpuMatmul_avx512.cpp). A kernel decodes one weight row block by
// block in registers and multiplies it into `rows` activation rows at once, so the
// decode is paid once per tile rather than once per activation row.
#pragma once

#include "core/DType.h"

#include <cstdint>

namespace lathe::cpu::detail {

// out[r * ldo] = sum_k W[k] * x[r * ldx + k] for r < rows (1 <= rows <= maxRows), where
// W is one row of K elements in the kernel's dtype starting at w, computed over the
// slice [k0, k1) of K: k0 and k1 are multiples of kSliceAlign (or k1 == K). The
// partial vector accumulators live in acc (maxRows x 32 floats) between slices: read
// when k0 > 0, written when k1 < K; at k1 == K the sums go to out. Each row's result is
// the same sequence of operations whatever `rows` is and however K is sliced.
using DotRowsFn = void (*)(const uint8_t *w, const float *x, int64_t ldx, int64_t K, int64_t k0, int64_t k1,
                           float *acc, float *out, int64_t ldo, int rows);

// Every block size divides this, so K slices never split a block.
constexpr int64_t kSliceAlign = 256;

struct MatmulKernels
{
    DotRowsFn dot[16] = {}; // indexed by DType; null: fall back to the scalar path
    int maxRows = 1;
};

// Only call the one matching activeIsa(): the code inside uses those instructions.
const MatmulKernels &avx2Kernels();
const MatmulKernels &avx512Kernels();

} // namespace lathe::cpu::detail
