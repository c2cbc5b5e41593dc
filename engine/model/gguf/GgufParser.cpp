// GgufParser: the GGUF v2/v3 reader (header, metadata, tensor infos, data placement).
// Layout (ggml/docs/gguf.md): "GGUF", u32 version, u64 tensor count, u64 kv count,
// kvs (string key, u32 type, value), tensor infos (string name, u32 n_dims,
// u64 ne[n_dims], u32 ggml type, u64 offset), padding to the alignment, data.
#include "model/gguf/GgufParser.h"

#include "core/Error.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <numeric>

namespace lathe {

static_assert(std::endian::native == std::endian::little, "GGUF is read in place on little-endian hosts");

size_t ggufMinValueBytes(GgufType type)
{
    switch (type) {
    case GgufType::U8: case GgufType::I8: case GgufType::Bool: return 1;
    case GgufType::U16: case GgufType::I16: return 2;
    case GgufType::U32: case GgufType::I32: case GgufType::F32: return 4;
    case GgufType::U64: case GgufType::I64: case GgufType::F64: return 8;
    case GgufType::String: return 8;
    case GgufType::Array: return 12;
    }
    return 1;
}

bool ggufTypeValid(uint32_t type) { return type <= uint32_t(GgufType::F64); }

const char *ggufTypeName(GgufType type)
{
    static constexpr const char *names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32",
                                            "bool", "string", "array", "u64", "i64", "f64"};
    const auto i = size_t(type);
    return i < std::size(names) ? names[i] : "invalid type";
}

void GgufParser::need(size_t n, const char *what) const
{
    if (n > m_size - m_pos)
        fail(std::string("truncated: ") + what + " needs " + std::to_string(n) + " bytes at offset " +
             std::to_string(m_pos) + ", file has " + std::to_string(m_size));
}

uint8_t GgufParser::u8()
{
    need(1, "value");
    return m_data[m_pos++];
}

uint32_t GgufParser::u32()
{
    need(4, "u32");
    uint32_t v;
    std::memcpy(&v, m_data + m_pos, 4);
    m_pos += 4;
    return v;
}

uint64_t GgufParser::u64()
{
    need(8, "u64");
    uint64_t v;
    std::memcpy(&v, m_data + m_pos, 8);
    m_pos += 8;
    return v;
}

std::string GgufParser::string(const char *what)
{
    const uint64_t len = u64();
    if (len > m_size - m_pos)
        fail(std::string(what) + " length " + std::to_string(len) + " at offset " + std::to_string(m_pos - 8) +
             " runs past the end of the file (" + std::to_string(m_size - m_pos) + " bytes left)");
    std::string s(reinterpret_cast<const char *>(m_data + m_pos), size_t(len));
    m_pos += size_t(len);
    return s;
}

void GgufParser::checkCount(uint64_t count, size_t minBytes, const std::string &what) const
{
    const size_t left = m_size - m_pos;
    if (count > left / minBytes)
        fail(what + " " + std::to_string(count) + " cannot fit in the " + std::to_string(left) +
             " bytes left in the file");
}

void GgufParser::run()
{
    readHeader();
}

void GgufParser::readHeader()
{
    need(4, "magic");
    if (std::memcmp(m_data, "GGUF", 4) != 0)
        fail("not a GGUF file (bad magic)");
    m_pos = 4;
    const uint32_t version = u32();
    if (version == 1)
        fail("GGUF version 1 is not supported (only versions 2 and 3; re-convert the model with a current llama.cpp)");
    if (version != 2 && version != 3) {
        if (__builtin_bswap32(version) == 2 || __builtin_bswap32(version) == 3)
            fail("big-endian GGUF files are not supported");
        fail("unsupported GGUF version " + std::to_string(version) + " (supported: 2, 3)");
    }
    m_out.m_version = version;
    const uint64_t tensorCount = u64();
    const uint64_t kvCount = u64();
    // A kv takes at least a key length, a type and one byte; a tensor info at least a name
    // length, n_dims, one ne, a type and an offset. Checked before any reserve().
    checkCount(kvCount, 8 + 4 + 1, "metadata kv count");
    readMetadata(kvCount);
    applyAlignment();
    checkCount(tensorCount, 8 + 4 + 8 + 4 + 8, "tensor count");
    std::vector<TensorInfo> infos;
    infos.reserve(size_t(tensorCount));
    for (uint64_t i = 0; i < tensorCount; ++i)
        infos.push_back(readTensorInfo());
    placeTensors(infos);
}

void GgufParser::readMetadata(uint64_t count)
{
    for (uint64_t i = 0; i < count; ++i) {
        const size_t at = m_pos;
        std::string key = string("metadata key");
        withContext("key " + key.substr(0, 256), [&] {
            if (key.empty())
                fail("empty key at offset " + std::to_string(at));
            if (m_out.m_metadata.count(key))
                fail("duplicate key");
            const uint32_t type = u32();
            if (!ggufTypeValid(type))
                fail("invalid value type " + std::to_string(type));
            GgufValue v;
            readValue(v, GgufType(type), 0);
            m_out.m_metadata.emplace(std::move(key), std::move(v));
        });
    }
}

void GgufParser::readValue(GgufValue &v, GgufType type, int depth)
{
    v.type = type;
    auto read = [&](auto tag) {
        using T = decltype(tag);
        need(sizeof(T), ggufTypeName(type));
        T x;
        std::memcpy(&x, m_data + m_pos, sizeof(T));
        m_pos += sizeof(T);
        return x;
    };
    switch (type) {
    case GgufType::U8: v.u = read(uint8_t{}); v.i = int64_t(v.u); break;
    case GgufType::U16: v.u = read(uint16_t{}); v.i = int64_t(v.u); break;
    case GgufType::U32: v.u = read(uint32_t{}); v.i = int64_t(v.u); break;
    case GgufType::U64: v.u = read(uint64_t{}); v.i = int64_t(v.u); break;
    case GgufType::I8: v.i = read(int8_t{}); v.u = uint64_t(v.i); break;
    case GgufType::I16: v.i = read(int16_t{}); v.u = uint64_t(v.i); break;
    case GgufType::I32: v.i = read(int32_t{}); v.u = uint64_t(v.i); break;
    case GgufType::I64: v.i = read(int64_t{}); v.u = uint64_t(v.i); break;
    case GgufType::F32: v.f = read(float{}); break;
    case GgufType::F64: v.f = read(double{}); break;
    case GgufType::Bool: v.b = u8() != 0; v.i = v.b; v.u = v.b; break;
    case GgufType::String: v.s = string("string value"); break;
    case GgufType::Array: readArray(v, depth); break;
    }
}

void GgufParser::readArray(GgufValue &v, int depth)
{
    if (depth >= kMaxArrayNesting)
        fail("arrays nested deeper than " + std::to_string(kMaxArrayNesting) + " levels");
    const uint32_t elem = u32();
    if (!ggufTypeValid(elem))
        fail("invalid array element type " + std::to_string(elem));
    v.elementType = GgufType(elem);
    const uint64_t n = u64();
    checkCount(n, ggufMinValueBytes(v.elementType), "array length");
    if (n > kMaxArrayLength)
        fail("array length " + std::to_string(n) + " exceeds the limit of " + std::to_string(kMaxArrayLength));
    v.arrayLength = n;
    GgufValue e;
    switch (v.elementType) {
    case GgufType::String:
        v.strings.reserve(size_t(n));
        for (uint64_t k = 0; k < n; ++k)
            v.strings.push_back(string("array string"));
        break;
    case GgufType::Array: // parsed for validation, contents not kept (no reader needs them)
        for (uint64_t k = 0; k < n; ++k) {
            e = GgufValue{};
            readArray(e, depth + 1);
        }
        break;
    case GgufType::F32:
    case GgufType::F64:
        v.numbers.reserve(size_t(n));
        for (uint64_t k = 0; k < n; ++k) {
            readValue(e, v.elementType, depth + 1);
            v.numbers.push_back(e.f);
        }
        break;
    default: // integers and bools: both views, so callers can read ids as numbers too
        v.ints.reserve(size_t(n));
        v.numbers.reserve(size_t(n));
        for (uint64_t k = 0; k < n; ++k) {
            readValue(e, v.elementType, depth + 1);
            v.ints.push_back(e.i);
            v.numbers.push_back(v.elementType == GgufType::U64 ? double(e.u) : double(e.i));
        }
        break;
    }
}

void GgufParser::applyAlignment()
{
    const GgufValue *a = m_out.find("general.alignment");
    if (!a)
        return;
    const bool isInt = a->type != GgufType::F32 && a->type != GgufType::F64 && a->type != GgufType::Bool &&
                       a->type != GgufType::String && a->type != GgufType::Array;
    if (!isInt)
        fail(std::string("key general.alignment: expected an integer, found ") + ggufTypeName(a->type));
    // Bounded so that aligning an offset inside the file cannot overflow.
    if (a->i <= 0 || a->u > (uint64_t(1) << 30) || !std::has_single_bit(a->u))
        fail("key general.alignment: " + std::to_string(a->i) + " is not a power of two in [1, 2^30]");
    m_out.m_alignment = size_t(a->u);
}

GgufParser::TensorInfo GgufParser::readTensorInfo()
{
    TensorInfo t;
    t.name = string("tensor name");
    const std::string shown = t.name.substr(0, 256);
    auto bad = [&](const std::string &msg) { fail("tensor " + shown + ": " + msg); };
    if (t.name.empty())
        bad("empty tensor name");
    if (m_out.m_index.count(t.name))
        fail("duplicate tensor name " + shown);
    const uint32_t nDims = u32();
    if (nDims == 0 || nDims > kMaxDims)
        bad("n_dims " + std::to_string(nDims) + " is outside [1, " + std::to_string(kMaxDims) + "]");
    int64_t ne[kMaxDims] = {};
    int64_t numel = 1;
    for (uint32_t d = 0; d < nDims; ++d) {
        const uint64_t n = u64();
        if (n > uint64_t(INT64_MAX))
            bad("dimension " + std::to_string(d) + " = " + std::to_string(n) + " is too large");
        ne[d] = int64_t(n);
        if (__builtin_mul_overflow(numel, ne[d], &numel))
            bad("element count overflows (dimensions too large)");
    }
    t.ggmlType = u32();
    t.offset = u64();
    const std::optional<DType> dtype = dtypeFromGgml(t.ggmlType);
    if (!dtype) {
        const std::string typeName = ggmlTypeName(t.ggmlType);
        fail("unsupported tensor type " + (typeName == "unknown" ? "id " + std::to_string(t.ggmlType) : typeName) +
             " in tensor " + shown);
    }
    const int blockSize = dtypeInfo(*dtype).blockSize;
    if (ne[0] % blockSize != 0)
        bad("row of " + std::to_string(ne[0]) + " elements is not a multiple of the " + dtypeName(*dtype) +
            " block size " + std::to_string(blockSize));
    const int64_t rows = ne[0] == 0 ? 0 : numel / ne[0];
    const uint64_t rowSize = uint64_t(ne[0] / blockSize) * uint64_t(dtypeInfo(*dtype).blockBytes);
    uint64_t bytes = 0;
    if (__builtin_mul_overflow(rowSize, uint64_t(rows), &bytes) || bytes > uint64_t(SIZE_MAX))
        bad("byte size overflows");
    if (t.offset % m_out.m_alignment != 0)
        bad("data offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
            std::to_string(m_out.m_alignment));
    t.view.name = t.name;
    t.view.dtype = *dtype;
    t.view.bytes = size_t(bytes);
    for (uint32_t d = nDims; d-- > 0;) // row-major: outermost (ggml's last ne) first
        t.view.shape.push_back(ne[d]);
    m_out.m_index.emplace(t.name, m_out.m_index.size());
    return t;
}

void GgufParser::placeTensors(std::vector<TensorInfo> &infos)
{
    // The data section starts at the first aligned offset after the tensor infos.
    const size_t align = m_out.m_alignment;
    const uint64_t dataStart = (uint64_t(m_pos) + align - 1) / align * align;
    const uint64_t dataSize = dataStart <= m_size ? m_size - dataStart : 0;
    for (TensorInfo &t : infos) {
        if (t.view.bytes == 0)
            continue;
        if (dataStart > m_size || t.offset > dataSize || t.view.bytes > dataSize - t.offset)
            fail("tensor " + t.name + ": data [" + std::to_string(t.offset) + ", +" + std::to_string(t.view.bytes) +
                 ") lies outside the data section of " + std::to_string(dataSize) + " bytes at offset " +
                 std::to_string(dataStart));
    }
    std::vector<size_t> order(infos.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return infos[a].offset < infos[b].offset; });
    const TensorInfo *prev = nullptr;
    for (size_t i : order) {
        const TensorInfo &t = infos[i];
        if (t.view.bytes == 0)
            continue;
        if (prev && prev->offset + prev->view.bytes > t.offset)
            fail("tensors " + prev->name + " and " + t.name + " overlap in the data section");
        prev = &t;
    }
    m_out.m_tensors.reserve(infos.size());
    for (TensorInfo &t : infos) {
        t.view.data = t.view.bytes ? m_data + dataStart + t.offset : nullptr;
        m_out.m_tensors.push_back(std::move(t.view));
    }
}

} // namespace lathe
