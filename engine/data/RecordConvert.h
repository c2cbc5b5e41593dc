// RecordConvert: turns one raw record of a known layout into the canonical record,
// checking it on the way: missing keys, wrong types, empty turns, unknown roles and roles
// out of order become errors naming the field ("conversations[2].value"); things that
// are dropped or fixed (a trailing unanswered user turn, an empty system prompt) become
// warnings.
#pragma once

#include "data/Conversation.h"
#include "data/DatasetFormat.h"
#include "data/DatasetIssues.h"
#include "data/RecordReader.h"

#include <optional>
#include <string>

namespace lathe {

class RecordConverter
{
public:
    RecordConverter(DatasetFormat format, const std::map<std::string, std::string> &fieldMap, std::string file);

    // The canonical record, or nullopt when the record has errors (all reported).
    std::optional<CanonicalRecord> convert(const RawRecord &raw, IssueList &issues) const;

    const DatasetFormat &format() const { return m_format; }

private:
    DatasetFormat m_format;
    FieldNames m_fields;
    std::string m_file;
};

} // namespace lathe
