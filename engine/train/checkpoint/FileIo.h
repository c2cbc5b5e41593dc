// FileIo: the small file primitives checkpoints are built from: an atomic whole-file
// write (temporary file beside the target, fsync, rename, fsync of the folder), a
// durable directory rename, whole-file reads with a size cap, and the FNV-1a 64-bit
// checksum that detects a truncated or edited checkpoint file (corruption, not malice).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lathe {

// Writes bytes to path through a temporary file and a rename. Throws Error naming path.
void writeFileAtomic(const std::string &path, const void *data, size_t size);
inline void writeFileAtomic(const std::string &path, const std::string &text)
{
    writeFileAtomic(path, text.data(), text.size());
}

// fsync of a folder, so that renames inside it survive a crash (best effort).
void syncDirectory(const std::string &dir);

// Reads a whole file; throws Error naming path when it is missing, unreadable or larger
// than maxBytes.
std::vector<uint8_t> readFileBytes(const std::string &path, size_t maxBytes);
std::string readFileText(const std::string &path, size_t maxBytes);

// FNV-1a 64 of the bytes, as 16 lowercase hex digits.
std::string fnv1a64Hex(const void *data, size_t size);
inline std::string fnv1a64Hex(const std::string &s) { return fnv1a64Hex(s.data(), s.size()); }

} // namespace lathe
