// GgufFile: opening (mapping or in-memory copy), parsing through GgufParser, and the
// typed metadata getters. Every error names the file first.
#include "model/gguf/GgufFile.h"

#include "core/Error.h"
#include "model/gguf/GgufParser.h"

#include <cmath>

namespace lathe {

namespace {

bool isInteger(GgufType t)
{
    switch (t) {
    case GgufType::U8: case GgufType::I8: case GgufType::U16: case GgufType::I16:
    case GgufType::U32: case GgufType::I32: case GgufType::U64: case GgufType::I64:
        return true;
    default:
        return false;
    }
}

bool isUnsigned(GgufType t)
{
    return t == GgufType::U8 || t == GgufType::U16 || t == GgufType::U32 || t == GgufType::U64;
}

std::string typeDescription(const GgufValue &v)
{
    if (v.type == GgufType::Array)
        return std::string("array of ") + ggufTypeName(v.elementType);
    return ggufTypeName(v.type);
}

} // namespace

std::shared_ptr<const GgufFile> GgufFile::open(const std::string &path)
{
    return parse(MappedFile::open(path));
}

std::shared_ptr<const GgufFile> GgufFile::parse(std::shared_ptr<const MappedFile> file)
{
    std::shared_ptr<GgufFile> g(new GgufFile());
    g->m_path = file->path();
    withContext(g->m_path, [&] { GgufParser(*g, file->data(), file->size()).run(); });
    g->m_owner = std::move(file);
    return g;
}

std::shared_ptr<const GgufFile> GgufFile::parseBytes(const uint8_t *data, size_t size, const std::string &name)
{
    // A private copy: the views must outlive the caller's buffer.
    auto copy = std::make_shared<std::vector<uint8_t>>(data, data + size);
    std::shared_ptr<GgufFile> g(new GgufFile());
    g->m_path = name;
    withContext(name, [&] { GgufParser(*g, copy->data(), copy->size()).run(); });
    g->m_owner = std::move(copy);
    return g;
}

const GgufValue *GgufFile::find(const std::string &key) const
{
    auto it = m_metadata.find(key);
    return it == m_metadata.end() ? nullptr : &it->second;
}

std::vector<std::string> GgufFile::keys() const
{
    std::vector<std::string> out;
    out.reserve(m_metadata.size());
    for (const auto &kv : m_metadata)
        out.push_back(kv.first);
    return out;
}

const TensorView *GgufFile::tensor(const std::string &name) const
{
    auto it = m_index.find(name);
    return it == m_index.end() ? nullptr : &m_tensors[it->second];
}

namespace {

[[noreturn]] void wrongType(const std::string &path, const std::string &key, const char *expected,
                            const GgufValue &v)
{
    fail(path + ": key " + key + ": expected " + expected + ", found " + typeDescription(v));
}

} // namespace

std::optional<std::string> GgufFile::getString(const std::string &key) const
{
    const GgufValue *v = find(key);
    if (!v)
        return std::nullopt;
    if (v->type != GgufType::String)
        wrongType(m_path, key, "a string", *v);
    return v->s;
}

std::optional<int64_t> GgufFile::getInt(const std::string &key) const
{
    const GgufValue *v = find(key);
    if (!v)
        return std::nullopt;
    if (!isInteger(v->type))
        wrongType(m_path, key, "an integer", *v);
    if (v->type == GgufType::U64 && v->u > uint64_t(INT64_MAX))
        fail(m_path + ": key " + key + ": value " + std::to_string(v->u) + " is out of range");
    return v->i;
}

std::optional<double> GgufFile::getFloat(const std::string &key) const
{
    const GgufValue *v = find(key);
    if (!v)
        return std::nullopt;
    if (v->type == GgufType::F32 || v->type == GgufType::F64)
        return v->f;
    if (isInteger(v->type))
        return isUnsigned(v->type) ? double(v->u) : double(v->i);
    wrongType(m_path, key, "a number", *v);
}

std::optional<bool> GgufFile::getBool(const std::string &key) const
{
    const GgufValue *v = find(key);
    if (!v)
        return std::nullopt;
    if (v->type != GgufType::Bool)
        wrongType(m_path, key, "a bool", *v);
    return v->b;
}

std::optional<std::vector<std::string>> GgufFile::getStringArray(const std::string &key) const
{
    const GgufValue *v = find(key);
    if (!v)
        return std::nullopt;
    if (v->type != GgufType::Array || v->elementType != GgufType::String)
        wrongType(m_path, key, "an array of strings", *v);
    return v->strings;
}

std::optional<std::vector<double>> GgufFile::getFloatArray(const std::string &key) const
{
    const GgufValue *v = find(key);
    if (!v)
        return std::nullopt;
    const bool ok = v->type == GgufType::Array &&
                    (v->elementType == GgufType::F32 || v->elementType == GgufType::F64 || isInteger(v->elementType));
    if (!ok)
        wrongType(m_path, key, "an array of numbers", *v);
    return v->numbers;
}

std::optional<std::vector<int64_t>> GgufFile::getIntArray(const std::string &key) const
{
    const GgufValue *v = find(key);
    if (!v)
        return std::nullopt;
    if (v->type != GgufType::Array || !(isInteger(v->elementType) || v->elementType == GgufType::Bool))
        wrongType(m_path, key, "an array of integers", *v);
    return v->ints;
}

} // namespace lathe
