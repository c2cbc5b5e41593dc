// Device: the one interface for compute (ARCHITECTURE.md §3). A device owns memory
// (allocated with a tag and accounted per tag, against an optional limit) and runs the
// ops the forward pass needs on pointers into that memory. CpuDevice is always built;
// a CudaDevice implements the same interface behind DeviceRegistry.
// Shapes are row-major; every pointer parameter carries its shape as // [rows, cols].
// Letters: T tokens in a batch, C model dim, H query heads, Hkv key/value heads,
// D head dim, F ffn dim, V vocab, N/K matmul output/input width.
#pragma once

#include "core/DType.h"
#include "core/Tensor.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

namespace lathe {

enum class MemoryTag : uint8_t { Weights = 0, KvCache = 1, Activations = 2, Workspace = 3 };
constexpr int kMemoryTagCount = 4;
const char *memoryTagName(MemoryTag tag);

struct MemoryStats
{
    std::array<int64_t, kMemoryTagCount> used{};
    std::array<int64_t, kMemoryTagCount> peak{};
    int64_t limit = 0; // 0: no limit
    int64_t total() const
    {
        int64_t t = 0;
        for (int64_t u : used)
            t += u;
        return t;
    }
};

class Device;

// Owns one allocation on a device; returns it (and its accounting) when destroyed.
class DeviceBuffer
{
public:
    DeviceBuffer() = default;
    ~DeviceBuffer() { reset(); }
    DeviceBuffer(DeviceBuffer &&other) noexcept { *this = std::move(other); }
    DeviceBuffer &operator=(DeviceBuffer &&other) noexcept;
    DeviceBuffer(const DeviceBuffer &) = delete;
    DeviceBuffer &operator=(const DeviceBuffer &) = delete;

    void *data() const { return m_data; }
    float *f32() const { return static_cast<float *>(m_data); }
    size_t bytes() const { return m_bytes; }
    MemoryTag tag() const { return m_tag; }
    bool empty() const { return m_data == nullptr; }
    void reset();

private:
    friend class Device;
    DeviceBuffer(Device *device, void *data, size_t bytes, MemoryTag tag)
        : m_device(device), m_data(data), m_bytes(bytes), m_tag(tag) {}
    Device *m_device = nullptr;
    void *m_data = nullptr;
    size_t m_bytes = 0;
    MemoryTag m_tag = MemoryTag::Workspace;
};

// One layer's keys and values as the attention op sees them. Position p of kv head h
// lives at k + (p * kvHeads + h) * headDim (elements of dtype F32 or F16). A paged
// cache will add a page table here (page size + page ids) and the ops resolve p through
// it; callers only ever pass views, never raw cache layouts.
struct KvLayerView
{
    DType dtype = DType::F32;
    void *k = nullptr; // [capacity, Hkv * D]
    void *v = nullptr; // [capacity, Hkv * D]
    int64_t capacity = 0;
    int kvHeads = 0;
    int headDim = 0;
};

struct AttentionShape
{
    int heads = 0;   // H
    int kvHeads = 0; // Hkv, divides H
    int headDim = 0; // D
    float scale = 0; // usually 1/sqrt(D)
};

class Device
{
public:
    virtual ~Device() = default;
    virtual std::string name() const = 0;

    // ---- memory -------------------------------------------------------------
    // Throws OutOfMemoryError (naming the tag, the request and what is in use) when the
    // limit would be exceeded or the allocation fails. Memory is zero-filled.
    DeviceBuffer allocate(size_t bytes, MemoryTag tag);
    MemoryStats memoryStats() const;
    void setMemoryLimit(int64_t bytes); // 0: none

    // Makes a weight usable by the ops. CPU: the mapped view as it is (no copy);
    // a GPU device uploads it (accounted as Weights) and returns a view of device memory.
    virtual TensorView prepareWeight(const TensorView &host) = 0;
    virtual void copyToDevice(void *dst, const void *hostSrc, size_t bytes) = 0;
    virtual void copyToHost(void *hostDst, const void *src, size_t bytes) = 0;

    // ---- ops (all pointers are device memory unless stated) -----------------
    // y[T, N] = x[T, K] · w[N, K]^T (+ bias[N]); w any weight dtype (plain or quantized).
    virtual void matmul(const float *x, int64_t T, const TensorView &w, const float *bias, float *y) = 0;
    // y[rows, n] = x / sqrt(mean(x^2) + eps) * weight[n]; y may alias x.
    virtual void rmsnorm(const float *x, int64_t rows, int64_t n, const float *weight, float eps, float *y) = 0;
    // Rotates the first ropeDim dims of each head of x[T, heads * headDim] in place by
    // angle positions[t] * invFreq[i] (invFreq: host, ropeDim/2 entries, scaling folded in).
    // Pairs are (2i, 2i+1) (interleaved, GGUF llama) or (i, i + ropeDim/2) (rotateHalf: NEOX/HF).
    virtual void rope(float *x, int64_t T, int heads, int headDim, int ropeDim, bool rotateHalf,
                      const int32_t *positions, const double *invFreq) = 0;
    // Writes k, v [T, Hkv * D] into the cache at positions startPos .. startPos+T-1.
    virtual void kvStore(const KvLayerView &kv, int64_t startPos, int64_t T, const float *k, const float *v) = 0;
    // Causal attention of q[T, H * D] (query t at position startPos + t) over cache
    // positions 0 .. startPos + t, GQA head h reading kv head h / (H / Hkv). out [T, H * D].
    virtual void attention(const float *q, int64_t T, int64_t startPos, const KvLayerView &kv,
                           const AttentionShape &shape, float *out) = 0;
    // out[n] = silu(gate[n]) * up[n]; out may alias gate or up.
    virtual void swiglu(const float *gate, const float *up, int64_t n, float *out) = 0;
    // out[T, C] = rows tokens[t] of table[V, C] (any dtype), tokens on the host.
    virtual void embedding(const TensorView &table, const int32_t *tokens, int64_t T, float *out) = 0;
    // out[n] = a[n] + b[n]; out may alias a or b.
    virtual void add(const float *a, const float *b, int64_t n, float *out) = 0;
    // y[rows, n] = log_softmax(x) per row (max subtracted); y may alias x.
    virtual void logSoftmax(const float *x, int64_t rows, int64_t n, float *y) = 0;

protected:
    // Raw allocation and release for allocate(); accounting is done by Device.
    virtual void *rawAllocate(size_t bytes) = 0;
    virtual void rawFree(void *p, size_t bytes) = 0;

private:
    friend class DeviceBuffer;
    void release(void *p, size_t bytes, MemoryTag tag);
    mutable std::mutex m_memoryMutex; // sessions on several threads share one device
    MemoryStats m_stats;
};

} // namespace lathe
