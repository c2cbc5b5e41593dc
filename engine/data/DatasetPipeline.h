// DatasetPipeline: the one pass every dataset command makes over a file: read records
// as a stream, detect (or take) the format, convert each record to the canonical form,
// render and tokenise it when a renderer is given, note duplicates and over-long
// records, and hand each usable record to a sink in file order. Only one batch of
// records is in memory at a time, so inspect, validate and stats work on files of any
// size; prepare keeps the token ids the sink collects.
#pragma once

#include "data/ChatRenderer.h"
#include "data/Conversation.h"
#include "data/DatasetIssues.h"
#include "data/DatasetSpec.h"
#include "data/DatasetStats.h"
#include "data/FormatDetect.h"

#include <functional>
#include <string>
#include <vector>

namespace lathe {

class ThreadPool;

struct PipelineRecord
{
    CanonicalRecord record;
    RenderedRecord chosen;   // the record (chat/text) or prompt + chosen response
    RenderedRecord rejected; // preference: prompt + rejected response
    int64_t promptTokens = 0, responseTokens = 0, totalTokens = 0; // before truncation
    bool truncated = false;
    uint64_t key = 0; // content key (duplicates)
};

struct PipelineResult
{
    FormatGuess guess;
    DatasetFormat format;
    std::string readerKind;
    IssueList issues;
    DatasetStats stats;
    std::vector<int64_t> lengths; // tokens per accepted record, after truncation
    std::vector<int64_t> targets; // target tokens per accepted record, after truncation
    int64_t segmented = 0;        // records tokenised segment by segment
    int64_t toolsDropped = 0;     // records whose tool definitions the template ignores
    bool stopped = false;         // the sink or the progress callback ended the pass early
};

struct PipelineOptions
{
    ThreadPool *pool = nullptr; // null: one thread
    int64_t sampleSize = 200;   // records looked at for format detection
    // Called after each batch with (bytes read, file size); false stops the pass.
    std::function<bool(int64_t, int64_t)> progress;
};

// Runs the pass. tokenizer may be null (no tokenisation: only reading and checking);
// modelChatTemplate is the model's own template for spec.chatTemplate == "model" (it is
// only needed for chat data). sink (may be empty) gets every accepted record in file
// order; returning false stops the pass. Never throws for problems in the data or the
// template: they are issues in the result.
PipelineResult runDatasetPipeline(const DatasetSpec &spec, const Tokenizer *tokenizer,
                                  const std::string &modelChatTemplate,
                                  const std::function<bool(PipelineRecord &&)> &sink,
                                  const PipelineOptions &options = {});

// Fills the split-dependent statistics (train/validation records, tokens per epoch)
// from the accepted records' lengths, as prepareDataset would split them.
void finishStats(const DatasetSpec &spec, PipelineResult &result);

// The chat template a spec asks for: the model's own (modelChatTemplate, which must not
// be empty), a built-in by name, or a .jinja file. Throws Error saying which.
std::string resolveChatTemplate(const DatasetSpec &spec, const std::string &modelChatTemplate);

// The model's chat template from a tokenizer_config.json (a chat_template.jinja beside
// it, even when the config itself is missing, else its chat_template: a string, or a
// list of {name, template} from which "default" is taken); "" when there is none or the
// config is not JSON. Never throws.
std::string chatTemplateFromConfig(const std::string &tokenizerConfigPath);

} // namespace lathe
