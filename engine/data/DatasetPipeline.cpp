#include "data/DatasetPipeline.h"

#include "data/DatasetSplit.h"
#include "data/RecordConvert.h"
#include "data/RecordReader.h"

#include "core/Error.h"
#include "core/ThreadPool.h"
#include "tokenizer/chat/ChatTemplate.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <unordered_map>

namespace lathe {

namespace {

constexpr size_t kBatch = 256;

// Errors thrown with "path: what" lose the path: the issue names the file already.
std::string withoutPath(const std::string &message, const std::string &path)
{
    return message.rfind(path + ": ", 0) == 0 ? message.substr(path.size() + 2) : message;
}

struct Work
{
    std::optional<CanonicalRecord> record;
    IssueList issues{64};
    PipelineRecord out;
};

void renderRecord(const ChatRenderer &renderer, Work &w)
{
    CanonicalRecord &rec = *w.record;
    if (rec.kind == RecordKind::Text) {
        w.out.chosen = renderer.renderText(rec.text);
    } else if (rec.kind == RecordKind::Chat) {
        w.out.chosen = renderer.renderChat(rec.conversation);
    } else {
        Conversation c = rec.conversation;
        c.turns.insert(c.turns.end(), rec.chosen.begin(), rec.chosen.end());
        w.out.chosen = renderer.renderChat(c, rec.conversation.turns.size());
        c.turns.resize(rec.conversation.turns.size());
        c.turns.insert(c.turns.end(), rec.rejected.begin(), rec.rejected.end());
        w.out.rejected = renderer.renderChat(c, rec.conversation.turns.size());
    }
}

// Cuts r to maxLength tokens; returns the target tokens lost.
int64_t truncate(RenderedRecord &r, int64_t maxLength)
{
    if (int64_t(r.ids.size()) <= maxLength)
        return 0;
    int64_t lost = 0;
    for (size_t i = size_t(maxLength); i < r.mask.size(); ++i)
        lost += r.mask[i];
    r.ids.resize(size_t(maxLength));
    r.mask.resize(size_t(maxLength));
    return lost;
}

class Pass
{
public:
    std::vector<int64_t> prompt, response, total; // token counts of accepted records

    Pass(const DatasetSpec &spec, const std::function<bool(PipelineRecord &&)> &sink, const PipelineOptions &options,
         PipelineResult &result, const IssueList &readIssues)
        : m_spec(spec), m_sink(sink), m_options(options), m_res(result), m_readIssues(readIssues)
    {
    }

    bool processBatch(std::vector<RawRecord> &batch, const RecordConverter &converter, const ChatRenderer *renderer);
    // Moves the readers' issues before `line` into the result, so issues stay in line order.
    void flushReadIssues(int64_t line);
    // The rest of them, and the count of those the reader's list did not keep.
    void finish();

private:
    // Duplicates, length limits and statistics, in file order. False: drop the record.
    bool accept(Work &w, const ChatRenderer *renderer);

    const DatasetSpec &m_spec;
    const std::function<bool(PipelineRecord &&)> &m_sink;
    const PipelineOptions &m_options;
    PipelineResult &m_res;
    std::unordered_map<uint64_t, int64_t> m_seen; // content key -> first line
    const IssueList &m_readIssues;
    size_t m_readCursor = 0;
};

void Pass::flushReadIssues(int64_t line)
{
    const auto &items = m_readIssues.items();
    for (; m_readCursor < items.size(); ++m_readCursor) {
        const Issue &i = items[m_readCursor];
        // A line-0 issue means reading stopped there: it comes last.
        const bool due = line == INT64_MAX || (i.line != 0 && i.line < line);
        if (!due)
            break;
        m_res.issues.add(i.severity, i.file, i.line, i.field, i.message);
    }
}

void Pass::finish()
{
    flushReadIssues(INT64_MAX);
    int64_t keptErrors = 0;
    for (const Issue &i : m_readIssues.items())
        keptErrors += i.severity == Severity::Error;
    m_res.issues.count(Severity::Error, m_readIssues.errors() - keptErrors);
    m_res.issues.count(Severity::Warning,
                       m_readIssues.warnings() - (int64_t(m_readIssues.items().size()) - keptErrors));
}

bool Pass::processBatch(std::vector<RawRecord> &batch, const RecordConverter &converter, const ChatRenderer *renderer)
{
    std::vector<Work> work(batch.size());
    auto job = [&](int64_t begin, int64_t end, int) {
        for (int64_t i = begin; i < end; ++i) {
            Work &w = work[size_t(i)];
            const int64_t line = batch[size_t(i)].line;
            try {
                w.record = converter.convert(batch[size_t(i)], w.issues);
                if (w.record && renderer)
                    renderRecord(*renderer, w);
            } catch (const std::exception &e) {
                const std::string what = e.what();
                w.issues.error(m_spec.path, line, "",
                               what.rfind("chat template", 0) == 0 ? what : "chat template: " + what);
                w.record.reset();
            }
        }
    };
    if (m_options.pool && batch.size() > 1)
        m_options.pool->parallelFor(int64_t(batch.size()), job, 8);
    else
        job(0, int64_t(batch.size()), 0);
    for (size_t i = 0; i < work.size(); ++i) {
        Work &w = work[i];
        flushReadIssues(batch[i].line);
        m_res.issues.append(w.issues);
        if (!w.record) {
            (w.issues.errors() > 0 ? m_res.stats.recordsInvalid : m_res.stats.recordsSkipped) += 1;
            continue;
        }
        if (!accept(w, renderer))
            continue;
        w.out.record = std::move(*w.record);
        if (m_sink && !m_sink(std::move(w.out)))
            return false;
    }
    return true;
}

bool Pass::accept(Work &w, const ChatRenderer *renderer)
{
    const CanonicalRecord &rec = *w.record;
    const std::string &file = m_spec.path;
    PipelineRecord &out = w.out;
    if (renderer) {
        m_res.segmented += out.chosen.segmented;
        m_res.toolsDropped += out.chosen.toolsDropped;
        if (out.chosen.targetTokens() == 0 ||
            (rec.kind == RecordKind::Preference && out.rejected.targetTokens() == 0)) {
            m_res.issues.warning(file, rec.line, "", "no token carries loss (nothing to train on); the record is skipped");
            ++m_res.stats.recordsSkipped;
            return false;
        }
    }
    out.key = rec.contentKey();
    const auto [it, fresh] = m_seen.emplace(out.key, rec.line);
    if (!fresh) {
        ++m_res.stats.duplicates;
        m_res.issues.warning(file, rec.line, "",
                             "duplicate of the record at line " + std::to_string(it->second) +
                                 (m_spec.dedupe ? "; removed" : ""));
        if (m_spec.dedupe) {
            ++m_res.stats.duplicatesRemoved;
            return false;
        }
    }
    if (!renderer) {
        ++m_res.stats.records;
        return true;
    }
    out.totalTokens = int64_t(out.chosen.ids.size());
    out.responseTokens = out.chosen.targetTokens();
    out.promptTokens = out.totalTokens - out.responseTokens;
    const int64_t maxLength = m_spec.maxLength;
    const int64_t longest = std::max<int64_t>(out.totalTokens, int64_t(out.rejected.ids.size()));
    if (maxLength > 0 && longest > maxLength) {
        ++m_res.stats.overLength;
        const std::string head = std::to_string(longest) + " tokens, longer than max_length " + std::to_string(maxLength);
        if (m_spec.overflow == "drop") {
            ++m_res.stats.droppedOverLength;
            m_res.issues.warning(file, rec.line, "", head + "; dropped");
            return false;
        }
        const int64_t lost = truncate(out.chosen, maxLength) + truncate(out.rejected, maxLength);
        if (out.chosen.targetTokens() == 0 || (rec.kind == RecordKind::Preference && out.rejected.targetTokens() == 0)) {
            ++m_res.stats.droppedOverLength;
            m_res.issues.warning(file, rec.line, "", head + "; no response token would be left, dropped");
            return false;
        }
        ++m_res.stats.truncated;
        m_res.stats.targetTokensLost += lost;
        out.truncated = true;
        m_res.issues.warning(file, rec.line, "",
                             head + "; truncated (" + std::to_string(lost) + " response tokens cut)");
    }
    ++m_res.stats.records;
    prompt.push_back(out.promptTokens);
    response.push_back(out.responseTokens);
    total.push_back(out.totalTokens);
    m_res.lengths.push_back(int64_t(out.chosen.ids.size()));
    m_res.targets.push_back(out.chosen.targetTokens());
    return true;
}

std::string keysOf(const nlohmann::ordered_json &v)
{
    std::string keys;
    for (auto it = v.begin(); it != v.end(); ++it)
        keys += (keys.empty() ? "" : ", ") + it.key();
    return keys.empty() ? "none" : keys;
}

} // namespace

std::string chatTemplateFromConfig(const std::string &tokenizerConfigPath)
{
    // Newer transformers keep the template in chat_template.jinja beside the config.
    const std::string jinja =
        (std::filesystem::path(tokenizerConfigPath).parent_path() / "chat_template.jinja").string();
    if (std::ifstream j(jinja, std::ios::binary); j) {
        std::ostringstream ss;
        ss << j.rdbuf();
        return ss.str();
    }
    std::ifstream in(tokenizerConfigPath, std::ios::binary);
    if (!in)
        return {};
    nlohmann::json cfg = nlohmann::json::parse(in, nullptr, false);
    if (cfg.is_discarded() || !cfg.is_object() || !cfg.contains("chat_template"))
        return {};
    const auto &t = cfg["chat_template"];
    if (t.is_string())
        return t.get<std::string>();
    if (t.is_array())
        for (const auto &entry : t)
            if (entry.is_object() && entry.value("name", std::string()) == "default" && entry.contains("template") &&
                entry["template"].is_string())
                return entry["template"].get<std::string>();
    return {};
}

std::string resolveChatTemplate(const DatasetSpec &spec, const std::string &modelChatTemplate)
{
    const std::string &name = spec.chatTemplate;
    if (name == "model") {
        if (modelChatTemplate.empty())
            fail("the model has no chat template of its own; choose a built-in one (chat_template: alpaca, chatml, "
                 "llama2, llama3, mistral or zephyr)");
        return modelChatTemplate;
    }
    if (name.size() > 6 && name.compare(name.size() - 6, 6, ".jinja") == 0) {
        std::ifstream in(name, std::ios::binary);
        if (!in)
            fail("cannot open chat template " + name);
        std::ostringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    return ChatTemplate::builtinSource(name);
}

PipelineResult runDatasetPipeline(const DatasetSpec &spec, const Tokenizer *tokenizer,
                                  const std::string &modelChatTemplate,
                                  const std::function<bool(PipelineRecord &&)> &sink, const PipelineOptions &options)
{
    PipelineResult res;
    res.stats.maxLength = spec.maxLength;
    const std::string &file = spec.path;
    ReadOptions ro;
    ro.textUnit = spec.textUnit;
    ro.maxRecordBytes = spec.maxRecordBytes;
    std::unique_ptr<RecordReader> reader;
    IssueList readIssues; // merged into res.issues in line order as records are processed
    try {
        reader = openRecordReader(file, ro, readIssues);
        res.readerKind = reader->kind();
    } catch (const Error &e) {
        res.issues.error(file, 0, "", withoutPath(e.what(), file));
        return res;
    }
    bool readerOk = true;
    auto read = [&](RawRecord &r) {
        if (!readerOk)
            return false;
        const int64_t before = readIssues.errors();
        try {
            readerOk = reader->next(r);
        } catch (const Error &e) {
            readIssues.error(file, 0, "", withoutPath(e.what(), file)); // reading stops: it comes last
            readerOk = false;
        }
        // Records the reader could not read count as read and invalid.
        res.stats.recordsInvalid += readIssues.errors() - before;
        res.stats.recordsRead += int64_t(readerOk) + readIssues.errors() - before;
        return readerOk;
    };

    std::vector<RawRecord> batch;
    for (RawRecord r; int64_t(batch.size()) < options.sampleSize && read(r);)
        batch.push_back(std::move(r));
    res.readerKind = reader->kind(); // a .json file may have turned out to be JSON Lines
    res.guess = detectFormat(batch, res.readerKind, spec.format, spec.fieldMap);
    res.format = res.guess.format;
    Pass pass(spec, sink, options, res, readIssues);
    if (batch.empty() || res.format.format.empty())
        pass.finish(); // nothing will be converted: the reader's issues are all there is
    if (batch.empty()) {
        if (res.issues.errors() == 0)
            res.issues.error(file, 0, "", "the file contains no records");
        return res;
    }
    if (res.format.format.empty()) {
        res.issues.error(file, 0, "", "cannot tell the format: " + res.guess.reason + " (the first record has keys: " +
                                          keysOf(batch.front().value) + "); set format and field_map");
        return res;
    }
    if (spec.format != "auto" && res.guess.confidence < 0.5)
        res.issues.warning(file, 0, "format", "you chose " + res.format.name() + ", but only " + res.guess.reason);
    else if (spec.format == "auto" && res.guess.confidence < 0.9)
        res.issues.warning(file, 0, "", "format detected as " + res.format.name() + " with low confidence (" +
                                            res.guess.reason + "); records of another layout will be errors");

    std::unique_ptr<ChatRenderer> renderer;
    if (tokenizer) {
        try {
            const bool chat = res.format.format != "text";
            std::string source;
            try {
                source = resolveChatTemplate(spec, modelChatTemplate);
            } catch (const Error &) {
                if (chat)
                    throw;
            }
            renderer = std::make_unique<ChatRenderer>(*tokenizer, source, spec.trainOn, spec.appendEos);
        } catch (const Error &e) {
            pass.finish();
            res.issues.error(file, 0, "chat_template", e.what());
            return res;
        }
    }
    const RecordConverter converter(res.format, spec.fieldMap, file);
    for (;;) {
        if (!pass.processBatch(batch, converter, renderer.get()) ||
            (options.progress && !options.progress(reader->bytesRead(), reader->fileSize()))) {
            res.stopped = true;
            break;
        }
        batch.clear();
        for (RawRecord r; batch.size() < kBatch && read(r);)
            batch.push_back(std::move(r));
        if (batch.empty())
            break;
    }
    pass.finish();
    if (res.toolsDropped > 0)
        res.issues.warning(file, 0, "tools", std::to_string(res.toolsDropped) +
                                                 " records define tools, but the chat template does not show tool "
                                                 "definitions; they are left out");
    res.stats.prompt = LengthSummary::of(std::move(pass.prompt));
    res.stats.response = LengthSummary::of(std::move(pass.response));
    res.stats.total = LengthSummary::of(std::move(pass.total));
    return res;
}

void finishStats(const DatasetSpec &spec, PipelineResult &result)
{
    DatasetStats &s = result.stats;
    const int64_t n = s.records;
    int64_t v = 0;
    try {
        v = validationSize(n, spec.validationRatio, spec.validationCount);
    } catch (const Error &e) {
        result.issues.error(spec.path, 0, "", e.what());
        return;
    }
    const SplitPlan plan = planSplit(n, v, spec.shuffle, spec.seed);
    s.trainRecords = int64_t(plan.train.size());
    s.validationRecords = int64_t(plan.validation.size());
    s.tokensPerEpoch = s.targetTokensPerEpoch = 0;
    if (int64_t(result.lengths.size()) != n)
        return; // not tokenised
    for (int64_t i : plan.train) {
        s.tokensPerEpoch += result.lengths[size_t(i)];
        s.targetTokensPerEpoch += result.targets[size_t(i)];
    }
}

} // namespace lathe
