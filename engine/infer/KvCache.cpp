// KvCache: per-layer K and V buffers and the bookkeeping of filled positions.
#include "infer/KvCache.h"

#include "core/Error.h"

namespace lathe {

KvCache::KvCache(Device &device, const ModelConfig &config, int64_t capacity, DType dtype)
    : m_capacity(capacity), m_dtype(dtype), m_kvHeads(config.nKvHeads), m_headDim(config.headDim)
{
    if (dtype != DType::F32 && dtype != DType::F16)
        fail(std::string("kv cache: element type ") + dtypeName(dtype) + " is not supported (f32, f16)");
    if (capacity <= 0 || capacity > (int64_t(1) << 24))
        fail("kv cache: capacity " + std::to_string(capacity) + " out of range");
    const size_t elem = dtype == DType::F16 ? 2 : 4;
    const size_t bytes = size_t(capacity) * size_t(m_kvHeads) * size_t(m_headDim) * elem;
    m_layers.reserve(size_t(config.nLayers));
    for (int l = 0; l < config.nLayers; ++l)
        m_layers.push_back({device.allocate(bytes, MemoryTag::KvCache), device.allocate(bytes, MemoryTag::KvCache)});
}

KvLayerView KvCache::layer(int index) const
{
    const Layer &l = m_layers.at(size_t(index));
    return KvLayerView{m_dtype, l.k.data(), l.v.data(), m_capacity, m_kvHeads, m_headDim};
}

void KvCache::truncate(int64_t n)
{
    if (n < 0 || n > m_size)
        fail("kv cache: cannot truncate " + std::to_string(m_size) + " positions to " + std::to_string(n));
    m_size = n;
}

void KvCache::setSize(int64_t n)
{
    if (n < 0 || n > m_capacity)
        fail("kv cache: size " + std::to_string(n) + " beyond capacity " + std::to_string(m_capacity));
    m_size = n;
}

} // namespace lathe
