// expRow dispatch and the portable fallback (see ExpRow.h).
#include "train/ops/ExpRow.h"

#include "backend/cpu/CpuFeatures.h"

#include <cmath>

namespace lathe::train {

void expRow(const float *x, float *y, int64_t n, float shift)
{
    if (cpu::activeIsa() >= cpu::Isa::Avx2) {
        detail::avx2ExpRowF32()(x, y, n, shift);
        return;
    }
    for (int64_t i = 0; i < n; ++i)
        y[i] = std::exp(x[i] - shift);
}

void expRow(const double *x, double *y, int64_t n, double shift)
{
    for (int64_t i = 0; i < n; ++i)
        y[i] = std::exp(x[i] - shift);
}

} // namespace lathe::train
