// GgufWriter: builds a GGUF v3 file (metadata, then tensors at 32-byte alignment) in
// memory and writes it atomically: a temporary file beside the target, fsync, rename.
// Setting a key twice replaces its value in place; tensors keep the order they were added.
#pragma once

#include "core/DType.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lathe {

class GgufWriter
{
public:
    void setString(const std::string &key, const std::string &value);
    void setU32(const std::string &key, uint32_t value);
    void setI32(const std::string &key, int32_t value);
    void setU64(const std::string &key, uint64_t value);
    void setF32(const std::string &key, float value);
    void setBool(const std::string &key, bool value);
    void setStringArray(const std::string &key, const std::vector<std::string> &values);
    void setF32Array(const std::string &key, const std::vector<float> &values);
    void setI32Array(const std::string &key, const std::vector<int32_t> &values);
    // shape row-major (outermost first); bytes must equal rowBytes(dtype, shape.back()) * rows.
    // Data is copied. Throws Error for a duplicate name, 0 or more than 4 dims, a size
    // mismatch or a dtype GGUF cannot hold.
    void addTensor(const std::string &name, DType dtype, const std::vector<int64_t> &shape, const void *data,
                   size_t bytes);
    // Writes GGUF v3 (alignment 32) to a temporary file beside path, fsyncs, renames over path. Throws Error.
    void write(const std::string &path) const;

    static constexpr size_t kAlignment = 32;

private:
    struct Entry
    {
        std::string key;
        uint32_t type;
        std::vector<uint8_t> payload; // the encoded value, without key and type
    };
    struct Tensor
    {
        std::string name;
        DType dtype;
        std::vector<int64_t> shape;
        std::vector<uint8_t> data;
    };
    void set(const std::string &key, uint32_t type, std::vector<uint8_t> payload);
    std::vector<uint8_t> header() const;

    std::vector<Entry> m_entries;
    std::vector<Tensor> m_tensors;
};

} // namespace lathe
