// The SIMD int8-activation kernels, written once and compiled three times:
// CpuMatmulQ8_avx2.cpp (LATHE_Q8_WIDE 0, LATHE_Q8_VNNI 0), CpuMatmulQ8_avx512.cpp (1, 0)
// and CpuMatmulQ8Vnni_avx512.cpp (1, 1). Include it only from those files, after
// defining both macros. Everything here has internal linkage: an inline function shared
// with other code could be emitted here with AVX-512 instructions and picked by the
// linker for everyone (see CpuMatmul_avx512.cpp), so no std templates are used either.
// The code sits in three parts included below: CpuMatmulQ8SimdBase.h (helpers, the
// activation quantiser, the weight codecs), CpuMatmulQ8SimdGemv.h, CpuMatmulQ8SimdGemm.h.
//
// The math is CpuMatmulQ8Units.h's. Two kernels per weight type:
//  * gemv (decode, small T): walks each weight row along K with 32 codes per ymm. The
//    8-bit products are summed by vpdpbusd (VNNI) or vpmaddubsw + vpmaddwd, each block's
//    int32 lanes converted once and scaled by (weight scale x activation scale). The
//    K-quants fold their 6-bit sub-block scales in as 16-bit integers (vpdpwssd or
//    vpmaddwd), so a 256-element block costs one conversion.
//  * gemm (prefill): decodes a panel of 16 (zmm) or 8 (ymm) weight rows once into
//    codes interleaved 4 bytes per row, so one vpdpbusd multiplies 4 elements of every
//    row of the panel by 4 activations broadcast from one token; scales are applied
//    per unit as vectors over the panel's rows. A tile of R tokens reuses each loaded
//    panel vector R times, and a panel serves all T tokens.
// Weight codes are unsigned (0..63) for every type but Q8_0: with VNNI, Q8_0 is biased
// by +128 into unsigned codes (intOff 128); without VNNI that would overflow vpmaddubsw's
// 16-bit pair sums, so the sign is moved onto the activations instead (abs/sign).
#pragma once

#include "backend/cpu/CpuMatmulKernels.h"
#include "core/QuantFormats.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>

#if LATHE_Q8_WIDE
// GCC 12's avx512fintrin.h builds results from _mm512_undefined_*(), which trips a false
// -Wmaybe-uninitialized inside the header once inlined here.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#if LATHE_Q8_VNNI
#pragma GCC target("avx512vnni")
#endif

#define LATHE_Q8_SIMD_PARTS 1
#include "backend/cpu/CpuMatmulQ8SimdBase.h"
#include "backend/cpu/CpuMatmulQ8SimdGemv.h"
#include "backend/cpu/CpuMatmulQ8SimdGemm.h"

namespace lathe::cpu::detail {

namespace {

Int8Kernels makeInt8Kernels()
{
    Int8Kernels k;
    k.quantize = quantizeRow;
    k.panelRows = kPanelRows;
    k.gemv[size_t(DType::Q8_0)] = gemv<dotLegacy<CQ8_0>>;
    k.gemv[size_t(DType::Q4_0)] = gemv<dotLegacy<CQ4_0>>;
    k.gemv[size_t(DType::Q4_1)] = gemv<dotLegacy<CQ4_1>>;
    k.gemv[size_t(DType::Q5_0)] = gemv<dotLegacy<CQ5_0>>;
    k.gemv[size_t(DType::Q5_1)] = gemv<dotLegacy<CQ5_1>>;
    k.gemv[size_t(DType::Q4_K)] = gemv<dotK45<false>>;
    k.gemv[size_t(DType::Q5_K)] = gemv<dotK45<true>>;
    k.gemv[size_t(DType::Q6_K)] = gemv<dotQ6K>;
    k.gemm[size_t(DType::Q8_0)] = gemm<CQ8_0>;
    k.gemm[size_t(DType::Q4_0)] = gemm<CQ4_0>;
    k.gemm[size_t(DType::Q4_1)] = gemm<CQ4_1>;
    k.gemm[size_t(DType::Q5_0)] = gemm<CQ5_0>;
    k.gemm[size_t(DType::Q5_1)] = gemm<CQ5_1>;
    k.gemm[size_t(DType::Q4_K)] = gemm<CK45<false>>;
    k.gemm[size_t(DType::Q5_K)] = gemm<CK45<true>>;
    k.gemm[size_t(DType::Q6_K)] = gemm<CQ6_K>;
    return k;
}

} // namespace

} // namespace lathe::cpu::detail
