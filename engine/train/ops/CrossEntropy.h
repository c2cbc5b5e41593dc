// CrossEntropy: summed negative log-likelihood of targets under softmax(logits), fused
// with its gradient. Rows whose target is kIgnoreIndex count nothing and get no
// gradient. With lse = log Σ_v e^{z_v} (max subtracted; exponentials by expRow, summed
// in a fixed order):
//   nll_m = lse_m − z_{m, t_m},   dz_{m,v} += gradWeight · (e^{z_v − lse_m} − [v = t_m]).
#pragma once

#include "core/ThreadPool.h"

#include <cstdint>

namespace lathe::train {

// logits [M, V]; targets [M] in [0, V) or kIgnoreIndex (Error otherwise, naming the
// row). dlogits [M, V] may be null (evaluation). Returns Σ nll over counted rows, the
// per-row terms summed in row order.
template <class Real>
double crossEntropy(ThreadPool *pool, const Real *logits, int64_t M, int64_t V, const int32_t *targets, double gradWeight,
                    Real *dlogits);

} // namespace lathe::train
