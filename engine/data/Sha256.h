// Sha256: the FIPS 180-4 SHA-256 digest, written here so that dataset hashes (recorded
// with every training run) need no extra dependency. Incremental: feed bytes in any
// pieces, the digest is the same. Also the small helpers the dataset code hashes with.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lathe {

class Sha256
{
public:
    Sha256();
    void update(const void *data, size_t size);
    void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
    // Integers are hashed as 8 little-endian bytes, so hashes do not depend on the host.
    void updateU64(uint64_t v);
    // Length-prefixed, so ("ab","c") and ("a","bc") hash differently.
    void updateString(std::string_view s);

    // Finishes and returns the digest; the object must not be updated afterwards.
    std::array<uint8_t, 32> digest();
    std::string hexDigest(); // 64 lowercase hex digits

    static std::string hex(std::string_view bytes);
    static std::string hashHex(std::string_view bytes);

private:
    void block(const uint8_t *p);

    std::array<uint32_t, 8> m_state;
    std::array<uint8_t, 64> m_buffer{};
    size_t m_buffered = 0;
    uint64_t m_length = 0; // bytes fed so far
    bool m_finished = false;
};

// The first 8 bytes of the SHA-256 of bytes, as an integer: a compact key for sets of
// records (duplicate detection), where 2^-64 collisions do not matter.
uint64_t hash64(std::string_view bytes);

} // namespace lathe
