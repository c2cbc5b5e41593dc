// CpuDevice: the Device on the host. Memory is aligned heap memory; weights are used
// in place from their file mappings; ops run on a ThreadPool of a configurable size.
#pragma once

#include "backend/Device.h"
#include "backend/cpu/CpuMatmul.h"
#include "core/ThreadPool.h"

namespace lathe {

class CpuDevice : public Device
{
public:
    // threads <= 0: all hardware threads. The matmul precision starts from LATHE_MATMUL
    // (int8|exact, default int8; throws Error on another value).
    explicit CpuDevice(int threads = 0);

    std::string name() const override { return "cpu"; }
    int threads() const { return m_pool.size(); }
    ThreadPool &pool() { return m_pool; }

    // Int8: quantized weights (Q8_0, Q4_*, Q5_*, Q*_K) multiply 8-bit-quantised
    // activations, as llama.cpp does; Exact: f32 activations for every weight type.
    void setMatmulPrecision(cpu::MatmulPrecision p) { m_matmulPrecision = p; }
    cpu::MatmulPrecision matmulPrecision() const { return m_matmulPrecision; }

    TensorView prepareWeight(const TensorView &host) override { return host; }
    void copyToDevice(void *dst, const void *hostSrc, size_t bytes) override;
    void copyToHost(void *hostDst, const void *src, size_t bytes) override;

    void matmul(const float *x, int64_t T, const TensorView &w, const float *bias, float *y) override;
    void rmsnorm(const float *x, int64_t rows, int64_t n, const float *weight, float eps, float *y) override;
    void rope(float *x, int64_t T, int heads, int headDim, int ropeDim, bool rotateHalf, const int32_t *positions,
              const double *invFreq) override;
    void kvStore(const KvLayerView &kv, int64_t startPos, int64_t T, const float *k, const float *v) override;
    void attention(const float *q, int64_t T, int64_t startPos, const KvLayerView &kv, const AttentionShape &shape,
                   float *out) override;
    void swiglu(const float *gate, const float *up, int64_t n, float *out) override;
    void embedding(const TensorView &table, const int32_t *tokens, int64_t T, float *out) override;
    void add(const float *a, const float *b, int64_t n, float *out) override;
    void logSoftmax(const float *x, int64_t rows, int64_t n, float *y) override;

protected:
    void *rawAllocate(size_t bytes) override;
    void rawFree(void *p, size_t bytes) override;

private:
    ThreadPool m_pool;
    cpu::MatmulPrecision m_matmulPrecision;
};

} // namespace lathe
