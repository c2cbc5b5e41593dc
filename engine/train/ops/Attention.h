// Attention: causal grouped-query attention over packed rows (TrainBatch): in row b,
// query t sees key s iff s <= t and segments[b, s] == segments[b, t]. Query head h reads
// kv head h / (heads / kvHeads).
//   S = scale · q·k^T (masked),  P = softmax_s(S),  out = P·v,  lse = log Σ_s e^{S}
// Backward (recomputing P from lse): dP = dout·v^T, dS = P ∘ (dP − Σ_s P∘dP),
//   dq += scale · dS·k,  dk += scale · dS^T·q,  dv += P^T·dout.
// Work runs in blocks of 64 queries through gemm: forward split over (row, head),
// backward over (row, kv head), so dk/dv are summed by one task in a fixed order.
#pragma once

#include "core/ThreadPool.h"

#include <cstdint>

namespace lathe::train {

struct AttentionDims
{
    int64_t rows = 0;   // B
    int64_t seqLen = 0; // T
    int heads = 0;
    int kvHeads = 0;
    int headDim = 0;
    double scale = 0; // usually 1 / sqrt(headDim)
};

// q [B*T, heads*D], k/v [B*T, kvHeads*D], segments [B*T]; writes out [B*T, heads*D] and
// lse [B*T, heads].
template <class Real>
void attentionForward(ThreadPool *pool, const AttentionDims &d, const Real *q, const Real *k, const Real *v,
                      const int32_t *segments, Real *out, Real *lse);

// Accumulates dq, dk, dv (shapes of q, k, v) from dout, given the forward's inputs and lse.
template <class Real>
void attentionBackward(ThreadPool *pool, const AttentionDims &d, const Real *q, const Real *k, const Real *v,
                       const int32_t *segments, const Real *lse, const Real *dout, Real *dq, Real *dk, Real *dv);

} // namespace lathe::train
