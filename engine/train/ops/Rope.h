// Rope: rotary position embedding in place over [M, heads, headDim], the same rotation
// as engine/backend/cpu/CpuRope.cpp: pair i of each head (2i, 2i+1 interleaved, or
// i, i + ropeDim/2 rotate-half; dims past ropeDim untouched) turns by positions[m] ·
// invFreq[i] (invFreq from infer/RopeFrequencies, scaling folded in). cos/sin come
// from the angle in double, once per batch (ropeTable) for every layer, q and k, forward
// and backward. The rotation is orthogonal, so backward is the same rotation by the
// negative angle applied to the gradient.
#pragma once

#include "core/ThreadPool.h"

#include <cstdint>

namespace lathe::train {

struct RopeShape
{
    int heads = 0;
    int headDim = 0;
    int ropeDim = 0;
    bool rotateHalf = false;
};

// cs[(m*pairs + i)*2 + {0, 1}] = cos, sin of positions[m] · invFreq[i]; cs holds M·pairs·2.
template <class Real>
void ropeTable(ThreadPool *pool, const int32_t *positions, int64_t M, const double *invFreq, int pairs, Real *cs);

// x rotated by +angle (inverse = false: forward) or -angle (inverse = true: maps dy to
// dx for the forward rotation), angles from ropeTable with pairs = ropeDim / 2. In place.
template <class Real>
void ropeApply(ThreadPool *pool, Real *x, int64_t M, const RopeShape &shape, const Real *cs, bool inverse);

} // namespace lathe::train
