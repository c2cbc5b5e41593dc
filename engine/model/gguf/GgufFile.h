// GgufFile: a parsed, validated GGUF v2/v3 file (metadata and tensor infos) over a
// read-only mapping. Written for hostile input: every count, length, offset and size
// is checked against the file before use, and nothing is allocated from an
// unvalidated size. Spec: ggml/docs/gguf.md (little-endian, general.alignment default 32).
#pragma once

#include "core/MappedFile.h"
#include "core/Tensor.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lathe {

enum class GgufType : uint32_t {
    U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7,
    String = 8, Array = 9, U64 = 10, I64 = 11, F64 = 12,
};

struct GgufValue
{
    GgufType type = GgufType::U8;
    GgufType elementType = GgufType::U8; // arrays only
    // Scalars: integers in i (signed) / u (unsigned), floats in f, bools in b.
    int64_t i = 0;
    uint64_t u = 0;
    double f = 0.0;
    bool b = false;
    std::string s;
    // Arrays: strings in strings, numbers in numbers (as double) and ints (as int64).
    std::vector<std::string> strings;
    std::vector<double> numbers;
    std::vector<int64_t> ints;
    uint64_t arrayLength = 0;
};

class GgufFile
{
public:
    // Opens, maps and parses path. Throws Error "PATH: ..." on any problem.
    static std::shared_ptr<const GgufFile> open(const std::string &path);
    // Parses an existing mapping (the fuzzer and tests use in-memory files through this).
    static std::shared_ptr<const GgufFile> parse(std::shared_ptr<const MappedFile> file);
    static std::shared_ptr<const GgufFile> parseBytes(const uint8_t *data, size_t size, const std::string &name);

    uint32_t version() const { return m_version; }
    const std::string &path() const { return m_path; }
    size_t alignment() const { return m_alignment; }

    const GgufValue *find(const std::string &key) const;
    bool has(const std::string &key) const { return find(key) != nullptr; }
    std::vector<std::string> keys() const;
    // Typed getters: nullopt if absent; Error naming the key if present with the wrong type.
    std::optional<std::string> getString(const std::string &key) const;
    std::optional<int64_t> getInt(const std::string &key) const; // any integer type
    std::optional<double> getFloat(const std::string &key) const; // f32/f64 (and integers)
    std::optional<bool> getBool(const std::string &key) const;
    std::optional<std::vector<std::string>> getStringArray(const std::string &key) const;
    std::optional<std::vector<double>> getFloatArray(const std::string &key) const;
    std::optional<std::vector<int64_t>> getIntArray(const std::string &key) const;

    // Tensor views in file order; shapes are row-major (ggml ne reversed), data points
    // into the mapping. Valid while this GgufFile lives.
    const std::vector<TensorView> &tensors() const { return m_tensors; }
    const TensorView *tensor(const std::string &name) const;
    // The mapping (or in-memory copy) the views point into.
    std::shared_ptr<const void> owner() const { return m_owner; }

private:
    GgufFile() = default;
    std::string m_path;
    uint32_t m_version = 0;
    size_t m_alignment = 32;
    std::map<std::string, GgufValue> m_metadata;
    std::vector<TensorView> m_tensors;
    std::map<std::string, size_t> m_index; // tensor name -> position in m_tensors
    std::shared_ptr<const void> m_owner;
    friend class GgufParser;
};

} // namespace lathe
