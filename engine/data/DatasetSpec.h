// DatasetSpec: how a run names its data (the "data" section of a run spec, and what the
// Datasets panel builds): the file, its format (or auto-detection), the field mapping,
// the chat template, which tokens carry loss, and the train/validation split.
// prepareDataset() turns it into TokenizedDataset splits, cached on disk by content hash.
#pragma once

#include "data/DatasetIssues.h"
#include "data/DatasetStats.h"
#include "data/TokenizedDataset.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <string>

namespace lathe {

class Tokenizer;

struct DatasetSpec
{
    std::string path;
    // auto | alpaca | sharegpt | messages | prompt_completion | text | preference
    std::string format = "auto";
    std::map<std::string, std::string> fieldMap; // canonical field -> name in the file
    // "model" (the tokenizer's own chat template) or a built-in name (chatml, llama3, ...)
    std::string chatTemplate = "model";
    // assistant: loss on assistant turns only; all: on every token; last: last assistant turn
    std::string trainOn = "assistant";
    double validationRatio = 0.0; // or validationCount > 0
    int64_t validationCount = 0;
    uint64_t seed = 0;
    bool shuffle = true;
    bool dedupe = false;
    bool dropInvalid = false; // false: any invalid record is an error before training
    int64_t maxLength = 0;    // tokens per record; 0: no limit; longer records are truncated
    std::string cacheDir;     // empty: no cache
    // What happens to records longer than maxLength: "truncate" (keep the first
    // maxLength tokens) or "drop".
    std::string overflow = "truncate";
    std::string textUnit = "line";           // .txt records: "line" or "paragraph"
    bool appendEos = true;                   // raw-text records end with EOS (documents stay apart when packed)
    int64_t maxRecordBytes = int64_t(16) << 20; // larger records are errors, never loaded

    // Parses the JSON object at `where` (e.g. "spec.json: data"), throwing Error naming
    // the field for unknown keys, wrong types and bad values.
    static DatasetSpec fromJson(const nlohmann::json &j, const std::string &where);
    nlohmann::json toJson() const;
};

struct PreparedSplits
{
    TokenizedDataset train;
    TokenizedDataset validation; // empty when no split was asked for
    std::string format;          // the detected or chosen format
    // Preference data: train/validation hold prompt + chosen response; these hold
    // prompt + rejected response, record for record. Empty otherwise.
    TokenizedDataset trainRejected;
    TokenizedDataset validationRejected;
    std::string style;       // the layout within the format (preference: alpaca|sharegpt|messages)
    double confidence = 1.0; // of the detection (1 when the format was given)
    std::string hash;        // content hash of everything above (train.hash etc. are per split)
    DatasetStats stats;
    IssueList issues;        // warnings (and, with dropInvalid, the errors of dropped records)
    bool fromCache = false;
    std::string cachePath;   // the cache file used or written; empty without cacheDir
};

// Reads, validates, renders and tokenises spec.path. Throws Error (file, line, field) when
// the data has errors and dropInvalid is false, or when nothing usable remains.
// eosId/bosId handling follows the tokenizer and template. modelChatTemplate is the
// model's own template source, used when spec.chatTemplate is "model" (an Error if
// it is empty then). With a cacheDir, a valid cache entry for the same file content,
// tokenizer, template and options is loaded instead; a missing or damaged one is
// (re)written.
PreparedSplits prepareDataset(const DatasetSpec &spec, const Tokenizer &tokenizer,
                              const std::string &modelChatTemplate);

} // namespace lathe
