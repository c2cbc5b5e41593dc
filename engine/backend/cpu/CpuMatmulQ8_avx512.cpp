// AVX-512BW int8-activation matmul kernels without VNNI (compiled with -mavx512f/bw/vl/dq;
// called only when CpuFeatures reports AVX-512): gemm panels of 16 weight rows per zmm,
// 8-bit products through vpmaddubsw + vpmaddwd. The code is CpuMatmulQ8Simd.h's.
#define LATHE_Q8_WIDE 1
#define LATHE_Q8_VNNI 0
#include "backend/cpu/CpuMatmulQ8Simd.h"

namespace lathe::cpu::detail {

const Int8Kernels &int8Avx512Kernels()
{
    static const Int8Kernels k = makeInt8Kernels();
    return k;
}

} // namespace lathe::cpu::detail
