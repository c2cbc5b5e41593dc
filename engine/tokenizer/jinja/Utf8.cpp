// Utf8: lenient UTF-8 decoding with surrogateescape, and the small Unicode tables the
// interpreter needs (whitespace and a simple case mapping).
#include "tokenizer/jinja/Utf8.h"

namespace lathe::jinja::utf8 {

std::u32string decode(const std::string &s)
{
    std::u32string out;
    out.reserve(s.size());
    size_t i = 0;
    const size_t n = s.size();
    while (i < n) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
        bool ok = len > 0 && i + size_t(len) <= n;
        for (int k = 1; ok && k < len; ++k) {
            unsigned char cc = static_cast<unsigned char>(s[i + size_t(k)]);
            if ((cc & 0xc0) != 0x80)
                ok = false;
            else
                cp = (cp << 6) | (cc & 0x3f);
        }
        // Reject overlong forms, surrogates and values past U+10FFFF.
        if (ok && ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)
                   || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)))
            ok = false;
        if (!ok) {
            out += char32_t(0xdc00 + c);
            ++i;
            continue;
        }
        out += cp;
        i += size_t(len);
    }
    return out;
}

void append(std::string &out, char32_t c)
{
    if (c >= 0xdc80 && c <= 0xdcff) {
        out += char(c - 0xdc00); // an escaped invalid byte goes back as itself
    } else if (c < 0x80) {
        out += char(c);
    } else if (c < 0x800) {
        out += char(0xc0 | (c >> 6));
        out += char(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
        out += char(0xe0 | (c >> 12));
        out += char(0x80 | ((c >> 6) & 0x3f));
        out += char(0x80 | (c & 0x3f));
    } else {
        out += char(0xf0 | (c >> 18));
        out += char(0x80 | ((c >> 12) & 0x3f));
        out += char(0x80 | ((c >> 6) & 0x3f));
        out += char(0x80 | (c & 0x3f));
    }
}

std::string encode(const std::u32string &s)
{
    std::string out;
    out.reserve(s.size());
    for (char32_t c : s)
        append(out, c);
    return out;
}

size_t length(const std::string &s)
{
    return decode(s).size();
}

bool isSpace(char32_t c)
{
    return (c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 || c == 0x1680
        || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f
        || c == 0x3000;
}

char32_t toLower(char32_t c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 0xc0 && c <= 0xde && c != 0xd7) || (c >= 0x391 && c <= 0x3ab && c != 0x3a2)
        || (c >= 0x410 && c <= 0x42f))
        return c + (c >= 0x410 ? 0x20 : 0x20);
    if (c >= 0x400 && c <= 0x40f)
        return c + 0x50;
    if (c >= 0x100 && c <= 0x17f && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 && c != 0x17f) {
        bool evenUpper = !((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e));
        if ((c % 2 == 0) == evenUpper)
            return c + 1;
    }
    return c;
}

char32_t toUpper(char32_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 0xe0 && c <= 0xfe && c != 0xf7) || (c >= 0x3b1 && c <= 0x3cb && c != 0x3c2)
        || (c >= 0x430 && c <= 0x44f))
        return c - 0x20;
    if (c >= 0x450 && c <= 0x45f)
        return c - 0x50;
    if (c >= 0x100 && c <= 0x17f && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 && c != 0x17f) {
        bool evenUpper = !((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e));
        if ((c % 2 == 0) != evenUpper)
            return c - 1;
    }
    return c;
}

bool isAlpha(char32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= 0xc0 && c != 0xd7 && c != 0xf7 && !isSpace(c)
                                                                   && !(c >= 0x2000 && c <= 0x2bff)
                                                                   && !(c >= 0x3000 && c <= 0x303f)
                                                                   && !(c >= 0xff00 && c <= 0xff20));
}

bool isDigit(char32_t c)
{
    return c >= '0' && c <= '9';
}

} // namespace lathe::jinja::utf8
