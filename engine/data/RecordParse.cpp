#include "data/RecordParse.h"

#include "tokenizer/Utf8Util.h"

#include <cstdio>

namespace lathe::dataimpl {

namespace {

// Line and 1-based character column of byte index pos inside text that starts at
// (startLine, startColumn).
void locate(std::string_view text, size_t pos, int64_t startLine, int64_t startColumn, int64_t &line,
            int64_t &column)
{
    line = startLine;
    size_t lineStart = 0;
    for (size_t i = 0; i < pos && i < text.size(); ++i)
        if (text[i] == '\n') {
            ++line;
            lineStart = i + 1;
        }
    column = lineStart == 0 ? startColumn : 1;
    for (size_t i = lineStart; i < pos && i < text.size(); ++i)
        column += (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
}

} // namespace

bool checkUtf8(std::string_view text, int64_t startLine, int64_t startColumn, const std::string &file,
               const std::string &field, IssueList &issues)
{
    if (tok::isValidUtf8(text))
        return true;
    size_t i = 0;
    while (i < text.size()) {
        if (static_cast<unsigned char>(text[i]) < 0x80) {
            ++i;
            continue;
        }
        const size_t n = tok::validSequenceLength(text, i);
        if (n == 0)
            break;
        i += n;
    }
    int64_t line = 0, column = 0;
    locate(text, i, startLine, startColumn, line, column);
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02x", static_cast<unsigned char>(text[i]));
    issues.error(file, line, field,
                 "invalid UTF-8 at column " + std::to_string(column) + " (byte " + byte + ")");
    return false;
}

bool checkSize(int64_t size, int64_t startLine, const std::string &file, const ReadOptions &options,
               IssueList &issues)
{
    if (size <= options.maxRecordBytes)
        return true;
    issues.error(file, startLine, "",
                 "the record is " + std::to_string(size) + " bytes, above the limit of " +
                     std::to_string(options.maxRecordBytes) + " (max_record_bytes)");
    return false;
}

std::string describeType(const nlohmann::ordered_json &v)
{
    switch (v.type()) {
    case nlohmann::ordered_json::value_t::object: return "an object";
    case nlohmann::ordered_json::value_t::array: return "an array";
    case nlohmann::ordered_json::value_t::string: return "a string";
    case nlohmann::ordered_json::value_t::boolean: return "a boolean";
    case nlohmann::ordered_json::value_t::null: return "null";
    default: return "a number";
    }
}

bool parseJsonRecord(std::string_view text, int64_t startLine, const std::string &file,
                     const ReadOptions &options, IssueList &issues, nlohmann::ordered_json &out)
{
    if (!checkUtf8(text, startLine, 1, file, "", issues))
        return false;
    // Depth is checked before parsing so hostile nesting never reaches a recursive consumer.
    int depth = 0;
    bool inString = false, escaped = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (inString) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                inString = false;
        } else if (c == '"') {
            inString = true;
        } else if (c == '{' || c == '[') {
            if (++depth > options.maxDepth) {
                int64_t line = 0, column = 0;
                locate(text, i, startLine, 1, line, column);
                issues.error(file, line, "",
                             "JSON nested deeper than " + std::to_string(options.maxDepth) + " levels at column " +
                                 std::to_string(column));
                return false;
            }
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    try {
        out = nlohmann::ordered_json::parse(text);
    } catch (const nlohmann::ordered_json::parse_error &e) {
        const size_t pos = e.byte > 0 ? std::min(size_t(e.byte - 1), text.size()) : 0;
        int64_t line = 0, column = 0;
        locate(text, pos, startLine, 1, line, column);
        // nlohmann says "[json.exception.parse_error.101] parse error at line 1, column 5: what";
        // keep "what", the position is ours (lines of the whole file).
        std::string what = e.what();
        if (const size_t c = what.find("column "); c != std::string::npos)
            if (const size_t colon = what.find(": ", c); colon != std::string::npos)
                what = what.substr(colon + 2);
        issues.error(file, line, "", "invalid JSON at column " + std::to_string(column) + ": " + what);
        return false;
    }
    if (!out.is_object()) {
        issues.error(file, startLine, "", "the record is " + describeType(out) + ", expected an object");
        return false;
    }
    return true;
}

bool nextJsonLine(ByteReader &in, const ReadOptions &options, IssueList &issues, RawRecord &out)
{
    std::string text;
    for (;;) {
        text.clear();
        const int64_t line = in.line();
        size_t length = 0;
        if (!in.readLine(text, size_t(options.maxRecordBytes) + 1, length))
            return false;
        if (!checkSize(int64_t(length), line, in.path(), options, issues))
            continue;
        if (text.find_first_not_of(" \t\r") == std::string::npos)
            continue; // blank lines separate nothing in JSON Lines
        if (parseJsonRecord(text, line, in.path(), options, issues, out.value)) {
            out.line = line;
            return true;
        }
    }
}

} // namespace lathe::dataimpl
