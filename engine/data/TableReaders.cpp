// The CSV/TSV reader and the text reader.
// CSV and TSV (RFC 4180): fields separated by ',' (or a tab), a field that starts with
// '"' is quoted and may hold separators, newlines and doubled quotes (""), rows end with
// LF or CRLF, and the first row names the columns. Each row becomes an object of strings
// keyed by column name. A quote inside an unquoted field is kept as text (as Python's
// csv module does); text after a closing quote is an error.
#include "data/ByteReader.h"
#include "data/RecordParse.h"
#include "data/RecordReaders.h"

#include "core/Error.h"

#include <set>

namespace lathe::dataimpl {

namespace {

class CsvReader : public RecordReader
{
public:
    CsvReader(const std::string &path, char delimiter, const ReadOptions &options, IssueList &issues)
        : m_in(path), m_delimiter(delimiter), m_options(options), m_issues(issues)
    {
    }

    bool next(RawRecord &out) override;
    std::string kind() const override { return m_delimiter == '\t' ? "tsv" : "csv"; }
    int64_t bytesRead() const override { return m_in.offset(); }
    int64_t fileSize() const override { return m_in.fileSize(); }

private:
    struct Field
    {
        std::string text;
        int64_t line = 0, column = 0;
    };
    enum class Row { Ok, Bad, End };

    int get()
    {
        const int c = m_in.get();
        if (c == '\n')
            m_column = 1;
        else if (c >= 0 && (c & 0xC0) != 0x80)
            ++m_column;
        return c;
    }
    // Consumes the rest of the physical line after a malformed field.
    void skipLine()
    {
        for (int c = get(); c >= 0 && c != '\n'; c = get()) {
        }
    }
    Row readRow(std::vector<Field> &fields, int64_t &line, int64_t &size);
    bool readHeader();

    ByteReader m_in;
    char m_delimiter;
    ReadOptions m_options;
    IssueList &m_issues;
    int64_t m_column = 1;
    bool m_started = false, m_done = false;
    std::vector<std::string> m_header;
};

CsvReader::Row CsvReader::readRow(std::vector<Field> &fields, int64_t &line, int64_t &size)
{
    fields.clear();
    size = 0;
    line = m_in.line();
    if (m_in.peek() < 0)
        return Row::End;
    const size_t limit = size_t(m_options.maxRecordBytes);
    auto store = [&](Field &f, int c) {
        if (size_t(size) < limit)
            f.text += char(c);
        ++size;
    };
    for (;;) {
        Field f;
        f.line = m_in.line();
        f.column = m_column;
        if (m_in.peek() == '"') {
            get();
            const int64_t quoteLine = m_in.line();
            for (;;) {
                const int c = get();
                if (c < 0) {
                    m_issues.error(m_in.path(), quoteLine, "",
                                   "unterminated quoted field (the quote opens at line " + std::to_string(quoteLine) +
                                       ", column " + std::to_string(f.column) + ")");
                    m_done = true;
                    return Row::Bad;
                }
                if (c == '"') {
                    if (m_in.peek() != '"')
                        break;
                    get();
                }
                store(f, c);
            }
            const int after = m_in.peek();
            if (after >= 0 && after != m_delimiter && after != '\n' && after != '\r') {
                m_issues.error(m_in.path(), m_in.line(), "",
                               "text after the closing quote of field " + std::to_string(fields.size() + 1) +
                                   " (column " + std::to_string(m_column) + "); quote the whole field");
                skipLine();
                return Row::Bad;
            }
        } else {
            for (int c = m_in.peek(); c >= 0 && c != m_delimiter && c != '\n' && c != '\r'; c = m_in.peek())
                store(f, get());
        }
        fields.push_back(std::move(f));
        const int c = get();
        if (c == m_delimiter) {
            ++size;
            continue;
        }
        if (c == '\r' && m_in.peek() == '\n')
            get();
        return Row::Ok; // '\n', '\r\n', a lone '\r' or the end of the file
    }
}

bool CsvReader::readHeader()
{
    std::vector<Field> fields;
    int64_t line = 0, size = 0;
    const Row r = readRow(fields, line, size);
    if (r != Row::Ok || (fields.size() == 1 && fields[0].text.empty())) {
        if (r != Row::Bad)
            m_issues.error(m_in.path(), line, "", "the first row must name the columns; it is empty");
        return false;
    }
    if (!checkSize(size, line, m_in.path(), m_options, m_issues))
        return false;
    std::set<std::string> seen;
    for (Field &f : fields) {
        if (!checkUtf8(f.text, f.line, f.column, m_in.path(), "", m_issues))
            return false;
        if (!seen.insert(f.text).second) {
            m_issues.error(m_in.path(), line, "", "the header names column '" + f.text + "' twice");
            return false;
        }
        m_header.push_back(std::move(f.text));
    }
    return true;
}

bool CsvReader::next(RawRecord &out)
{
    if (!m_started) {
        m_started = true;
        if (m_in.peek() < 0)
            return false;
        if (!readHeader()) {
            m_done = true;
            return false;
        }
    }
    std::vector<Field> fields;
    while (!m_done) {
        int64_t line = 0, size = 0;
        const Row r = readRow(fields, line, size);
        if (r == Row::End)
            return false;
        if (r == Row::Bad)
            continue;
        if (fields.size() == 1 && fields[0].text.empty())
            continue; // an empty line
        if (!checkSize(size, line, m_in.path(), m_options, m_issues))
            continue;
        if (fields.size() != m_header.size()) {
            m_issues.error(m_in.path(), line, "",
                           std::to_string(fields.size()) + (fields.size() == 1 ? " field" : " fields") +
                               ", but the header has " + std::to_string(m_header.size()) + " columns");
            continue;
        }
        bool ok = true;
        out.value = nlohmann::ordered_json::object();
        for (size_t i = 0; i < fields.size() && ok; ++i) {
            ok = checkUtf8(fields[i].text, fields[i].line, fields[i].column, m_in.path(), m_header[i], m_issues);
            out.value[m_header[i]] = std::move(fields[i].text);
        }
        if (ok) {
            out.line = line;
            return true;
        }
    }
    return false;
}

class TextReader : public RecordReader
{
public:
    TextReader(const std::string &path, const ReadOptions &options, IssueList &issues)
        : m_in(path), m_options(options), m_issues(issues), m_paragraphs(options.textUnit == "paragraph")
    {
    }

    bool next(RawRecord &out) override;
    std::string kind() const override { return "text"; }
    int64_t bytesRead() const override { return m_in.offset(); }
    int64_t fileSize() const override { return m_in.fileSize(); }

private:
    static bool blank(const std::string &s) { return s.find_first_not_of(" \t\r\f\v") == std::string::npos; }
    bool emit(std::string &text, int64_t line, int64_t size, RawRecord &out);

    ByteReader m_in;
    ReadOptions m_options;
    IssueList &m_issues;
    bool m_paragraphs;
};

bool TextReader::emit(std::string &text, int64_t line, int64_t size, RawRecord &out)
{
    if (!checkSize(size, line, m_in.path(), m_options, m_issues) ||
        !checkUtf8(text, line, 1, m_in.path(), "", m_issues))
        return false;
    out.value = nlohmann::ordered_json::object();
    out.value["text"] = std::move(text);
    out.line = line;
    return true;
}

// Records are non-blank lines, or runs of non-blank lines joined by '\n' (paragraphs).
bool TextReader::next(RawRecord &out)
{
    const size_t limit = size_t(m_options.maxRecordBytes) + 1;
    std::string text, lineText;
    int64_t start = 0, size = 0;
    for (;;) {
        lineText.clear();
        const int64_t line = m_in.line();
        size_t length = 0;
        const bool more = m_in.readLine(lineText, limit, length);
        if (!more || blank(lineText)) {
            if (start > 0 && emit(text, start, size, out))
                return true;
            if (!more)
                return false;
            text.clear();
            start = size = 0;
            continue;
        }
        if (!m_paragraphs) {
            if (emit(lineText, line, int64_t(length), out))
                return true;
            continue;
        }
        if (start == 0)
            start = line;
        else {
            size += 1;
            if (text.size() < limit)
                text += '\n';
        }
        size += int64_t(length);
        if (text.size() < limit)
            text.append(lineText, 0, std::min(lineText.size(), limit - text.size()));
    }
}

} // namespace

std::unique_ptr<RecordReader> makeCsvReader(const std::string &path, char delimiter, const ReadOptions &options,
                                            IssueList &issues)
{
    return std::make_unique<CsvReader>(path, delimiter, options, issues);
}

std::unique_ptr<RecordReader> makeTextReader(const std::string &path, const ReadOptions &options,
                                             IssueList &issues)
{
    return std::make_unique<TextReader>(path, options, issues);
}

} // namespace lathe::dataimpl
