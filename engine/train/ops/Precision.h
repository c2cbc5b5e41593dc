// Precision: rounding an activation buffer to 16 bits and back, the CPU emulation of a
// GPU storing bf16/f16 activations (TrainModel.h, ComputePrecision). Round to nearest
// even as the GPU's conversions do; f16 overflows to +-inf past 65504, which the
// trainer's loss scaling detects as a non-finite gradient.
#pragma once

#include "core/Half.h"
#include "train/TrainModel.h"

#include <cstdint>

namespace lathe::train {

template <class Real>
inline void roundTo(ComputePrecision p, Real *x, int64_t n)
{
    if (p == ComputePrecision::BF16) {
        for (int64_t i = 0; i < n; ++i)
            x[i] = Real(bf16ToF32(f32ToBf16(float(x[i]))));
    } else if (p == ComputePrecision::F16) {
        for (int64_t i = 0; i < n; ++i)
            x[i] = Real(f16ToF32(f32ToF16(float(x[i]))));
    }
}

} // namespace lathe::train
