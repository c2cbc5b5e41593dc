// RecordParse: what every reader does with the bytes of one record: check the UTF-8,
// the size and the nesting depth, and parse it, turning each failure into an Issue with
// the exact line (and column) inside the file. Internal to engine/data.
#pragma once

#include "data/ByteReader.h"
#include "data/DatasetIssues.h"
#include "data/RecordReader.h"

#include <string_view>

namespace lathe::dataimpl {

// Reports invalid UTF-8 in text (which starts at startLine, column startColumn) and
// returns false; field names the column or key when known.
bool checkUtf8(std::string_view text, int64_t startLine, int64_t startColumn, const std::string &file,
               const std::string &field, IssueList &issues);

// Reports a record whose size is over the limit; returns false then.
bool checkSize(int64_t size, int64_t startLine, const std::string &file, const ReadOptions &options,
               IssueList &issues);

// Parses text (one record starting at startLine) into out. Reports invalid UTF-8, too
// deep nesting, JSON syntax errors (with line and column) and non-object values.
bool parseJsonRecord(std::string_view text, int64_t startLine, const std::string &file,
                     const ReadOptions &options, IssueList &issues, nlohmann::ordered_json &out);

// "an object", "a string", ... for messages about wrong types.
std::string describeType(const nlohmann::ordered_json &v);

// Reads the next non-blank line of a JSON Lines stream as a record (shared by the JSONL
// reader and a .json file that turns out to hold one object per line).
bool nextJsonLine(ByteReader &in, const ReadOptions &options, IssueList &issues, RawRecord &out);

} // namespace lathe::dataimpl
