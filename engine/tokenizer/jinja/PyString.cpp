// PyString: str.strip/split/splitlines/title/... with CPython's exact rules (for
// example split() without a separator drops empty pieces, split(sep) keeps them).
#include "tokenizer/jinja/PyString.h"

#include "tokenizer/jinja/Utf8.h"

#include "core/Error.h"

#include <algorithm>

namespace lathe::jinja::pystr {

std::string strip(const std::string &s, const std::optional<std::string> &chars, bool left, bool right)
{
    std::u32string u = utf8::decode(s);
    std::u32string set = chars ? utf8::decode(*chars) : std::u32string();
    auto strippable = [&](char32_t c) { return chars ? set.find(c) != std::u32string::npos : utf8::isSpace(c); };
    size_t b = 0, e = u.size();
    if (left)
        while (b < e && strippable(u[b]))
            ++b;
    if (right)
        while (e > b && strippable(u[e - 1]))
            --e;
    return utf8::encode(u.substr(b, e - b));
}

std::vector<std::string> split(const std::string &s, const std::optional<std::string> &sep, long long maxsplit)
{
    std::vector<std::string> out;
    if (sep) {
        if (sep->empty())
            fail("empty separator");
        size_t pos = 0;
        while (maxsplit < 0 || (long long)out.size() < maxsplit) {
            size_t f = s.find(*sep, pos);
            if (f == std::string::npos)
                break;
            out.push_back(s.substr(pos, f - pos));
            pos = f + sep->size();
        }
        out.push_back(s.substr(pos));
        return out;
    }
    std::u32string u = utf8::decode(s);
    size_t i = 0;
    while (i < u.size()) {
        while (i < u.size() && utf8::isSpace(u[i]))
            ++i;
        if (i >= u.size())
            break;
        if (maxsplit >= 0 && (long long)out.size() >= maxsplit) {
            out.push_back(utf8::encode(u.substr(i))); // the remainder keeps its trailing space
            break;
        }
        size_t j = i;
        while (j < u.size() && !utf8::isSpace(u[j]))
            ++j;
        out.push_back(utf8::encode(u.substr(i, j - i)));
        i = j;
    }
    return out;
}

std::vector<std::string> rsplit(const std::string &s, const std::optional<std::string> &sep, long long maxsplit)
{
    if (maxsplit < 0)
        return split(s, sep, maxsplit);
    std::vector<std::string> out;
    if (sep) {
        if (sep->empty())
            fail("empty separator");
        size_t end = s.size();
        while ((long long)out.size() < maxsplit) {
            if (end < sep->size())
                break;
            size_t f = s.rfind(*sep, end - sep->size());
            if (f == std::string::npos)
                break;
            out.push_back(s.substr(f + sep->size(), end - f - sep->size()));
            end = f;
        }
        out.push_back(s.substr(0, end));
        std::reverse(out.begin(), out.end());
        return out;
    }
    std::u32string u = utf8::decode(s);
    size_t e = u.size();
    while (e > 0) {
        while (e > 0 && utf8::isSpace(u[e - 1]))
            --e;
        if (e == 0)
            break;
        if ((long long)out.size() >= maxsplit) {
            out.push_back(utf8::encode(u.substr(0, e))); // the remainder keeps its leading space
            break;
        }
        size_t b = e;
        while (b > 0 && !utf8::isSpace(u[b - 1]))
            --b;
        out.push_back(utf8::encode(u.substr(b, e - b)));
        e = b;
    }
    std::reverse(out.begin(), out.end());
    return out;
}

std::vector<std::string> splitlines(const std::string &s, bool keepends)
{
    std::u32string u = utf8::decode(s);
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t i = 0; i < u.size(); ++i) {
        char32_t c = u[i];
        bool br = c == '\n' || c == '\r' || c == 0x0b || c == 0x0c || (c >= 0x1c && c <= 0x1e) || c == 0x85
            || c == 0x2028 || c == 0x2029;
        if (!br)
            continue;
        size_t end = i;
        if (c == '\r' && i + 1 < u.size() && u[i + 1] == '\n')
            ++i;
        out.push_back(utf8::encode(u.substr(start, (keepends ? i + 1 : end) - start)));
        start = i + 1;
    }
    if (start < u.size())
        out.push_back(utf8::encode(u.substr(start)));
    return out;
}

std::string upper(const std::string &s)
{
    std::u32string u = utf8::decode(s);
    for (auto &c : u)
        c = utf8::toUpper(c);
    return utf8::encode(u);
}

std::string lower(const std::string &s)
{
    std::u32string u = utf8::decode(s);
    for (auto &c : u)
        c = utf8::toLower(c);
    return utf8::encode(u);
}

static bool isCased(char32_t c)
{
    return utf8::toLower(c) != c || utf8::toUpper(c) != c;
}

std::string title(const std::string &s)
{
    std::u32string u = utf8::decode(s);
    bool prevCased = false;
    for (auto &c : u) {
        c = prevCased ? utf8::toLower(c) : utf8::toUpper(c);
        prevCased = isCased(c);
    }
    return utf8::encode(u);
}

std::string capitalize(const std::string &s)
{
    std::u32string u = utf8::decode(s);
    for (size_t i = 0; i < u.size(); ++i)
        u[i] = i == 0 ? utf8::toUpper(u[i]) : utf8::toLower(u[i]);
    return utf8::encode(u);
}

std::string replace(const std::string &s, const std::string &from, const std::string &to, long long count,
                    size_t maxBytes)
{
    std::string out;
    if (from.empty()) {
        // Python inserts 'to' between every code point and at both ends.
        std::u32string u = utf8::decode(s);
        long long done = 0;
        for (size_t i = 0; i <= u.size(); ++i) {
            if (count < 0 || done < count) {
                out += to;
                ++done;
            }
            if (i < u.size())
                utf8::append(out, u[i]);
            if (out.size() > maxBytes)
                fail("replace result exceeds the size limit");
        }
        return out;
    }
    size_t pos = 0;
    long long done = 0;
    while (count < 0 || done < count) {
        size_t f = s.find(from, pos);
        if (f == std::string::npos)
            break;
        out.append(s, pos, f - pos);
        out += to;
        if (out.size() > maxBytes)
            fail("replace result exceeds the size limit");
        pos = f + from.size();
        ++done;
    }
    out.append(s, pos, std::string::npos);
    return out;
}

long long find(const std::string &s, const std::string &sub, bool reverse)
{
    size_t f = reverse ? s.rfind(sub) : s.find(sub);
    if (f == std::string::npos)
        return -1;
    return (long long)utf8::length(s.substr(0, f));
}

long long count(const std::string &s, const std::string &sub)
{
    if (sub.empty())
        return (long long)utf8::length(s) + 1;
    long long n = 0;
    for (size_t pos = s.find(sub); pos != std::string::npos; pos = s.find(sub, pos + sub.size()))
        ++n;
    return n;
}

} // namespace lathe::jinja::pystr
