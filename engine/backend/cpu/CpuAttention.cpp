// Causal GQA attention over the KV cache on the CPU, and the cache store.
// Work is split over (query head, token) pairs: each pair is independent, so the result
// never depends on the thread count, and a batched prefill gives the same numbers as
// token-by-token decode. Softmax subtracts the row max; its sum is kept in double.
#include "backend/cpu/CpuOps.h"

#include "core/Half.h"

#include <cmath>
#include <vector>

namespace lathe::cpu {

void kvStore(const KvLayerView &kv, int64_t startPos, int64_t T, const float *k, const float *v)
{
    const int64_t width = int64_t(kv.kvHeads) * kv.headDim;
    const int64_t n = T * width;
    const int64_t offset = startPos * width;
    if (kv.dtype == DType::F16) {
        auto *kd = static_cast<uint16_t *>(kv.k) + offset;
        auto *vd = static_cast<uint16_t *>(kv.v) + offset;
        for (int64_t i = 0; i < n; ++i) {
            kd[i] = f32ToF16(k[i]);
            vd[i] = f32ToF16(v[i]);
        }
    } else {
        auto *kd = static_cast<float *>(kv.k) + offset;
        auto *vd = static_cast<float *>(kv.v) + offset;
        for (int64_t i = 0; i < n; ++i) {
            kd[i] = k[i];
            vd[i] = v[i];
        }
    }
}

namespace {

// Row p of kv head h as f32: a pointer into the cache (F32) or into scratch (F16).
const float *kvRow(const KvLayerView &kv, const void *base, int64_t p, int h, float *scratch)
{
    const int64_t off = (p * kv.kvHeads + h) * int64_t(kv.headDim);
    if (kv.dtype == DType::F32)
        return static_cast<const float *>(base) + off;
    const auto *src = static_cast<const uint16_t *>(base) + off;
    for (int d = 0; d < kv.headDim; ++d)
        scratch[d] = f16ToF32(src[d]);
    return scratch;
}

} // namespace

void attention(ThreadPool &pool, const float *q, int64_t T, int64_t startPos, const KvLayerView &kv,
               const AttentionShape &shape, float *out)
{
    const int H = shape.heads;
    const int D = shape.headDim;
    const int group = H / shape.kvHeads;
    const int64_t stride = int64_t(H) * D;
    pool.parallelFor(int64_t(H) * T, [&](int64_t i0, int64_t i1, int) {
        std::vector<float> scores(size_t(startPos + T));
        std::vector<float> acc(static_cast<size_t>(D));
        std::vector<float> scratch(static_cast<size_t>(D));
        for (int64_t i = i0; i < i1; ++i) {
            const int h = int(i / T);
            const int64_t t = i % T;
            const int kvh = h / group;
            const float *qv = q + t * stride + int64_t(h) * D;
            const int64_t n = startPos + t + 1; // causal: positions 0 .. startPos + t
            float mx = -INFINITY;
            for (int64_t p = 0; p < n; ++p) {
                const float *kr = kvRow(kv, kv.k, p, kvh, scratch.data());
                float dot = 0.0f;
                for (int d = 0; d < D; ++d)
                    dot += qv[d] * kr[d];
                scores[p] = dot * shape.scale;
                mx = std::max(mx, scores[p]);
            }
            double sum = 0.0;
            for (int64_t p = 0; p < n; ++p) {
                scores[p] = std::exp(scores[p] - mx);
                sum += scores[p];
            }
            std::fill(acc.begin(), acc.end(), 0.0f);
            for (int64_t p = 0; p < n; ++p) {
                const float *vr = kvRow(kv, kv.v, p, kvh, scratch.data());
                const float w = scores[p];
                for (int d = 0; d < D; ++d)
                    acc[d] += w * vr[d];
            }
            const float inv = float(1.0 / sum);
            float *o = out + t * stride + int64_t(h) * D;
            for (int d = 0; d < D; ++d)
                o[d] = acc[d] * inv;
        }
    }, grainFor(2 * (startPos + T) * D));
}

} // namespace lathe::cpu
