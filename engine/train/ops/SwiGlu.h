// SwiGlu: a = silu(g) · u = g / (1 + e^-g) · u (as CpuElementwise.cpp), elementwise.
// Backward: dg += da · u · σ(g)(1 + g(1 − σ(g))),  du += da · silu(g).
#pragma once

#include "core/ThreadPool.h"

#include <cstdint>

namespace lathe::train {

template <class Real>
void swigluForward(ThreadPool *pool, const Real *g, const Real *u, int64_t n, Real *a);

template <class Real>
void swigluBackward(ThreadPool *pool, const Real *g, const Real *u, const Real *da, int64_t n, Real *dg, Real *du);

} // namespace lathe::train
