// ByteReader: reads a data file front to back through a fixed 1 MiB buffer, counting
// lines, so dataset readers never hold more than the record they are looking at. A UTF-8
// byte order mark at the start is skipped; a UTF-16/32 one is refused with a message.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace lathe {

class ByteReader
{
public:
    // Opens path; throws Error naming it when it cannot be opened or is UTF-16/32.
    explicit ByteReader(const std::string &path, size_t bufferSize = size_t(1) << 20);

    const std::string &path() const { return m_path; }
    int64_t fileSize() const { return m_fileSize; }
    bool hadBom() const { return m_bom; }

    // The next byte (0..255) without consuming it, or -1 at the end of the file.
    int peek()
    {
        if (m_pos == m_end && !refill())
            return -1;
        return static_cast<unsigned char>(m_buf[m_pos]);
    }
    // Consumes and returns the next byte, or -1 at the end.
    int get()
    {
        if (m_pos == m_end && !refill())
            return -1;
        const unsigned char c = static_cast<unsigned char>(m_buf[m_pos++]);
        if (c == '\n')
            ++m_line;
        return c;
    }
    // 1-based line of the next byte.
    int64_t line() const { return m_line; }
    // Bytes consumed so far (BOM included).
    int64_t offset() const { return m_consumedBefore + int64_t(m_pos); }

    // Reads up to and including the next '\n' (or the end of the file). Up to maxBytes of
    // the line, without the '\n' and a '\r' before it, are appended to out; `length` is the
    // line's full length, which may exceed maxBytes (the rest is skipped, not stored).
    // Returns false when the file was already at its end.
    bool readLine(std::string &out, size_t maxBytes, size_t &length);

private:
    bool refill();

    std::string m_path;
    std::unique_ptr<std::FILE, int (*)(std::FILE *)> m_file;
    std::vector<char> m_buf;
    size_t m_pos = 0, m_end = 0;
    int64_t m_consumedBefore = 0; // bytes in buffers before the current one
    int64_t m_line = 1;
    int64_t m_fileSize = 0;
    bool m_bom = false;
};

} // namespace lathe
