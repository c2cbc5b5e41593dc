// SwiGLU forward and backward (see SwiGlu.h).
#include "train/ops/SwiGlu.h"

#include "train/ops/Parallel.h"

#include <cmath>

namespace lathe::train {

namespace {
constexpr int64_t kGrain = 1 << 14;
}

template <class Real>
void swigluForward(ThreadPool *pool, const Real *g, const Real *u, int64_t n, Real *a)
{
    parallelRanges(pool, n, kGrain, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i)
            a[i] = g[i] / (Real(1) + std::exp(-g[i])) * u[i];
    });
}

template <class Real>
void swigluBackward(ThreadPool *pool, const Real *g, const Real *u, const Real *da, int64_t n, Real *dg, Real *du)
{
    parallelRanges(pool, n, kGrain, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
            const Real sig = Real(1) / (Real(1) + std::exp(-g[i]));
            const Real silu = g[i] * sig;
            dg[i] += da[i] * u[i] * sig * (Real(1) + g[i] * (Real(1) - sig));
            du[i] += da[i] * silu;
        }
    });
}

template void swigluForward<float>(ThreadPool *, const float *, const float *, int64_t, float *);
template void swigluForward<double>(ThreadPool *, const double *, const double *, int64_t, double *);
template void swigluBackward<float>(ThreadPool *, const float *, const float *, const float *, int64_t, float *,
                                    float *);
template void swigluBackward<double>(ThreadPool *, const double *, const double *, const double *, int64_t, double *,
                                     double *);

} // namespace lathe::train
