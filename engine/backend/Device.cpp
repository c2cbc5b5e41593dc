// Device: tagged memory accounting shared by every device implementation.
#include "backend/Device.h"

#include "core/Error.h"

#include <cstring>

namespace lathe {

const char *memoryTagName(MemoryTag tag)
{
    switch (tag) {
    case MemoryTag::Weights: return "weights";
    case MemoryTag::KvCache: return "kv cache";
    case MemoryTag::Activations: return "activations";
    case MemoryTag::Workspace: return "workspace";
    }
    return "unknown";
}

DeviceBuffer &DeviceBuffer::operator=(DeviceBuffer &&other) noexcept
{
    if (this != &other) {
        reset();
        m_device = other.m_device;
        m_data = other.m_data;
        m_bytes = other.m_bytes;
        m_tag = other.m_tag;
        other.m_device = nullptr;
        other.m_data = nullptr;
        other.m_bytes = 0;
    }
    return *this;
}

void DeviceBuffer::reset()
{
    if (m_device && m_data)
        m_device->release(m_data, m_bytes, m_tag);
    m_device = nullptr;
    m_data = nullptr;
    m_bytes = 0;
}

DeviceBuffer Device::allocate(size_t bytes, MemoryTag tag)
{
    const int t = int(tag);
    {
        std::lock_guard lock(m_memoryMutex);
        if (m_stats.limit > 0 && (bytes > size_t(m_stats.limit) || m_stats.total() + int64_t(bytes) > m_stats.limit))
            throw OutOfMemoryError(name() + ": cannot allocate " + std::to_string(bytes) + " bytes for " +
                                   memoryTagName(tag) + ": " + std::to_string(m_stats.total()) + " of " +
                                   std::to_string(m_stats.limit) + " bytes in use");
        m_stats.used[t] += int64_t(bytes);
        if (m_stats.used[t] > m_stats.peak[t])
            m_stats.peak[t] = m_stats.used[t];
    }
    if (bytes == 0)
        return DeviceBuffer(this, nullptr, 0, tag);
    void *p = rawAllocate(bytes);
    if (!p) {
        std::lock_guard lock(m_memoryMutex);
        m_stats.used[t] -= int64_t(bytes);
        throw OutOfMemoryError(name() + ": allocation of " + std::to_string(bytes) + " bytes for " +
                               memoryTagName(tag) + " failed");
    }
    return DeviceBuffer(this, p, bytes, tag);
}

void Device::release(void *p, size_t bytes, MemoryTag tag)
{
    rawFree(p, bytes);
    std::lock_guard lock(m_memoryMutex);
    m_stats.used[int(tag)] -= int64_t(bytes);
}

MemoryStats Device::memoryStats() const
{
    std::lock_guard lock(m_memoryMutex);
    return m_stats;
}

void Device::setMemoryLimit(int64_t bytes)
{
    std::lock_guard lock(m_memoryMutex);
    m_stats.limit = bytes < 0 ? 0 : bytes;
}

} // namespace lathe
