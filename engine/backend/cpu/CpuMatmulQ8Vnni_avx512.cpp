// AVX-512 VNNI int8-activation matmul kernels (the AVX-512 flags of *_avx512.cpp plus
// avx512vnni through a target pragma in CpuMatmulQ8Simd.h; called only when CpuFeatures
// reports Avx512Vnni): 8-bit products by vpdpbusd, K-quant scales by vpdpwssd.
#define LATHE_Q8_WIDE 1
#define LATHE_Q8_VNNI 1
#include "backend/cpu/CpuMatmulQ8Simd.h"

namespace lathe::cpu::detail {

const Int8Kernels &int8Avx512VnniKernels()
{
    static const Int8Kernels k = makeInt8Kernels();
    return k;
}

} // namespace lathe::cpu::detail
