// Rotary position embedding on the CPU. cos/sin are computed once per (token, pair) in
// double (angles reach 1e5 radians at long contexts, where float angles lose digits)
// and applied to every head.
#include "backend/cpu/CpuOps.h"

#include <cmath>
#include <vector>

namespace lathe::cpu {

void rope(ThreadPool &pool, float *x, int64_t T, int heads, int headDim, int ropeDim, bool rotateHalf,
          const int32_t *positions, const double *invFreq)
{
    const int pairs = ropeDim / 2;
    const int64_t stride = int64_t(heads) * headDim;
    pool.parallelFor(T, [&](int64_t t0, int64_t t1, int) {
        std::vector<float> cs(size_t(pairs) * 2);
        for (int64_t t = t0; t < t1; ++t) {
            for (int i = 0; i < pairs; ++i) {
                const double angle = double(positions[t]) * invFreq[i];
                cs[2 * i] = float(std::cos(angle));
                cs[2 * i + 1] = float(std::sin(angle));
            }
            for (int h = 0; h < heads; ++h) {
                float *v = x + t * stride + int64_t(h) * headDim;
                for (int i = 0; i < pairs; ++i) {
                    const int a = rotateHalf ? i : 2 * i;
                    const int b = rotateHalf ? i + pairs : 2 * i + 1;
                    const float c = cs[2 * i], s = cs[2 * i + 1];
                    const float x0 = v[a], x1 = v[b];
                    v[a] = x0 * c - x1 * s;
                    v[b] = x0 * s + x1 * c;
                }
            }
        }
    }, grainFor(int64_t(heads) * ropeDim * 2 + ropeDim * 20)); // + the sin/cos
}

} // namespace lathe::cpu
