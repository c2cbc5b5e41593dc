// Fused log-softmax cross-entropy (see CrossEntropy.h).
#include "train/ops/CrossEntropy.h"

#include "core/Error.h"
#include "train/TrainBatch.h"
#include "train/ops/ExpRow.h"
#include "train/ops/FastMath.h"
#include "train/ops/Parallel.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace lathe::train {

template <class Real>
double crossEntropy(ThreadPool *pool, const Real *logits, int64_t M, int64_t V, const int32_t *targets, double gradWeight,
                    Real *dlogits)
{
    for (int64_t m = 0; m < M; ++m)
        if (targets[m] != kIgnoreIndex && (targets[m] < 0 || targets[m] >= V))
            fail("cross-entropy: target " + std::to_string(targets[m]) + " of row " + std::to_string(m) +
                 " outside the vocabulary [0, " + std::to_string(V) + ")");
    std::vector<double> nll(size_t(M), 0.0);
    parallelRanges(pool, M, std::max<int64_t>(1, 16384 / V), [&](int64_t m0, int64_t m1) {
        std::vector<Real> e(static_cast<size_t>(V));
        for (int64_t m = m0; m < m1; ++m) {
            const int32_t t = targets[m];
            if (t == kIgnoreIndex)
                continue;
            const Real *z = logits + m * V;
            const Real mx = maxOf(z, V);
            expRow(z, e.data(), V, mx);
            const double sum = sumOf(e.data(), V);
            nll[size_t(m)] = std::log(sum) - double(z[t] - mx);
            if (dlogits) {
                const Real w = Real(gradWeight / sum);
                Real *d = dlogits + m * V;
                for (int64_t v = 0; v < V; ++v)
                    d[v] += w * e[size_t(v)];
                d[t] -= Real(gradWeight);
            }
        }
    });
    double total = 0.0;
    for (double x : nll)
        total += x;
    return total;
}

template double crossEntropy<float>(ThreadPool *, const float *, int64_t, int64_t, const int32_t *, double, float *);
template double crossEntropy<double>(ThreadPool *, const double *, int64_t, int64_t, const int32_t *, double, double *);

} // namespace lathe::train
