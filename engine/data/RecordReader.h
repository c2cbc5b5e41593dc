// RecordReader: streams the records of a dataset file, one at a time, as JSON objects
// with the line each starts on. Readers exist for a JSON array (.json, scanned element by
// element, never parsed whole), JSON Lines (.jsonl, or a .json that holds one object per
// line), CSV/TSV (RFC 4180 quoting, first row = column names) and plain text (.txt: one
// record per line or per blank-line-separated paragraph, as {"text": ...}).
// Bad records (invalid JSON, invalid UTF-8, over the size limit) are reported to the
// IssueList with their line and skipped; problems that make the rest of the file
// unreadable (a truncated array) are reported and end the stream.
#pragma once

#include "data/DatasetIssues.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace lathe {

struct ReadOptions
{
    std::string textUnit = "line"; // .txt records: "line" or "paragraph"
    // Records longer than this are reported and skipped without being held in memory.
    int64_t maxRecordBytes = int64_t(16) << 20;
    // Deeper JSON nesting is refused (hostile input; no dataset needs it).
    int maxDepth = 64;
};

struct RawRecord
{
    nlohmann::ordered_json value; // always an object
    int64_t line = 0;             // 1-based line where the record starts
};

class RecordReader
{
public:
    virtual ~RecordReader() = default;
    // The next readable record; false at the end of the stream.
    virtual bool next(RawRecord &out) = 0;
    // "json", "jsonl", "csv", "tsv" or "text".
    virtual std::string kind() const = 0;
    // Bytes consumed and the file size, for progress reports.
    virtual int64_t bytesRead() const = 0;
    virtual int64_t fileSize() const = 0;
};

// Picks the reader from the extension (.json, .jsonl/.ndjson, .csv, .tsv, .txt/.text/.md).
// Throws Error naming the file when it cannot be opened, has an unknown extension, is
// empty or is UTF-16. issues must outlive the reader.
std::unique_ptr<RecordReader> openRecordReader(const std::string &path, const ReadOptions &options,
                                               IssueList &issues);

} // namespace lathe
