// Linear forward and backward on top of gemm (see Linear.h).
#include "train/ops/Linear.h"

#include "core/Error.h"
#include "train/model/FrozenMatrix.h"
#include "train/ops/Gemm.h"
#include "train/ops/Parallel.h"

#include <algorithm>

namespace lathe::train {

namespace {

template <class Real>
GemmB<Real> weightT(const LinearWeight<Real> &w) // B = W^T [in, out]
{
    return w.frozen ? GemmB<Real>::frozenT(*w.frozen) : GemmB<Real>::denseT(w.dense, w.in);
}

template <class Real>
GemmB<Real> weightPlain(const LinearWeight<Real> &w) // B = W [out, in]
{
    return w.frozen ? GemmB<Real>::frozenPlain(*w.frozen) : GemmB<Real>::dense(w.dense, w.in);
}

} // namespace

template <class Real>
void linearForward(ThreadPool *pool, const Real *x, int64_t M, const LinearWeight<Real> &w, const Real *bias, Real *y)
{
    parallelRanges(pool, M, 64, [&](int64_t m0, int64_t m1) {
        for (int64_t m = m0; m < m1; ++m) {
            Real *row = y + m * w.out;
            if (bias)
                std::copy(bias, bias + w.out, row);
            else
                std::fill(row, row + w.out, Real(0));
        }
    });
    gemm(pool, M, w.out, w.in, x, w.in, weightT(w), y, w.out);
}

template <class Real>
void linearBackwardInput(ThreadPool *pool, const Real *dy, int64_t M, const LinearWeight<Real> &w, Real *dx)
{
    gemm(pool, M, w.in, w.out, dy, w.out, weightPlain(w), dx, w.in);
}

template <class Real>
void linearBackwardParams(ThreadPool *pool, const Real *dy, const Real *x, int64_t M, int64_t out, int64_t in, Real *dW,
                          Real *db)
{
    if (dW)
        gemmAT(pool, out, in, M, dy, out, GemmB<Real>::dense(x, in), dW, in);
    if (db) {
        parallelRanges(pool, out, 64, [&](int64_t n0, int64_t n1) {
            for (int64_t m = 0; m < M; ++m)
                for (int64_t n = n0; n < n1; ++n)
                    db[n] += dy[m * out + n];
        });
    }
}

template void linearForward<float>(ThreadPool *, const float *, int64_t, const LinearWeight<float> &, const float *,
                                   float *);
template void linearForward<double>(ThreadPool *, const double *, int64_t, const LinearWeight<double> &,
                                    const double *, double *);
template void linearBackwardInput<float>(ThreadPool *, const float *, int64_t, const LinearWeight<float> &, float *);
template void linearBackwardInput<double>(ThreadPool *, const double *, int64_t, const LinearWeight<double> &,
                                          double *);
template void linearBackwardParams<float>(ThreadPool *, const float *, const float *, int64_t, int64_t, int64_t,
                                          float *, float *);
template void linearBackwardParams<double>(ThreadPool *, const double *, const double *, int64_t, int64_t, int64_t,
                                           double *, double *);

} // namespace lathe::train
