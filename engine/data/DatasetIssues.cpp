#include "data/DatasetIssues.h"

namespace lathe {

std::string Issue::text() const
{
    std::string out = file;
    if (line > 0) {
        out.push_back(':');
        out.append(std::to_string(line));
    }
    out.append(severity == Severity::Error ? ": error: " : ": warning: ");
    if (!field.empty()) {
        out.append(field);
        out.append(": ");
    }
    out.append(message);
    return out;
}

void IssueList::add(Severity severity, const std::string &file, int64_t line, const std::string &field,
                    const std::string &message)
{
    (severity == Severity::Error ? m_errors : m_warnings) += 1;
    if (m_items.size() < m_keep)
        m_items.push_back(Issue{severity, file, line, field, message});
}

void IssueList::append(const IssueList &other)
{
    for (const Issue &i : other.items())
        add(i.severity, i.file, i.line, i.field, i.message);
    // Issues the other list counted but did not keep still count here.
    const int64_t keptErrors = [&] {
        int64_t n = 0;
        for (const Issue &i : other.items())
            n += i.severity == Severity::Error;
        return n;
    }();
    m_errors += other.errors() - keptErrors;
    m_warnings += other.warnings() - (int64_t(other.items().size()) - keptErrors);
}

} // namespace lathe
