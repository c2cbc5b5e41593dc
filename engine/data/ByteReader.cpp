#include "data/ByteReader.h"

#include "core/Error.h"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>

namespace lathe {

ByteReader::ByteReader(const std::string &path, size_t bufferSize)
    : m_path(path), m_file(std::fopen(path.c_str(), "rb"), &std::fclose), m_buf(bufferSize)
{
    if (!m_file)
        fail("cannot open " + path + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fileno(m_file.get()), &st) != 0 || !S_ISREG(st.st_mode))
        fail(path + " is not a regular file");
    m_fileSize = int64_t(st.st_size);
    refill();
    const auto at = [&](size_t i) { return m_end > i ? static_cast<unsigned char>(m_buf[i]) : 0x100u; };
    if (at(0) == 0xEF && at(1) == 0xBB && at(2) == 0xBF) {
        m_pos = 3;
        m_bom = true;
    } else if ((at(0) == 0xFF && at(1) == 0xFE) || (at(0) == 0xFE && at(1) == 0xFF) ||
               (at(0) == 0 && at(1) == 0 && at(2) == 0xFE && at(3) == 0xFF)) {
        fail(path + ": the file is UTF-16 or UTF-32 (byte order mark); save it as UTF-8");
    }
}

bool ByteReader::refill()
{
    m_consumedBefore += int64_t(m_end);
    m_pos = m_end = 0;
    const size_t n = std::fread(m_buf.data(), 1, m_buf.size(), m_file.get());
    if (n == 0 && std::ferror(m_file.get()))
        fail("reading " + m_path + ": " + std::strerror(errno));
    m_end = n;
    return n > 0;
}

bool ByteReader::readLine(std::string &out, size_t maxBytes, size_t &length)
{
    length = 0;
    if (m_pos == m_end && !refill())
        return false;
    const size_t start = out.size();
    bool sawNewline = false;
    while (!sawNewline) {
        if (m_pos == m_end && !refill())
            break;
        const char *begin = m_buf.data() + m_pos;
        const char *nl = static_cast<const char *>(std::memchr(begin, '\n', m_end - m_pos));
        const size_t n = nl ? size_t(nl - begin) : m_end - m_pos;
        const size_t stored = out.size() - start;
        if (stored < maxBytes)
            out.append(begin, std::min(n, maxBytes - stored));
        length += n;
        m_pos += n;
        if (nl) {
            ++m_pos;
            ++m_line;
            sawNewline = true;
        }
    }
    // A '\r' before the '\n' belongs to the line ending, not the text.
    if (length > 0 && out.size() - start == length && out.back() == '\r') {
        out.pop_back();
        --length;
    }
    return true;
}

} // namespace lathe
