// Linear: y = x·W^T + b over M tokens, W [out, in] either a frozen base matrix (any
// FrozenMatrix format, dequantised a panel at a time) or a dense trainable Real matrix.
// Backward: dx += dy·W; when W (and b) are trained, dW += dy^T·x and db += sum_t dy.
#pragma once

#include "core/ThreadPool.h"

#include <cstdint>

namespace lathe::train {

class FrozenMatrix;

template <class Real>
struct LinearWeight
{
    const FrozenMatrix *frozen = nullptr; // exactly one of frozen / dense is set
    const Real *dense = nullptr;          // [out, in] row-major
    int64_t out = 0;
    int64_t in = 0;
};

// y[M, out] = x[M, in]·W^T (+ bias[out] when not null). Overwrites y.
template <class Real>
void linearForward(ThreadPool *pool, const Real *x, int64_t M, const LinearWeight<Real> &w, const Real *bias, Real *y);

// dx[M, in] += dy[M, out]·W.
template <class Real>
void linearBackwardInput(ThreadPool *pool, const Real *dy, int64_t M, const LinearWeight<Real> &w, Real *dx);

// dW[out, in] += dy^T·x and db[out] += column sums of dy; either may be null. Sums over
// the M tokens run in token order for every element (deterministic).
template <class Real>
void linearBackwardParams(ThreadPool *pool, const Real *dy, const Real *x, int64_t M, int64_t out, int64_t in, Real *dW,
                          Real *db);

} // namespace lathe::train
