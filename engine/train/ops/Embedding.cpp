// Embedding lookup and its gradient (see Embedding.h).
#include "train/ops/Embedding.h"

#include "train/model/FrozenMatrix.h"
#include "train/ops/Parallel.h"

#include <algorithm>
#include <vector>

namespace lathe::train {

template <class Real>
void embeddingForward(ThreadPool *pool, const FrozenMatrix &table, const int32_t *tokens, int64_t M, Real *out)
{
    const int64_t dim = table.cols();
    parallelRanges(pool, M, 16, [&](int64_t m0, int64_t m1) {
        std::vector<float> row(static_cast<size_t>(dim));
        for (int64_t m = m0; m < m1; ++m) {
            table.dequantize(tokens[m], 0, dim, row.data());
            std::copy(row.begin(), row.end(), out + m * dim);
        }
    });
}

template <class Real>
void embeddingForward(ThreadPool *pool, const Real *table, int64_t dim, const int32_t *tokens, int64_t M, Real *out)
{
    parallelRanges(pool, M, 64, [&](int64_t m0, int64_t m1) {
        for (int64_t m = m0; m < m1; ++m)
            std::copy(table + int64_t(tokens[m]) * dim, table + int64_t(tokens[m] + 1) * dim, out + m * dim);
    });
}

template <class Real>
void embeddingBackward(ThreadPool *pool, const int32_t *tokens, int64_t M, int64_t dim, const Real *dout, Real *dTable)
{
    parallelRanges(pool, dim, 16, [&](int64_t c0, int64_t c1) {
        for (int64_t m = 0; m < M; ++m) {
            Real *dst = dTable + int64_t(tokens[m]) * dim;
            const Real *src = dout + m * dim;
            for (int64_t c = c0; c < c1; ++c)
                dst[c] += src[c];
        }
    });
}

template void embeddingForward<float>(ThreadPool *, const FrozenMatrix &, const int32_t *, int64_t, float *);
template void embeddingForward<double>(ThreadPool *, const FrozenMatrix &, const int32_t *, int64_t, double *);
template void embeddingForward<float>(ThreadPool *, const float *, int64_t, const int32_t *, int64_t, float *);
template void embeddingForward<double>(ThreadPool *, const double *, int64_t, const int32_t *, int64_t, double *);
template void embeddingBackward<float>(ThreadPool *, const int32_t *, int64_t, int64_t, const float *, float *);
template void embeddingBackward<double>(ThreadPool *, const int32_t *, int64_t, int64_t, const double *, double *);

} // namespace lathe::train
