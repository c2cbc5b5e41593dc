// Atomic writes, durable renames, capped reads and checksums (see FileIo.h).
#include "train/checkpoint/FileIo.h"

#include "core/Error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace lathe {

namespace {

// Closes a descriptor on every path out.
struct Descriptor
{
    int fd = -1;
    ~Descriptor()
    {
        if (fd >= 0)
            ::close(fd);
    }
};

} // namespace

void writeFileAtomic(const std::string &path, const void *data, size_t size)
{
    std::string tmp = path + ".tmp-XXXXXX";
    Descriptor d;
    d.fd = ::mkstemp(tmp.data());
    if (d.fd < 0)
        fail("writing " + path + ": cannot create a temporary file: " + std::strerror(errno));
    try {
        ::fchmod(d.fd, 0644);
        const auto *p = static_cast<const uint8_t *>(data);
        size_t left = size;
        while (left > 0) {
            const ssize_t n = ::write(d.fd, p, left);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                fail("writing " + path + ": " + std::strerror(errno));
            p += n;
            left -= size_t(n);
        }
        if (::fsync(d.fd) != 0)
            fail("writing " + path + ": fsync failed: " + std::strerror(errno));
        const int fd = d.fd;
        d.fd = -1;
        if (::close(fd) != 0)
            fail("writing " + path + ": close failed: " + std::strerror(errno));
        if (::rename(tmp.c_str(), path.c_str()) != 0)
            fail("writing " + path + ": rename failed: " + std::strerror(errno));
    } catch (...) {
        ::unlink(tmp.c_str());
        throw;
    }
    syncDirectory(std::filesystem::path(path).parent_path().string());
}

void syncDirectory(const std::string &dir)
{
    Descriptor d;
    d.fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (d.fd >= 0)
        ::fsync(d.fd);
}

std::vector<uint8_t> readFileBytes(const std::string &path, size_t maxBytes)
{
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec)
        fail(path + ": cannot read: " + ec.message());
    if (size > maxBytes)
        fail(path + ": " + std::to_string(size) + " bytes is more than the " + std::to_string(maxBytes) +
             " this file may have");
    std::ifstream in(path, std::ios::binary);
    std::vector<uint8_t> bytes(static_cast<size_t>(size));
    if (!in || !in.read(reinterpret_cast<char *>(bytes.data()), std::streamsize(bytes.size())))
        fail(path + ": cannot read");
    return bytes;
}

std::string readFileText(const std::string &path, size_t maxBytes)
{
    const std::vector<uint8_t> b = readFileBytes(path, maxBytes);
    return std::string(b.begin(), b.end());
}

std::string fnv1a64Hex(const void *data, size_t size)
{
    uint64_t h = 0xcbf29ce484222325ull;
    const auto *p = static_cast<const uint8_t *>(data);
    for (size_t i = 0; i < size; ++i) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

} // namespace lathe
