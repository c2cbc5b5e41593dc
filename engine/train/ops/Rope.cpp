// RoPE rotation (see Rope.h).
#include "train/ops/Rope.h"

#include "train/ops/Parallel.h"

#include <cmath>

namespace lathe::train {

template <class Real>
void ropeTable(ThreadPool *pool, const int32_t *positions, int64_t M, const double *invFreq, int pairs, Real *cs)
{
    parallelRanges(pool, M, 64, [&](int64_t m0, int64_t m1) {
        for (int64_t m = m0; m < m1; ++m)
            for (int i = 0; i < pairs; ++i) {
                const double angle = double(positions[m]) * invFreq[i];
                cs[(m * pairs + i) * 2] = Real(std::cos(angle));
                cs[(m * pairs + i) * 2 + 1] = Real(std::sin(angle));
            }
    });
}

template <class Real>
void ropeApply(ThreadPool *pool, Real *x, int64_t M, const RopeShape &shape, const Real *cs, bool inverse)
{
    const int pairs = shape.ropeDim / 2;
    const int64_t stride = int64_t(shape.heads) * shape.headDim;
    parallelRanges(pool, M, 64, [&](int64_t m0, int64_t m1) {
        for (int64_t m = m0; m < m1; ++m) {
            const Real *row = cs + m * pairs * 2;
            for (int h = 0; h < shape.heads; ++h) {
                Real *v = x + m * stride + int64_t(h) * shape.headDim;
                for (int i = 0; i < pairs; ++i) {
                    const int a = shape.rotateHalf ? i : 2 * i;
                    const int b = shape.rotateHalf ? i + pairs : 2 * i + 1;
                    const Real c = row[2 * i], s = inverse ? -row[2 * i + 1] : row[2 * i + 1];
                    const Real x0 = v[a], x1 = v[b];
                    v[a] = x0 * c - x1 * s;
                    v[b] = x0 * s + x1 * c;
                }
            }
        }
    });
}

template void ropeTable<float>(ThreadPool *, const int32_t *, int64_t, const double *, int, float *);
template void ropeTable<double>(ThreadPool *, const int32_t *, int64_t, const double *, int, double *);
template void ropeApply<float>(ThreadPool *, float *, int64_t, const RopeShape &, const float *, bool);
template void ropeApply<double>(ThreadPool *, double *, int64_t, const RopeShape &, const double *, bool);

} // namespace lathe::train
