// SafetensorsWriter: builds a .safetensors file (F32/F16/BF16 tensors plus a string
// metadata map) in memory and writes it atomically: a temporary file beside the target,
// fsync, rename. Used for exported adapters and merged models, and by tests to build
// hostile inputs around valid ones.
#pragma once

#include "core/DType.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lathe {

class SafetensorsWriter
{
public:
    // Sets (or replaces) one "__metadata__" entry.
    void setMetadata(const std::string &key, const std::string &value);
    // dtype F32, F16 or BF16; shape row-major; data copied; bytes must match the shape.
    // Throws Error for another dtype, a negative dimension, a size mismatch, an empty or
    // reserved name, or a name added twice.
    void addTensor(const std::string &name, DType dtype, const std::vector<int64_t> &shape, const void *data,
                   size_t bytes);
    // Writes to a temporary file beside path, fsyncs and renames. Throws Error.
    void write(const std::string &path) const;

    // The whole file as bytes (what write() puts on disk).
    std::vector<uint8_t> serialize() const;

private:
    struct Entry
    {
        DType dtype;
        std::vector<int64_t> shape;
        std::vector<uint8_t> data;
    };
    std::map<std::string, std::string> m_metadata;
    std::map<std::string, Entry> m_tensors;
};

} // namespace lathe
