#include "data/RecordReader.h"

#include "data/RecordReaders.h"

#include "core/Error.h"

#include <algorithm>
#include <filesystem>

namespace lathe {

std::unique_ptr<RecordReader> openRecordReader(const std::string &path, const ReadOptions &options,
                                               IssueList &issues)
{
    std::string ext = std::filesystem::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (options.textUnit != "line" && options.textUnit != "paragraph")
        fail("text_unit must be 'line' or 'paragraph', got '" + options.textUnit + "'");
    if (options.maxRecordBytes <= 0)
        fail("max_record_bytes must be > 0");
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        fail(path + ": no such file");
    if (std::filesystem::is_regular_file(path, ec) && std::filesystem::file_size(path, ec) == 0)
        fail(path + ": the file is empty");
    if (ext == ".json")
        return dataimpl::makeJsonArrayReader(path, options, issues);
    if (ext == ".jsonl" || ext == ".ndjson")
        return dataimpl::makeJsonlReader(path, options, issues);
    if (ext == ".csv")
        return dataimpl::makeCsvReader(path, ',', options, issues);
    if (ext == ".tsv")
        return dataimpl::makeCsvReader(path, '\t', options, issues);
    if (ext == ".txt" || ext == ".text" || ext == ".md")
        return dataimpl::makeTextReader(path, options, issues);
    fail(path + ": unknown dataset file type '" + ext + "' (known: .json, .jsonl, .csv, .tsv, .txt)");
}

} // namespace lathe
