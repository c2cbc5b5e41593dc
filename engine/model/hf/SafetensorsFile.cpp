// SafetensorsFile: header parsing and validation (see SafetensorsFile.h for the format).
#include "model/hf/SafetensorsFile.h"

#include "core/Error.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

namespace lathe {

namespace {

using Json = nlohmann::json;

// A valid header nests three levels (root -> tensor entry -> shape array); anything
// deeper is hostile, and refusing it early bounds the parser's work.
constexpr int kMaxJsonDepth = 4;

struct DTypeName
{
    const char *name;
    bool supported;
    DType type;
};

// The dtype strings of the safetensors spec; only the float types the engine computes
// with are supported, the rest are named in the error so the user knows what they have.
constexpr DTypeName kDTypes[] = {
    {"F32", true, DType::F32},       {"F16", true, DType::F16},       {"BF16", true, DType::BF16},
    {"F64", false, DType::F32},      {"I64", false, DType::F32},      {"I32", false, DType::F32},
    {"I16", false, DType::F32},      {"I8", false, DType::F32},       {"U8", false, DType::F32},
    {"U16", false, DType::F32},      {"U32", false, DType::F32},      {"U64", false, DType::F32},
    {"BOOL", false, DType::F32},     {"F8_E4M3", false, DType::F32},  {"F8_E5M2", false, DType::F32},
    {"F8_E8M0", false, DType::F32},  {"F4", false, DType::F32},       {"F6_E2M3", false, DType::F32},
    {"F6_E3M2", false, DType::F32}, {"C64", false, DType::F32},
};

DType parseDType(const Json &v, const std::string &tensor)
{
    if (!v.is_string())
        fail("tensor " + tensor + ": dtype is not a string");
    const std::string &s = v.get_ref<const std::string &>();
    for (const DTypeName &d : kDTypes) {
        if (s == d.name) {
            if (!d.supported)
                fail("unsupported dtype " + s + " in tensor " + tensor + " (supported: F32, F16, BF16)");
            return d.type;
        }
    }
    fail("unsupported dtype " + s.substr(0, 32) + " in tensor " + tensor + " (not a safetensors dtype)");
}

uint64_t parseUnsigned(const Json &v, const std::string &what)
{
    if (v.is_number_unsigned())
        return v.get<uint64_t>();
    if (v.is_number_integer())
        fail(what + " is negative (" + std::to_string(v.get<int64_t>()) + ")");
    fail(what + " is not a non-negative integer");
}

std::string jsonTypeName(const Json &v) { return v.type_name(); }

} // namespace

std::shared_ptr<const SafetensorsFile> SafetensorsFile::open(const std::string &path)
{
    return parse(MappedFile::open(path));
}

std::shared_ptr<const SafetensorsFile> SafetensorsFile::parse(std::shared_ptr<const MappedFile> file)
{
    std::shared_ptr<SafetensorsFile> st(new SafetensorsFile());
    st->m_path = file->path();
    withContext(st->m_path, [&] { st->parseImpl(file->data(), file->size()); });
    st->m_owner = std::move(file);
    return st;
}

std::shared_ptr<const SafetensorsFile> SafetensorsFile::parseBytes(const uint8_t *data, size_t size,
                                                                   const std::string &name)
{
    auto copy = std::make_shared<std::vector<uint8_t>>(data, data + size);
    std::shared_ptr<SafetensorsFile> st(new SafetensorsFile());
    st->m_path = name;
    withContext(name, [&] { st->parseImpl(copy->data(), copy->size()); });
    st->m_owner = std::move(copy);
    return st;
}

const TensorView *SafetensorsFile::tensor(const std::string &name) const
{
    auto it = m_index.find(name);
    return it == m_index.end() ? nullptr : &m_tensors[it->second];
}

void SafetensorsFile::parseImpl(const uint8_t *data, size_t size)
{
    if (size < 8)
        fail("file of " + std::to_string(size) + " bytes is too small for a safetensors header");
    uint64_t headerLen = 0;
    for (int i = 7; i >= 0; --i)
        headerLen = headerLen << 8 | data[i];
    if (headerLen > kMaxHeaderBytes)
        fail("header length " + std::to_string(headerLen) + " exceeds the limit of " +
             std::to_string(kMaxHeaderBytes) + " bytes");
    if (headerLen > size - 8)
        fail("header length " + std::to_string(headerLen) + " is beyond the end of the file (" +
             std::to_string(size) + " bytes)");
    const char *headerBegin = reinterpret_cast<const char *>(data + 8);
    if (headerLen == 0 || headerBegin[0] != '{')
        fail("header is not a JSON object");

    // Duplicate top-level keys would silently replace each other in the parsed object,
    // so they are caught while parsing; the depth bound refuses hostile nesting.
    std::set<std::string> seenKeys;
    const Json::parser_callback_t callback = [&](int depth, Json::parse_event_t event, Json &parsed) {
        if (depth > kMaxJsonDepth)
            fail("header JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
        if (event == Json::parse_event_t::key && depth == 1) {
            const std::string key = parsed.get<std::string>();
            if (!seenKeys.insert(key).second)
                fail("duplicate tensor " + key + " in header");
        }
        return true;
    };
    Json header;
    try {
        header = Json::parse(headerBegin, headerBegin + headerLen, callback);
    } catch (const Json::exception &e) {
        fail(std::string("header is not valid JSON: ") + e.what());
    }
    if (!header.is_object())
        fail("header is not a JSON object but " + jsonTypeName(header));

    const uint8_t *dataSection = data + 8 + headerLen;
    const uint64_t dataSize = size - 8 - headerLen;

    struct Span
    {
        uint64_t begin, end;
        size_t index;
    };
    std::vector<Span> spans;
    for (auto it = header.begin(); it != header.end(); ++it) {
        const std::string &name = it.key();
        const Json &entry = it.value();
        if (name == "__metadata__") {
            if (!entry.is_object())
                fail("__metadata__ is not an object");
            for (auto m = entry.begin(); m != entry.end(); ++m) {
                if (!m.value().is_string())
                    fail("__metadata__ value for key " + m.key() + " is not a string");
                m_metadata[m.key()] = m.value().get<std::string>();
            }
            continue;
        }
        if (!entry.is_object())
            fail("tensor " + name + ": entry is not an object");
        const auto dtypeIt = entry.find("dtype"), shapeIt = entry.find("shape"), offIt = entry.find("data_offsets");
        if (dtypeIt == entry.end() || shapeIt == entry.end() || offIt == entry.end())
            fail("tensor " + name + ": entry needs dtype, shape and data_offsets");
        TensorView view;
        view.name = name;
        view.dtype = parseDType(*dtypeIt, name);
        if (!shapeIt->is_array())
            fail("tensor " + name + ": shape is not an array");
        const uint64_t elemBytes = uint64_t(dtypeInfo(view.dtype).blockBytes);
        uint64_t bytes = elemBytes;
        for (const Json &d : *shapeIt) {
            const uint64_t dim = parseUnsigned(d, "tensor " + name + ": shape dimension");
            // Each dimension must fit in int64, and the byte count must not overflow.
            if (dim > uint64_t(INT64_MAX) || (dim != 0 && bytes > UINT64_MAX / dim))
                fail("tensor " + name + ": shape is too large (element count overflows)");
            bytes *= dim;
            view.shape.push_back(int64_t(dim));
        }
        if (!offIt->is_array() || offIt->size() != 2)
            fail("tensor " + name + ": data_offsets is not a [begin, end] pair");
        const uint64_t begin = parseUnsigned((*offIt)[0], "tensor " + name + ": data_offsets begin");
        const uint64_t end = parseUnsigned((*offIt)[1], "tensor " + name + ": data_offsets end");
        if (begin > end)
            fail("tensor " + name + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                 ") run backwards");
        if (end > dataSize)
            fail("tensor " + name + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                 ") are outside the data section of " + std::to_string(dataSize) + " bytes");
        if (end - begin != bytes)
            fail("tensor " + name + ": shape " + shapeString(view.shape) + " of " + dtypeName(view.dtype) +
                 " needs " + std::to_string(bytes) + " bytes, data_offsets span " + std::to_string(end - begin));
        // Views are read as typed arrays, so the data must sit on its element size.
        if ((8 + headerLen + begin) % elemBytes != 0)
            fail("tensor " + name + ": data at offset " + std::to_string(begin) + " is not aligned to " +
                 std::to_string(elemBytes) + " bytes");
        view.data = dataSection + begin;
        view.bytes = size_t(bytes);
        spans.push_back({begin, end, m_tensors.size()});
        m_tensors.push_back(std::move(view));
    }

    std::sort(spans.begin(), spans.end(), [](const Span &a, const Span &b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    for (size_t i = 1; i < spans.size(); ++i)
        if (spans[i].begin < spans[i - 1].end)
            fail("tensors " + m_tensors[spans[i - 1].index].name + " and " + m_tensors[spans[i].index].name +
                 " overlap in the data section");

    std::vector<TensorView> ordered;
    ordered.reserve(spans.size());
    for (const Span &s : spans)
        ordered.push_back(std::move(m_tensors[s.index]));
    m_tensors = std::move(ordered);
    for (size_t i = 0; i < m_tensors.size(); ++i)
        m_index[m_tensors[i].name] = i;
}

} // namespace lathe
