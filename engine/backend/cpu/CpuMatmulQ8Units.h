// The int8 matmul's view of a quantized weight block, in scalar form: integer codes
// plus, per "unit" of 16 or 32 elements, a float scale and offset. Every supported
// weight type reduces to
//     w[k] = scale_u * (code[k] - intOff) + floatOff_u        for k in unit u,
// so a block's dot product with 8-bit activations q (scale dx) is
//     dx * sum_u [ scale_u * (sum_k code[k] q[k] - intOff * sum_k q[k]) + floatOff_u * sum_k q[k] ]
// with the brackets' sums exact in int32. The scalar kernels (CpuMatmulQ8.cpp) compute
// exactly this; the SIMD kernels compute the same terms with their own codecs.
#pragma once

#include "core/DType.h"

#include <cstdint>

namespace lathe::cpu::detail {

struct WeightUnits
{
    int16_t code[256];     // signed only for Q8_0 (intOff 0); otherwise 0..63
    float scale[16];       // per unit
    float floatOff[16];    // per unit; zero where the type has none
    int unit = 32;         // elements per unit
    int units = 1;         // units per block
    int intOff = 0;        // subtracted from every code (8 for Q4_0, 16 for Q5_0, 32 for Q6_K)
};

// Types the int8 path covers: Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 (32-element blocks, with
// 32-element activation blocks) and Q4_K, Q5_K, Q6_K (256-element blocks, with
// 256-element activation blocks).
bool hasInt8Path(DType t);
int int8ActivationBlock(DType t); // 32 or 256

// Decodes one block of type t (hasInt8Path(t)) at src.
void unpackUnits(DType t, const uint8_t *src, WeightUnits &out);

} // namespace lathe::cpu::detail
