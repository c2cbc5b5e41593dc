// ExpRow: y[i] = e^(x[i] − shift) over a row, the inner loop of every softmax in the
// training path (attention spends most of its non-matmul time here). The AVX2 kernel
// (ExpRow_avx2.cpp) evaluates Cephes' expf scheme eight lanes at a time: x = n·ln2 + r,
// |r| <= ln2/2, e^r = 1 + r + r²·P(r) with a degree-5 P, times 2^n from the exponent
// bits; relative error <= 2 ulp. Arguments are clamped to [-87, 88] first (e^-1000 gives
// 1.6e-38, not 0: callers that need exact zeros write them). Without AVX2, std::exp.
#pragma once

#include <cstdint>

namespace lathe::train {

// y[0 .. n) = e^(x − shift); y may equal x. Uses the AVX2 kernel when CpuFeatures allows.
void expRow(const float *x, float *y, int64_t n, float shift);
void expRow(const double *x, double *y, int64_t n, double shift);

namespace detail {
using ExpRowF32Fn = void (*)(const float *x, float *y, int64_t n, float shift);
ExpRowF32Fn avx2ExpRowF32(); // call only when activeIsa() >= Avx2
} // namespace detail

} // namespace lathe::train
