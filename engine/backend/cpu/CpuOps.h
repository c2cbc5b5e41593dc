// The CPU twins of the Device ops as free functions over host pointers, so CpuDevice
// stays a thin adapter and the op tests (and a future CUDA-vs-CPU harness) can call
// them directly. Contracts are the ones stated in backend/Device.h.
#pragma once

#include "backend/Device.h"
#include "core/ThreadPool.h"

#include <cstdint>

namespace lathe::cpu {

// Items per task so that a task does at least ~kMinTaskWork multiply-adds: waking a
// worker costs microseconds, more than a small row's work (decode of small models).
constexpr int64_t kMinTaskWork = 16384;
inline int64_t grainFor(int64_t workPerItem)
{
    return workPerItem >= kMinTaskWork ? 1 : kMinTaskWork / (workPerItem > 0 ? workPerItem : 1);
}

void rmsnorm(ThreadPool &pool, const float *x, int64_t rows, int64_t n, const float *weight, float eps, float *y);

void rope(ThreadPool &pool, float *x, int64_t T, int heads, int headDim, int ropeDim, bool rotateHalf,
          const int32_t *positions, const double *invFreq);

void kvStore(const KvLayerView &kv, int64_t startPos, int64_t T, const float *k, const float *v);

void attention(ThreadPool &pool, const float *q, int64_t T, int64_t startPos, const KvLayerView &kv,
               const AttentionShape &shape, float *out);

void swiglu(ThreadPool &pool, const float *gate, const float *up, int64_t n, float *out);
void add(ThreadPool &pool, const float *a, const float *b, int64_t n, float *out);
void embedding(const TensorView &table, const int32_t *tokens, int64_t T, float *out);
void logSoftmax(ThreadPool &pool, const float *x, int64_t rows, int64_t n, float *y);

} // namespace lathe::cpu
