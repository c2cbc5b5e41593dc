// Lora: the low-rank adapter beside a linear layer (LoraSpec.h):
//   xd = x ∘ mask,  u = xd·A^T [M, r],  y += s · u·B^T
// mask holds the dropout multipliers (0 or 1/(1-p)) or is null for no dropout; the
// model draws it from dropoutMask() and draws the same one again in backward.
// Backward: dB += s·dy^T·u, du = s·dy·B, dA += du^T·xd, dx += (du·A) ∘ mask.
#pragma once

#include "core/ThreadPool.h"

#include <cstdint>

namespace lathe::train {

template <class Real>
struct LoraWeight
{
    const Real *A = nullptr; // [rank, in]
    const Real *B = nullptr; // [out, rank]
    int64_t rank = 0;
    int64_t in = 0;
    int64_t out = 0;
    Real scale = 1;
};

// u[M, rank] = (x ∘ mask)·A^T (overwritten; kept for backward); y[M, out] += scale·u·B^T.
template <class Real>
void loraForward(ThreadPool *pool, const Real *x, const Real *mask, int64_t M, const LoraWeight<Real> &w, Real *u,
                 Real *y);

// Accumulates dA [rank, in], dB [out, rank] (either may be null) and dx [M, in] (may be
// null) from dy [M, out]; x, mask and u as in the forward call.
template <class Real>
void loraBackward(ThreadPool *pool, const Real *x, const Real *mask, int64_t M, const LoraWeight<Real> &w, const Real *u,
                  const Real *dy, Real *dA, Real *dB, Real *dx);

// Dropout multipliers for an [M, n] input: element i is 0 with probability p, else
// 1/(1-p), decided by a counter-based hash of (seed, stream, i), so a mask can be drawn
// again in backward (or in another thread) and comes out the same. p = 0 gives all 1.
template <class Real>
void dropoutMask(uint64_t seed, uint64_t stream, double p, int64_t M, int64_t n, Real *mask);

} // namespace lathe::train
