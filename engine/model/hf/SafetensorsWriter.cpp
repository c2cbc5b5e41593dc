// SafetensorsWriter: serialisation and the atomic write (see SafetensorsWriter.h).
// Tensors are laid out contiguously (the format's reference reader refuses gaps),
// wider dtypes first and then by name, with the header padded with spaces to a
// multiple of 8, so every tensor sits on its element size.
#include "model/hf/SafetensorsWriter.h"

#include "core/Error.h"
#include "core/Tensor.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

namespace lathe {

namespace {

const char *safetensorsDType(DType t)
{
    switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    default: return nullptr;
    }
}

// Owns a file descriptor; closes it on every path out.
class Fd
{
public:
    explicit Fd(int fd) : m_fd(fd) {}
    ~Fd() { reset(); }
    Fd(const Fd &) = delete;
    Fd &operator=(const Fd &) = delete;
    int get() const { return m_fd; }
    int reset()
    {
        const int rc = m_fd >= 0 ? ::close(m_fd) : 0;
        m_fd = -1;
        return rc;
    }

private:
    int m_fd;
};

void writeAll(int fd, const uint8_t *p, size_t n, const std::string &path)
{
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            fail("writing " + path + ": " + std::strerror(errno));
        p += w;
        n -= size_t(w);
    }
}

} // namespace

void SafetensorsWriter::setMetadata(const std::string &key, const std::string &value)
{
    m_metadata[key] = value;
}

void SafetensorsWriter::addTensor(const std::string &name, DType dtype, const std::vector<int64_t> &shape,
                                  const void *data, size_t bytes)
{
    if (name.empty() || name == "__metadata__")
        fail("safetensors: invalid tensor name '" + name + "'");
    if (!safetensorsDType(dtype))
        fail("safetensors: tensor " + name + ": dtype " + dtypeName(dtype) + " cannot be written (F32, F16, BF16)");
    if (m_tensors.count(name))
        fail("safetensors: tensor " + name + " added twice");
    uint64_t expected = uint64_t(dtypeInfo(dtype).blockBytes);
    for (int64_t d : shape) {
        if (d < 0)
            fail("safetensors: tensor " + name + ": negative dimension in shape " + shapeString(shape));
        if (d != 0 && expected > UINT64_MAX / uint64_t(d))
            fail("safetensors: tensor " + name + ": shape " + shapeString(shape) + " is too large");
        expected *= uint64_t(d);
    }
    if (expected != bytes)
        fail("safetensors: tensor " + name + ": shape " + shapeString(shape) + " of " + dtypeName(dtype) + " needs " +
             std::to_string(expected) + " bytes, got " + std::to_string(bytes));
    if (bytes > 0 && !data)
        fail("safetensors: tensor " + name + ": no data");
    Entry e{dtype, shape, {}};
    if (bytes > 0) {
        const auto *p = static_cast<const uint8_t *>(data);
        e.data.assign(p, p + bytes);
    }
    m_tensors.emplace(name, std::move(e));
}

std::vector<uint8_t> SafetensorsWriter::serialize() const
{
    std::vector<const std::pair<const std::string, Entry> *> order;
    for (const auto &kv : m_tensors)
        order.push_back(&kv);
    std::stable_sort(order.begin(), order.end(), [](const auto *a, const auto *b) {
        return dtypeInfo(a->second.dtype).blockBytes > dtypeInfo(b->second.dtype).blockBytes;
    });

    nlohmann::json header = nlohmann::json::object();
    if (!m_metadata.empty())
        header["__metadata__"] = m_metadata;
    uint64_t offset = 0;
    for (const auto *kv : order) {
        const Entry &e = kv->second;
        header[kv->first] = {{"dtype", safetensorsDType(e.dtype)},
                             {"shape", e.shape},
                             {"data_offsets", {offset, offset + e.data.size()}}};
        offset += e.data.size();
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');

    std::vector<uint8_t> out;
    out.reserve(8 + text.size() + offset);
    const uint64_t n = text.size();
    for (int i = 0; i < 8; ++i)
        out.push_back(uint8_t(n >> (8 * i)));
    out.insert(out.end(), text.begin(), text.end());
    for (const auto *kv : order)
        out.insert(out.end(), kv->second.data.begin(), kv->second.data.end());
    return out;
}

void SafetensorsWriter::write(const std::string &path) const
{
    const std::vector<uint8_t> bytes = serialize();
    std::string tmp = path + ".tmp-XXXXXX";
    Fd fd(::mkstemp(tmp.data()));
    if (fd.get() < 0)
        fail("writing " + path + ": cannot create a temporary file: " + std::strerror(errno));
    try {
        // mkstemp creates 0600; a model file is meant to be readable like any other.
        ::fchmod(fd.get(), 0644);
        writeAll(fd.get(), bytes.data(), bytes.size(), tmp);
        if (::fsync(fd.get()) != 0)
            fail("writing " + path + ": fsync failed: " + std::strerror(errno));
        if (fd.reset() != 0)
            fail("writing " + path + ": close failed: " + std::strerror(errno));
        if (::rename(tmp.c_str(), path.c_str()) != 0)
            fail("writing " + path + ": rename failed: " + std::strerror(errno));
    } catch (...) {
        ::unlink(tmp.c_str());
        throw;
    }
    // Make the rename itself durable; a failure here loses nothing already written.
    std::string dir = std::filesystem::path(path).parent_path().string();
    Fd dirFd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY));
    if (dirFd.get() >= 0)
        ::fsync(dirFd.get());
}

} // namespace lathe
