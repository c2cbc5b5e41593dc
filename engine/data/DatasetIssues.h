// DatasetIssues: the errors and warnings found while reading and checking a dataset,
// each naming the file, the line where its record starts (or where the problem is) and
// the field ("conversations[2].value"), so a user can go straight to it. A list keeps
// the first few thousand and counts the rest, so a broken 2 GB file cannot fill memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lathe {

enum class Severity { Error, Warning };

struct Issue
{
    Severity severity = Severity::Error;
    std::string file;
    int64_t line = 0; // 1-based; 0 when the issue concerns the whole file
    std::string field; // empty when no single field is at fault
    std::string message;

    // "file:line: error: field: message" (the compiler convention editors understand).
    std::string text() const;
};

class IssueList
{
public:
    explicit IssueList(size_t keep = 2000) : m_keep(keep) {}

    void add(Severity severity, const std::string &file, int64_t line, const std::string &field,
             const std::string &message);
    void error(const std::string &file, int64_t line, const std::string &field, const std::string &message)
    {
        add(Severity::Error, file, line, field, message);
    }
    void warning(const std::string &file, int64_t line, const std::string &field, const std::string &message)
    {
        add(Severity::Warning, file, line, field, message);
    }
    void append(const IssueList &other);
    // Counts issues that are not kept (their details went elsewhere or were dropped).
    void count(Severity severity, int64_t n) { (severity == Severity::Error ? m_errors : m_warnings) += n; }

    int64_t errors() const { return m_errors; }
    int64_t warnings() const { return m_warnings; }
    // The kept issues, in the order they were found (at most `keep`).
    const std::vector<Issue> &items() const { return m_items; }
    bool truncated() const { return int64_t(m_items.size()) < m_errors + m_warnings; }

private:
    size_t m_keep;
    std::vector<Issue> m_items;
    int64_t m_errors = 0;
    int64_t m_warnings = 0;
};

} // namespace lathe
