// Small text and file helpers the tokenizer commands share (see CliCommon.h).
#include "CliCommon.h"
#include "core/Error.h"
#include "tokenizer/Utf8Util.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace lathe::cli {

std::string readFileBytes(const std::string &path)
{
    if (path == "-") {
        std::ostringstream ss;
        ss << std::cin.rdbuf();
        return ss.str();
    }
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        fail(path + ": is a folder, not a file");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        fail(path + ": cannot open");
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad())
        fail(path + ": read error");
    return bytes;
}

std::string escapeBytes(std::string_view bytes)
{
    std::string out;
    out.reserve(bytes.size());
    for (size_t i = 0; i < bytes.size();) {
        const unsigned char c = static_cast<unsigned char>(bytes[i]);
        if (c >= 0x80) {
            if (const size_t n = tok::validSequenceLength(bytes, i); n > 0) {
                out.append(bytes.substr(i, n));
                i += n;
                continue;
            }
        }
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c >= 0x7f) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\x%02X", c);
                out += buf;
            } else {
                out.push_back(char(c));
            }
        }
        ++i;
    }
    return out;
}

std::string joinIds(const std::vector<int32_t> &ids)
{
    std::string out;
    for (int32_t id : ids) {
        if (!out.empty())
            out.push_back(' ');
        out.append(std::to_string(id));
    }
    return out;
}

std::string fixturesDir()
{
    std::error_code ec;
    if (const char *env = std::getenv("LATHE_FIXTURES"); env && *env)
        return std::filesystem::is_directory(env, ec) ? std::string(env) : std::string();
#ifdef LATHE_FIXTURES_DIR
    if (std::filesystem::is_directory(LATHE_FIXTURES_DIR, ec))
        return std::filesystem::path(LATHE_FIXTURES_DIR).lexically_normal().string();
#endif
    return {};
}

} // namespace lathe::cli
