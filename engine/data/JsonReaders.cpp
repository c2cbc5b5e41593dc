// The JSON readers. A .json dataset is one array of records; it is scanned byte by byte
// (strings and nesting tracked) to cut out one element at a time, and only that element
// is parsed, so memory stays at one record whatever the file size. A .json file whose
// first value is an object is read as JSON Lines, as Hugging Face datasets does.
#include "data/ByteReader.h"
#include "data/RecordParse.h"
#include "data/RecordReaders.h"

#include "core/Error.h"

namespace lathe::dataimpl {

namespace {

std::string shown(int c)
{
    if (c < 0)
        return "the end of the file";
    if (c < 0x20 || c >= 0x7f)
        return "byte " + std::to_string(c);
    return std::string("'") + char(c) + "'";
}

class JsonlReader : public RecordReader
{
public:
    JsonlReader(const std::string &path, const ReadOptions &options, IssueList &issues)
        : m_in(path), m_options(options), m_issues(issues)
    {
    }
    bool next(RawRecord &out) override { return nextJsonLine(m_in, m_options, m_issues, out); }
    std::string kind() const override { return "jsonl"; }
    int64_t bytesRead() const override { return m_in.offset(); }
    int64_t fileSize() const override { return m_in.fileSize(); }

private:
    ByteReader m_in;
    ReadOptions m_options;
    IssueList &m_issues;
};

class JsonArrayReader : public RecordReader
{
public:
    JsonArrayReader(const std::string &path, const ReadOptions &options, IssueList &issues)
        : m_in(path), m_options(options), m_issues(issues)
    {
    }

    bool next(RawRecord &out) override;
    std::string kind() const override { return m_mode == Mode::Lines ? "jsonl" : "json"; }
    int64_t bytesRead() const override { return m_in.offset(); }
    int64_t fileSize() const override { return m_in.fileSize(); }

private:
    enum class Mode { Start, Array, Lines, Done };
    enum class Scan { Value, EndOfFile };

    void skipSpace()
    {
        for (int c = m_in.peek(); c == ' ' || c == '\t' || c == '\n' || c == '\r'; c = m_in.peek())
            m_in.get();
    }
    void stop(int64_t line, const std::string &message)
    {
        m_issues.error(m_in.path(), line, "", message);
        m_mode = Mode::Done;
    }
    bool begin(RawRecord &out);
    Scan scanValue(std::string &text, int64_t &size);

    ByteReader m_in;
    ReadOptions m_options;
    IssueList &m_issues;
    Mode m_mode = Mode::Start;
    bool m_expectValue = true; // in the array: a value (not ',' or ']') comes next
    bool m_afterComma = false;
    int64_t m_arrayLine = 0;
    int64_t m_lastEndLine = 0;
};

// Decides between an array and JSON Lines from the first value.
bool JsonArrayReader::begin(RawRecord &out)
{
    skipSpace();
    const int c = m_in.peek();
    if (c == '[') {
        m_arrayLine = m_in.line();
        m_in.get();
        m_mode = Mode::Array;
        return false;
    }
    if (c == '{') {
        // JSON Lines only if the first line is a whole object; a pretty-printed object
        // spanning lines is not a dataset layout we know.
        const int64_t line = m_in.line();
        std::string text;
        size_t length = 0;
        m_in.readLine(text, size_t(m_options.maxRecordBytes) + 1, length);
        IssueList quiet;
        nlohmann::ordered_json value;
        if (length <= size_t(m_options.maxRecordBytes) &&
            parseJsonRecord(text, line, m_in.path(), m_options, quiet, value)) {
            m_mode = Mode::Lines;
            out.value = std::move(value);
            out.line = line;
            return true;
        }
        stop(line, "expected a JSON array of records ('[') or one JSON object per line; line " +
                       std::to_string(line) + " is not a complete JSON object");
        return false;
    }
    if (c < 0) {
        m_mode = Mode::Done; // only whitespace: no records
        return false;
    }
    stop(m_in.line(), "expected a JSON array of records ('[') or one JSON object per line, found " + shown(c));
    return false;
}

// Reads one value starting at the current byte. Bytes beyond maxRecordBytes are counted
// in size but not stored.
JsonArrayReader::Scan JsonArrayReader::scanValue(std::string &text, int64_t &size)
{
    const size_t limit = size_t(m_options.maxRecordBytes);
    size = 0;
    auto take = [&](int c) {
        if (size_t(size) < limit)
            text += char(c);
        ++size;
    };
    int c = m_in.peek();
    if (c != '{' && c != '[' && c != '"') {
        // A bare number, literal or garbage: up to the next separator.
        while (c >= 0 && c != ',' && c != ']' && c != '}' && c != ' ' && c != '\n' && c != '\r' && c != '\t') {
            take(m_in.get());
            c = m_in.peek();
        }
        return Scan::Value;
    }
    int depth = 0;
    bool inString = false, escaped = false;
    for (;;) {
        c = m_in.get();
        if (c < 0)
            return Scan::EndOfFile;
        take(c);
        if (inString) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"') {
                inString = false;
                if (depth == 0)
                    return Scan::Value;
            }
        } else if (c == '"') {
            inString = true;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if (c == '}' || c == ']') {
            if (--depth <= 0)
                return Scan::Value;
        }
    }
}

bool JsonArrayReader::next(RawRecord &out)
{
    if (m_mode == Mode::Start && begin(out))
        return true;
    if (m_mode == Mode::Lines)
        return nextJsonLine(m_in, m_options, m_issues, out);
    std::string text;
    while (m_mode == Mode::Array) {
        skipSpace();
        const int c = m_in.peek();
        if (c < 0) {
            stop(m_in.line(), "unexpected end of file: the array opened at line " + std::to_string(m_arrayLine) +
                                  " is not closed (truncated file?)");
            return false;
        }
        if (c == ']') {
            if (m_afterComma)
                m_issues.error(m_in.path(), m_in.line(), "", "trailing comma before ']'");
            m_in.get();
            skipSpace();
            if (const int after = m_in.peek(); after >= 0)
                m_issues.error(m_in.path(), m_in.line(), "",
                               "unexpected " + shown(after) + " after the end of the array");
            m_mode = Mode::Done;
            return false;
        }
        if (!m_expectValue) {
            if (c == ',') {
                m_in.get();
                m_expectValue = true;
                m_afterComma = true;
                continue;
            }
            stop(m_in.line(), "expected ',' or ']' after the record that ends at line " +
                                  std::to_string(m_lastEndLine) + ", found " + shown(c));
            return false;
        }
        const int64_t startLine = m_in.line();
        int64_t size = 0;
        text.clear();
        if (scanValue(text, size) == Scan::EndOfFile) {
            stop(m_in.line(), "unexpected end of file inside the record that starts at line " +
                                  std::to_string(startLine) + " (truncated file?)");
            return false;
        }
        m_lastEndLine = m_in.line();
        m_expectValue = false;
        m_afterComma = false;
        if (!checkSize(size, startLine, m_in.path(), m_options, m_issues))
            continue;
        if (parseJsonRecord(text, startLine, m_in.path(), m_options, m_issues, out.value)) {
            out.line = startLine;
            return true;
        }
    }
    return false;
}

} // namespace

std::unique_ptr<RecordReader> makeJsonArrayReader(const std::string &path, const ReadOptions &options,
                                                  IssueList &issues)
{
    return std::make_unique<JsonArrayReader>(path, options, issues);
}

std::unique_ptr<RecordReader> makeJsonlReader(const std::string &path, const ReadOptions &options,
                                              IssueList &issues)
{
    return std::make_unique<JsonlReader>(path, options, issues);
}

} // namespace lathe::dataimpl
