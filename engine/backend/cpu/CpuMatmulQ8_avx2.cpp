// AVX2 int8-activation matmul kernels (compiled with -mavx2 -mfma -mf16c; called only
// when CpuFeatures reports AVX2): 8-bit products through vpmaddubsw + vpmaddwd, gemm
// panels of 8 weight rows. The code is CpuMatmulQ8Simd.h's.
#define LATHE_Q8_WIDE 0
#define LATHE_Q8_VNNI 0
#include "backend/cpu/CpuMatmulQ8Simd.h"

namespace lathe::cpu::detail {

const Int8Kernels &int8Avx2Kernels()
{
    static const Int8Kernels k = makeInt8Kernels();
    return k;
}

} // namespace lathe::cpu::detail
