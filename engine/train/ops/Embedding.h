// Embedding: out[m] = table[tokens[m]] from a frozen table (any FrozenMatrix format) or
// a dense trainable one; backward scatter-adds dout rows into the dense table's
// gradient (full fine-tuning). Token ids are validated by the caller (TrainModel).
#pragma once

#include "core/ThreadPool.h"

#include <cstdint>

namespace lathe::train {

class FrozenMatrix;

template <class Real>
void embeddingForward(ThreadPool *pool, const FrozenMatrix &table, const int32_t *tokens, int64_t M, Real *out);

template <class Real>
void embeddingForward(ThreadPool *pool, const Real *table, int64_t dim, const int32_t *tokens, int64_t M, Real *out);

// dTable[tokens[m]] += dout[m] for m in order (columns split over the pool, so each
// element still sums in token order).
template <class Real>
void embeddingBackward(ThreadPool *pool, const int32_t *tokens, int64_t M, int64_t dim, const Real *dout, Real *dTable);

} // namespace lathe::train
