// RmsNorm forward and backward (see RmsNorm.h).
#include "train/ops/RmsNorm.h"

#include "train/ops/Parallel.h"

#include <cmath>
#include <vector>

namespace lathe::train {

namespace {

constexpr int64_t kDwBlock = 64; // rows per partial dw sum

template <class Real>
Real invRms(const Real *x, int64_t n, double eps)
{
    double ss = 0.0;
    for (int64_t i = 0; i < n; ++i)
        ss += double(x[i]) * double(x[i]);
    return Real(1.0 / std::sqrt(ss / double(n) + eps));
}

} // namespace

template <class Real>
void rmsnormForward(ThreadPool *pool, const Real *x, int64_t rows, int64_t n, const Real *w, double eps, Real *y)
{
    parallelRanges(pool, rows, std::max<int64_t>(1, 8192 / n), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            const Real *xr = x + r * n;
            Real *yr = y + r * n;
            const Real inv = invRms(xr, n, eps);
            for (int64_t i = 0; i < n; ++i)
                yr[i] = xr[i] * inv * w[i];
        }
    });
}

template <class Real>
void rmsnormBackward(ThreadPool *pool, const Real *x, int64_t rows, int64_t n, const Real *w, double eps,
                     const Real *dy, Real *dx, Real *dw)
{
    const int64_t blocks = (rows + kDwBlock - 1) / kDwBlock;
    std::vector<Real> partial(dw ? size_t(blocks * n) : 0, Real(0));
    parallelRanges(pool, blocks, 1, [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
            Real *pw = dw ? partial.data() + b * n : nullptr;
            for (int64_t r = b * kDwBlock; r < std::min(rows, (b + 1) * kDwBlock); ++r) {
                const Real *xr = x + r * n;
                const Real *dyr = dy + r * n;
                const Real inv = invRms(xr, n, eps);
                if (dx) {
                    double dot = 0.0;
                    for (int64_t i = 0; i < n; ++i)
                        dot += double(dyr[i] * w[i]) * double(xr[i]);
                    const Real c = Real(dot * double(inv) * double(inv) * double(inv) / double(n));
                    Real *dxr = dx + r * n;
                    for (int64_t i = 0; i < n; ++i)
                        dxr[i] += inv * (dyr[i] * w[i]) - xr[i] * c;
                }
                if (pw)
                    for (int64_t i = 0; i < n; ++i)
                        pw[i] += dyr[i] * xr[i] * inv;
            }
        }
    });
    if (dw)
        for (int64_t b = 0; b < blocks; ++b)
            for (int64_t i = 0; i < n; ++i)
                dw[i] += partial[size_t(b * n + i)];
}

template void rmsnormForward<float>(ThreadPool *, const float *, int64_t, int64_t, const float *, double, float *);
template void rmsnormForward<double>(ThreadPool *, const double *, int64_t, int64_t, const double *, double, double *);
template void rmsnormBackward<float>(ThreadPool *, const float *, int64_t, int64_t, const float *, double,
                                     const float *, float *, float *);
template void rmsnormBackward<double>(ThreadPool *, const double *, int64_t, int64_t, const double *, double,
                                      const double *, double *, double *);

} // namespace lathe::train
