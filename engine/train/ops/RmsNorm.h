// RmsNorm over rows of n values (also used per head for qwen3's q/k norm):
//   y = x · inv · w,  inv = 1 / sqrt(mean(x^2) + eps)   (sum of squares in double, as
// engine/backend/cpu/CpuNorm.cpp, so the forward equals the inference path's)
// Backward, with g = dy ∘ w:  dx += inv·g − x · inv^3 · (g·x) / n,  dw += Σ_rows dy ∘ x · inv.
#pragma once

#include "core/ThreadPool.h"

#include <cstdint>

namespace lathe::train {

// y[rows, n] = rmsnorm(x) ∘ w. y may equal x.
template <class Real>
void rmsnormForward(ThreadPool *pool, const Real *x, int64_t rows, int64_t n, const Real *w, double eps, Real *y);

// dx[rows, n] += ..., dw[n] += ... (dw may be null; dx may be null). The dw sum runs over
// fixed blocks of rows, reduced in block order: the same bits for any thread count.
template <class Real>
void rmsnormBackward(ThreadPool *pool, const Real *x, int64_t rows, int64_t n, const Real *w, double eps,
                     const Real *dy, Real *dx, Real *dw);

} // namespace lathe::train
