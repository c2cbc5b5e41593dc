// RMSNorm and log-softmax on the CPU: one row per task, sums in double so the result
// does not depend on the row length's rounding (rows are at most a few thousand wide).
#include "backend/cpu/CpuOps.h"

#include <cmath>

namespace lathe::cpu {

void rmsnorm(ThreadPool &pool, const float *x, int64_t rows, int64_t n, const float *weight, float eps, float *y)
{
    pool.parallelFor(rows, [&](int64_t r0, int64_t r1, int) {
        for (int64_t r = r0; r < r1; ++r) {
            const float *xr = x + r * n;
            float *yr = y + r * n;
            double ss = 0.0;
            for (int64_t i = 0; i < n; ++i)
                ss += double(xr[i]) * double(xr[i]);
            const float inv = float(1.0 / std::sqrt(ss / double(n) + double(eps)));
            for (int64_t i = 0; i < n; ++i)
                yr[i] = xr[i] * inv * weight[i];
        }
    }, grainFor(2 * n));
}

void logSoftmax(ThreadPool &pool, const float *x, int64_t rows, int64_t n, float *y)
{
    pool.parallelFor(rows, [&](int64_t r0, int64_t r1, int) {
        for (int64_t r = r0; r < r1; ++r) {
            const float *xr = x + r * n;
            float *yr = y + r * n;
            float mx = -INFINITY;
            for (int64_t i = 0; i < n; ++i)
                mx = std::max(mx, xr[i]);
            double sum = 0.0;
            for (int64_t i = 0; i < n; ++i)
                sum += std::exp(double(xr[i]) - double(mx));
            const double lse = double(mx) + std::log(sum);
            for (int64_t i = 0; i < n; ++i)
                yr[i] = float(double(xr[i]) - lse);
        }
    }, grainFor(8 * n)); // exp and log dominate
}

} // namespace lathe::cpu
