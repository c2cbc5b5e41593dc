// SafetensorsFile: a parsed, validated .safetensors file over a read-only mapping.
// Format: u64 little-endian header length N, N bytes of JSON (an object mapping tensor
// names to {dtype, shape, data_offsets} plus an optional "__metadata__" string map),
// then the data section; data_offsets are [begin, end) relative to the data section.
// Written for hostile input: the header length, every shape, offset and size is
// checked before use, and tensors may neither overlap nor leave the file.
#pragma once

#include "core/MappedFile.h"
#include "core/Tensor.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace lathe {

class SafetensorsFile
{
public:
    // Largest JSON header accepted (the format's own readers use the same bound).
    static constexpr uint64_t kMaxHeaderBytes = 100ull * 1024 * 1024;

    // Opens, maps and parses path. Throws Error "PATH: ..." on any problem.
    static std::shared_ptr<const SafetensorsFile> open(const std::string &path);
    // Parses an existing mapping; the views keep pointing into it.
    static std::shared_ptr<const SafetensorsFile> parse(std::shared_ptr<const MappedFile> file);
    // Parses a copy of size bytes (the fuzzer and tests); name is used in messages.
    static std::shared_ptr<const SafetensorsFile> parseBytes(const uint8_t *data, size_t size,
                                                             const std::string &name);

    const std::string &path() const { return m_path; }
    const std::map<std::string, std::string> &metadata() const { return m_metadata; }
    // Views in data-offset order; shapes row-major exactly as in the file (F32, F16, BF16).
    const std::vector<TensorView> &tensors() const { return m_tensors; }
    const TensorView *tensor(const std::string &name) const;
    // The mapping (or owned copy) the views point into.
    std::shared_ptr<const void> owner() const { return m_owner; }

private:
    SafetensorsFile() = default;
    void parseImpl(const uint8_t *data, size_t size);

    std::string m_path;
    std::map<std::string, std::string> m_metadata;
    std::vector<TensorView> m_tensors;
    std::map<std::string, size_t> m_index; // name -> position in m_tensors
    std::shared_ptr<const void> m_owner;
};

} // namespace lathe
