// KvCache: keys and values of every layer for up to `capacity` positions of one
// sequence, in device memory tagged KvCache. F32 by default; F16 halves the memory and
// reproduces llama.cpp's default cache rounding. size() is how many positions hold
// valid entries; the Transformer appends, Session rewinds.
#pragma once

#include "backend/Device.h"
#include "model/ModelConfig.h"

#include <vector>

namespace lathe {

class KvCache
{
public:
    // Throws Error for a dtype other than F32/F16 or capacity <= 0, OutOfMemoryError
    // when the device cannot hold it.
    KvCache(Device &device, const ModelConfig &config, int64_t capacity, DType dtype = DType::F32);

    int64_t capacity() const { return m_capacity; }
    int64_t size() const { return m_size; }
    DType dtype() const { return m_dtype; }
    int layers() const { return int(m_layers.size()); }
    KvLayerView layer(int index) const;

    // Drops positions >= n (n <= size()); clear() starts a new sequence.
    void truncate(int64_t n);
    void clear() { m_size = 0; }
    // Called by the Transformer after writing positions size() .. n-1.
    void setSize(int64_t n);

private:
    struct Layer
    {
        DeviceBuffer k;
        DeviceBuffer v;
    };
    std::vector<Layer> m_layers;
    int64_t m_capacity = 0;
    int64_t m_size = 0;
    DType m_dtype = DType::F32;
    int m_kvHeads = 0;
    int m_headDim = 0;
};

} // namespace lathe
