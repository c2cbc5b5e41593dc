// UTF-8 validation, repair and the GPT-2 byte-level alphabet (see Utf8Util.h).
#include "tokenizer/Utf8Util.h"

#include <array>

namespace lathe::tok {

size_t validSequenceLength(std::string_view s, size_t i)
{
    const auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = at(i);
    if (c < 0x80)
        return 1;
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF; // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;       // no overlongs
        if (c == 0xED) hi = 0x9F;       // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;       // <= U+10FFFF
    } else {
        return 0;
    }
    if (i + n > s.size())
        return 0;
    if (at(i + 1) < lo || at(i + 1) > hi)
        return 0;
    for (size_t k = 2; k < n; ++k)
        if ((at(i + k) & 0xC0) != 0x80)
            return 0;
    return n;
}

bool isValidUtf8(std::string_view s)
{
    for (size_t i = 0; i < s.size();) {
        const size_t n = validSequenceLength(s, i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

size_t maximalSubpart(std::string_view s, size_t i, size_t &want)
{
    const unsigned char c = static_cast<unsigned char>(s[i]);
    want = (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 1;
    size_t k = 1;
    while (k < want && i + k < s.size()) {
        const unsigned char d = static_cast<unsigned char>(s[i + k]);
        unsigned char lo = 0x80, hi = 0xBF;
        if (k == 1) {
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        }
        if (d < lo || d > hi)
            break;
        ++k;
    }
    return k;
}

std::string sanitizeUtf8(std::string_view s)
{
    if (isValidUtf8(s))
        return std::string(s);
    std::string out;
    out.reserve(s.size() + 8);
    for (size_t i = 0; i < s.size();) {
        const size_t n = validSequenceLength(s, i);
        if (n > 0) {
            out.append(s.substr(i, n));
            i += n;
            continue;
        }
        size_t want = 0;
        i += maximalSubpart(s, i, want);
        out.append("\xEF\xBF\xBD");
    }
    return out;
}

void appendUtf8(std::string &out, uint32_t cp)
{
    if (cp < 0x80) {
        out.push_back(char(cp));
    } else if (cp < 0x800) {
        out.push_back(char(0xC0 | (cp >> 6)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(char(0xE0 | (cp >> 12)));
        out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(char(0xF0 | (cp >> 18)));
        out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    }
}

uint32_t decodeUtf8(std::string_view s, size_t &i)
{
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = leadLength(c);
    if (n == 1 || i + n > s.size()) {
        ++i;
        return c;
    }
    uint32_t cp = c & (0x7F >> n);
    for (size_t k = 1; k < n; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += n;
    return cp;
}

namespace {
struct ByteLevelTable
{
    std::array<uint32_t, 256> toCp{};
    std::array<int16_t, 324> toByte{}; // code points 0..323 cover the whole alphabet
    ByteLevelTable()
    {
        toByte.fill(-1);
        uint32_t next = 256;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
            toCp[b] = printable ? uint32_t(b) : next++;
            toByte[toCp[b]] = int16_t(b);
        }
    }
};
const ByteLevelTable &table()
{
    static const ByteLevelTable t; // immutable constant table, built once
    return t;
}
} // namespace

uint32_t byteToCodePoint(uint8_t b) { return table().toCp[b]; }

int codePointToByte(uint32_t cp)
{
    return cp < table().toByte.size() ? table().toByte[cp] : -1;
}

bool byteLevelDecode(std::string_view piece, std::string &out)
{
    bool ok = true;
    for (size_t i = 0; i < piece.size();) {
        const size_t start = i;
        const uint32_t cp = decodeUtf8(piece, i);
        const int b = codePointToByte(cp);
        if (b >= 0) {
            out.push_back(char(b));
        } else {
            ok = false;
            out.append(piece.substr(start, i - start));
        }
    }
    return ok;
}

std::string byteLevelEncode(std::string_view bytes)
{
    std::string out;
    for (unsigned char c : bytes)
        appendUtf8(out, byteToCodePoint(c));
    return out;
}

} // namespace lathe::tok
