// CpuDevice: a thin adapter from the Device interface to the cpu:: op functions.
#include "backend/cpu/CpuDevice.h"

#include "backend/cpu/CpuMatmul.h"
#include "backend/cpu/CpuOps.h"
#include "core/Error.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace lathe {

namespace {
constexpr size_t kAlignment = 64; // one cache line; any SIMD load width
}

CpuDevice::CpuDevice(int threads) : m_pool(threads), m_matmulPrecision(cpu::matmulPrecisionFromEnvironment()) {}

void *CpuDevice::rawAllocate(size_t bytes)
{
    const size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    void *p = std::aligned_alloc(kAlignment, rounded);
    if (p)
        std::memset(p, 0, rounded);
    return p;
}

void CpuDevice::rawFree(void *p, size_t) { std::free(p); }

void CpuDevice::copyToDevice(void *dst, const void *hostSrc, size_t bytes) { std::memcpy(dst, hostSrc, bytes); }
void CpuDevice::copyToHost(void *hostDst, const void *src, size_t bytes) { std::memcpy(hostDst, src, bytes); }

void CpuDevice::matmul(const float *x, int64_t T, const TensorView &w, const float *bias, float *y)
{
    if (w.shape.size() != 2)
        fail("matmul " + w.name + ": weight must be 2-D, got " + shapeString(w.shape));
    cpu::matmul(m_pool, x, T, w.shape[1], w.data, w.dtype, w.shape[0], bias, y, m_matmulPrecision);
}

void CpuDevice::rmsnorm(const float *x, int64_t rows, int64_t n, const float *weight, float eps, float *y)
{
    cpu::rmsnorm(m_pool, x, rows, n, weight, eps, y);
}

void CpuDevice::rope(float *x, int64_t T, int heads, int headDim, int ropeDim, bool rotateHalf,
                     const int32_t *positions, const double *invFreq)
{
    cpu::rope(m_pool, x, T, heads, headDim, ropeDim, rotateHalf, positions, invFreq);
}

void CpuDevice::kvStore(const KvLayerView &kv, int64_t startPos, int64_t T, const float *k, const float *v)
{
    if (startPos < 0 || startPos + T > kv.capacity)
        fail("kv cache: positions " + std::to_string(startPos) + ".." + std::to_string(startPos + T) +
             " outside its " + std::to_string(kv.capacity));
    cpu::kvStore(kv, startPos, T, k, v);
}

void CpuDevice::attention(const float *q, int64_t T, int64_t startPos, const KvLayerView &kv,
                          const AttentionShape &shape, float *out)
{
    if (shape.kvHeads <= 0 || shape.heads % shape.kvHeads != 0 || shape.kvHeads != kv.kvHeads ||
        shape.headDim != kv.headDim || startPos + T > kv.capacity)
        fail("attention: shape does not match the kv cache view");
    cpu::attention(m_pool, q, T, startPos, kv, shape, out);
}

void CpuDevice::swiglu(const float *gate, const float *up, int64_t n, float *out)
{
    cpu::swiglu(m_pool, gate, up, n, out);
}

void CpuDevice::embedding(const TensorView &table, const int32_t *tokens, int64_t T, float *out)
{
    cpu::embedding(table, tokens, T, out);
}

void CpuDevice::add(const float *a, const float *b, int64_t n, float *out) { cpu::add(m_pool, a, b, n, out); }

void CpuDevice::logSoftmax(const float *x, int64_t rows, int64_t n, float *y)
{
    cpu::logSoftmax(m_pool, x, rows, n, y);
}

} // namespace lathe
