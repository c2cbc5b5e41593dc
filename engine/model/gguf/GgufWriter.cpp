// GgufWriter: encoding (little-endian, GGUF v3) and the atomic write.
#include "model/gguf/GgufWriter.h"

#include "core/Error.h"
#include "model/gguf/GgufFile.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <filesystem>
#include <unistd.h>

namespace lathe {

namespace {

void putBytes(std::vector<uint8_t> &out, const void *p, size_t n)
{
    // resize + memcpy rather than insert: GCC 12 warns falsely on small inserts.
    const size_t at = out.size();
    out.resize(at + n);
    if (n)
        std::memcpy(out.data() + at, p, n);
}

template <typename T>
void put(std::vector<uint8_t> &out, T v)
{
    putBytes(out, &v, sizeof v);
}

void putString(std::vector<uint8_t> &out, const std::string &s)
{
    put<uint64_t>(out, s.size());
    putBytes(out, s.data(), s.size());
}

template <typename T>
std::vector<uint8_t> scalar(T v)
{
    std::vector<uint8_t> out;
    put(out, v);
    return out;
}

template <typename T>
std::vector<uint8_t> numberArray(GgufType elem, const std::vector<T> &values)
{
    std::vector<uint8_t> out;
    put<uint32_t>(out, uint32_t(elem));
    put<uint64_t>(out, values.size());
    putBytes(out, values.data(), values.size() * sizeof(T));
    return out;
}

size_t alignUp(size_t n) { return (n + GgufWriter::kAlignment - 1) / GgufWriter::kAlignment * GgufWriter::kAlignment; }

// Closes the descriptor and removes the temporary file unless released.
struct TempFile
{
    int fd = -1;
    std::string path;
    bool keep = false;
    ~TempFile()
    {
        if (fd >= 0)
            ::close(fd);
        if (!keep && !path.empty())
            ::unlink(path.c_str());
    }
};

void writeAll(int fd, const uint8_t *p, size_t n, const std::string &path)
{
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            fail("cannot write " + path + ": " + std::strerror(errno));
        p += w;
        n -= size_t(w);
    }
}

} // namespace

void GgufWriter::set(const std::string &key, uint32_t type, std::vector<uint8_t> payload)
{
    if (key.empty())
        fail("GGUF metadata key is empty");
    for (Entry &e : m_entries) {
        if (e.key == key) {
            e.type = type;
            e.payload = std::move(payload);
            return;
        }
    }
    m_entries.push_back({key, type, std::move(payload)});
}

void GgufWriter::setString(const std::string &key, const std::string &value)
{
    std::vector<uint8_t> p;
    putString(p, value);
    set(key, uint32_t(GgufType::String), std::move(p));
}

void GgufWriter::setU32(const std::string &key, uint32_t value) { set(key, uint32_t(GgufType::U32), scalar(value)); }
void GgufWriter::setI32(const std::string &key, int32_t value) { set(key, uint32_t(GgufType::I32), scalar(value)); }
void GgufWriter::setU64(const std::string &key, uint64_t value) { set(key, uint32_t(GgufType::U64), scalar(value)); }
void GgufWriter::setF32(const std::string &key, float value) { set(key, uint32_t(GgufType::F32), scalar(value)); }
void GgufWriter::setBool(const std::string &key, bool value)
{
    set(key, uint32_t(GgufType::Bool), scalar(uint8_t(value ? 1 : 0)));
}

void GgufWriter::setStringArray(const std::string &key, const std::vector<std::string> &values)
{
    std::vector<uint8_t> p;
    put<uint32_t>(p, uint32_t(GgufType::String));
    put<uint64_t>(p, values.size());
    for (const std::string &s : values)
        putString(p, s);
    set(key, uint32_t(GgufType::Array), std::move(p));
}

void GgufWriter::setF32Array(const std::string &key, const std::vector<float> &values)
{
    set(key, uint32_t(GgufType::Array), numberArray(GgufType::F32, values));
}

void GgufWriter::setI32Array(const std::string &key, const std::vector<int32_t> &values)
{
    set(key, uint32_t(GgufType::Array), numberArray(GgufType::I32, values));
}

void GgufWriter::addTensor(const std::string &name, DType dtype, const std::vector<int64_t> &shape,
                           const void *data, size_t bytes)
{
    withContext("GGUF tensor " + name, [&] {
        if (name.empty())
            fail("empty name");
        for (const Tensor &t : m_tensors)
            if (t.name == name)
                fail("added twice");
        if (shape.empty() || shape.size() > 4)
            fail(std::to_string(shape.size()) + " dimensions (GGUF holds 1 to 4)");
        dtypeToGgml(dtype); // throws for types GGUF cannot hold
        int64_t rows = 1;
        for (size_t d = 0; d + 1 < shape.size(); ++d) {
            if (shape[d] < 0 || __builtin_mul_overflow(rows, shape[d], &rows))
                fail("shape " + shapeString(shape) + " is invalid");
        }
        const size_t expected = rowBytes(dtype, shape.back()) * size_t(rows);
        if (bytes != expected)
            fail(std::to_string(bytes) + " bytes given, shape " + shapeString(shape) + " of " + dtypeName(dtype) +
                 " needs " + std::to_string(expected));
        const auto *b = static_cast<const uint8_t *>(data);
        m_tensors.push_back({name, dtype, shape, std::vector<uint8_t>(b, b + bytes)});
    });
}

std::vector<uint8_t> GgufWriter::header() const
{
    std::vector<uint8_t> out;
    putBytes(out, "GGUF", 4);
    put<uint32_t>(out, 3);
    put<uint64_t>(out, m_tensors.size());
    put<uint64_t>(out, m_entries.size());
    for (const Entry &e : m_entries) {
        putString(out, e.key);
        put<uint32_t>(out, e.type);
        putBytes(out, e.payload.data(), e.payload.size());
    }
    uint64_t offset = 0;
    for (const Tensor &t : m_tensors) {
        putString(out, t.name);
        put<uint32_t>(out, uint32_t(t.shape.size()));
        for (size_t d = t.shape.size(); d-- > 0;) // ggml ne order: innermost first
            put<uint64_t>(out, uint64_t(t.shape[d]));
        put<uint32_t>(out, dtypeToGgml(t.dtype));
        put<uint64_t>(out, offset);
        offset = alignUp(offset + t.data.size());
    }
    out.resize(alignUp(out.size()), 0);
    return out;
}

void GgufWriter::write(const std::string &path) const
{
    const std::vector<uint8_t> head = header();
    TempFile tmp;
    tmp.path = path + ".tmp-XXXXXX";
    std::vector<char> name(tmp.path.begin(), tmp.path.end());
    name.push_back('\0');
    tmp.fd = ::mkstemp(name.data());
    if (tmp.fd < 0) {
        tmp.path.clear();
        fail("cannot create a temporary file beside " + path + ": " + std::strerror(errno));
    }
    tmp.path = name.data();
    writeAll(tmp.fd, head.data(), head.size(), tmp.path);
    static const uint8_t zeros[kAlignment] = {};
    for (const Tensor &t : m_tensors) {
        writeAll(tmp.fd, t.data.data(), t.data.size(), tmp.path);
        writeAll(tmp.fd, zeros, alignUp(t.data.size()) - t.data.size(), tmp.path);
    }
    // mkstemp creates 0600; a model file is readable like any other the user writes
    // (umask is not consulted: reading it means changing it, which races other threads).
    ::fchmod(tmp.fd, 0644);
    if (::fsync(tmp.fd) != 0)
        fail("cannot sync " + tmp.path + ": " + std::strerror(errno));
    if (::close(tmp.fd) != 0) {
        tmp.fd = -1;
        fail("cannot close " + tmp.path + ": " + std::strerror(errno));
    }
    tmp.fd = -1;
    if (::rename(tmp.path.c_str(), path.c_str()) != 0)
        fail("cannot rename " + tmp.path + " to " + path + ": " + std::strerror(errno));
    tmp.keep = true;
}

} // namespace lathe
