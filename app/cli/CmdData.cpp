// lathe-cli data: look at a dataset before training on it. inspect shows the detected
// format and what the first records become (canonical turns, rendered text with the
// trained spans marked, tokens); validate lists every error and warning with its line;
// stats gives counts and token-length distributions; prepare tokenises, splits and
// caches the data and prints its content hash. Every subcommand has --json.
#include "CliCommon.h"
#include "Commands.h"
#include "core/Error.h"
#include "core/ThreadPool.h"
#include "data/DatasetCache.h"
#include "data/DatasetPipeline.h"
#include "data/PrepareOptions.h"
#include "model/gguf/GgufFile.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

namespace lathe::cli {

namespace {

using Json = nlohmann::ordered_json;

void addCommonOptions(ArgParser &a, bool needsTokenizer)
{
    a.positional("FILE", "dataset: .json, .jsonl, .csv, .tsv or .txt")
        .option("tokenizer", "PATH", std::string("tokenizer.json, tokenizer.model, GGUF file or model folder") +
                                          (needsTokenizer ? "" : " (renders and tokenises when given)"))
        .option("spec", "FILE", "JSON with the dataset settings (a DatasetSpec, or a run spec's \"data\")")
        .option("format", "NAME", "auto, alpaca, sharegpt, messages, prompt_completion, text or preference", "auto")
        .option("fields", "MAP", "field names, e.g. prompt=question,response=answer (keys below)")
        .option("dataset-info", "FILE", "LLaMA-Factory dataset_info.json: take format and fields from its entry")
        .option("template", "NAME", "chat template: model, a built-in (chatml, llama3, ...) or a .jinja file",
                "model")
        .option("train-on", "WHICH", "assistant, last or all", "assistant")
        .option("max-length", "N", "tokens per record (0: no limit)", "0")
        .option("overflow", "WHAT", "over-long records: truncate or drop", "truncate")
        .option("text-unit", "UNIT", ".txt records: line or paragraph", "line")
        .option("validation-ratio", "R", "share of records held out for validation", "0")
        .option("validation-count", "N", "records held out for validation", "0")
        .option("seed", "N", "shuffle seed", "0")
        .flag("no-shuffle", "keep the file order")
        .flag("dedupe", "remove duplicate records")
        .flag("drop-invalid", "leave records with errors out instead of failing")
        .option("threads", "N", "CPU threads (0: all)", "0")
        .flag("json", "machine-readable output")
        .epilog("Formats and their fields (LLaMA-Factory's column and tag names; --fields renames them):\n"
                "  alpaca             prompt=instruction query=input response=output system history\n"
                "  sharegpt           messages=conversations tools; role_tag=from content_tag=value\n"
                "                     user_tag=human assistant_tag=gpt system_tag=system\n"
                "                     function_tag=function_call observation_tag=observation\n"
                "  messages           messages tools; role_tag=role content_tag=content (OpenAI)\n"
                "  prompt_completion  prompt completion system\n"
                "  text               text (every .txt file: one record per line, or per paragraph)\n"
                "  preference         chosen rejected, with an alpaca prompt, ShareGPT conversations, or\n"
                "                     message lists (TRL: an optional prompt, else the shared turns)");
}

std::map<std::string, std::string> parseFieldMap(const std::string &text)
{
    std::map<std::string, std::string> out;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find(',', start);
        if (end == std::string::npos)
            end = text.size();
        const std::string item = text.substr(start, end - start);
        const size_t eq = item.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
            throw UsageError("--fields expects name=column pairs separated by commas, got '" + item + "'");
        out[item.substr(0, eq)] = item.substr(eq + 1);
        start = end + 1;
    }
    return out;
}

DatasetSpec specFromArgs(const ArgParser &a)
{
    DatasetSpec s;
    if (a.has("spec")) {
        std::ifstream in(a.value("spec"), std::ios::binary);
        if (!in)
            fail("cannot open " + a.value("spec"));
        nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
        if (j.is_discarded())
            fail(a.value("spec") + ": not valid JSON");
        const bool runSpec = j.is_object() && j.contains("data") && j["data"].is_object();
        s = DatasetSpec::fromJson(runSpec ? j["data"] : j, a.value("spec") + (runSpec ? ": data" : ""));
    }
    s.path = a.positionalValue(0);
    if (a.has("dataset-info")) {
        const auto entry = findDatasetInfo(a.value("dataset-info"), std::filesystem::path(s.path).filename().string());
        if (!entry)
            fail(a.value("dataset-info") + ": no entry has file_name " + std::filesystem::path(s.path).filename().string());
        s.format = entry->format;
        s.fieldMap = entry->fieldMap;
    }
    // Only options given on the command line override the spec (or the defaults).
    auto given = [&](const char *name) { return a.has(name); };
    if (a.has("format"))
        s.format = a.value("format");
    if (a.has("fields"))
        s.fieldMap = parseFieldMap(a.value("fields"));
    checkFieldMap(s.fieldMap, "--fields");
    if (given("template"))
        s.chatTemplate = a.value("template");
    if (given("train-on"))
        s.trainOn = a.value("train-on");
    if (given("max-length"))
        s.maxLength = a.intValue("max-length", 0, int64_t(1) << 40);
    if (given("overflow"))
        s.overflow = a.value("overflow");
    if (given("text-unit"))
        s.textUnit = a.value("text-unit");
    if (given("validation-ratio"))
        s.validationRatio = a.doubleValue("validation-ratio", 0.0, 0.999999);
    if (given("validation-count"))
        s.validationCount = a.intValue("validation-count", 0, int64_t(1) << 40);
    if (given("seed"))
        s.seed = a.u64Value("seed");
    s.shuffle = a.has("no-shuffle") ? false : s.shuffle;
    s.dedupe = s.dedupe || a.has("dedupe");
    s.dropInvalid = s.dropInvalid || a.has("drop-invalid");
    // The same checks a spec file gets, with the same messages.
    s = DatasetSpec::fromJson(s.toJson(), "options");
    return s;
}

struct TokenizerAndTemplate
{
    std::optional<Tokenizer> tokenizer;
    std::string modelTemplate;
};

TokenizerAndTemplate openTokenizer(const ArgParser &a)
{
    namespace fs = std::filesystem;
    TokenizerAndTemplate out;
    if (!a.has("tokenizer"))
        return out;
    const std::string path = a.value("tokenizer");
    std::error_code ec;
    const bool folder = fs::is_directory(path, ec);
    out.tokenizer = folder ? tokenizerFromModelPath(path) : tokenizerFromFilePath(path);
    if (isGgufFile(path)) {
        out.modelTemplate = GgufFile::open(path)->getString("tokenizer.chat_template").value_or("");
    } else {
        const fs::path dir = folder ? fs::path(path) : fs::path(path).parent_path();
        out.modelTemplate = chatTemplateFromConfig((dir / "tokenizer_config.json").string());
    }
    return out;
}

Json issueJson(const Issue &i)
{
    return {{"severity", i.severity == Severity::Error ? "error" : "warning"},
            {"file", i.file},
            {"line", i.line},
            {"field", i.field},
            {"message", i.message}};
}

Json issuesJson(const IssueList &issues)
{
    Json items = Json::array();
    for (const Issue &i : issues.items())
        items.push_back(issueJson(i));
    return {{"errors", issues.errors()}, {"warnings", issues.warnings()}, {"truncated", issues.truncated()},
            {"items", items}};
}

Json formatJson(const PipelineResult &r)
{
    Json scores = Json::object();
    for (const auto &[name, share] : r.guess.scores)
        scores[name] = share;
    return {{"reader", r.readerKind},       {"format", r.format.format}, {"style", r.format.style},
            {"confidence", r.guess.confidence}, {"reason", r.guess.reason}, {"scores", scores}};
}

void printJson(const Json &j) { std::printf("%s\n", j.dump(2, ' ', false, Json::error_handler_t::replace).c_str()); }

void printIssues(const IssueList &issues, size_t limit)
{
    size_t shown = 0;
    for (const Issue &i : issues.items())
        if (shown++ < limit)
            std::printf("%s\n", i.text().c_str());
    if (int64_t(shown) < issues.errors() + issues.warnings())
        std::printf("... (%lld more)\n", (long long)(issues.errors() + issues.warnings() - int64_t(std::min(shown, limit))));
}

void printFormat(const PipelineResult &r)
{
    if (r.readerKind.empty())
        return; // the file could not be opened: the issue says why
    std::printf("reader:     %s\n", r.readerKind.c_str());
    if (r.format.format.empty())
        std::printf("format:     unknown (%s)\n", r.guess.reason.c_str());
    else
        std::printf("format:     %s (confidence %.2f: %s)\n", r.format.name().c_str(), r.guess.confidence,
                    r.guess.reason.c_str());
}

// The rendered text with the trained spans between [[ and ]].
std::string markedText(const RenderedRecord &r)
{
    std::string out;
    size_t at = 0;
    for (const auto &[s, e] : r.targetSpans) {
        out += r.text.substr(at, s - at) + "[[" + r.text.substr(s, e - s) + "]]";
        at = e;
    }
    return out + r.text.substr(at);
}

Json renderedJson(const RenderedRecord &r)
{
    Json spans = Json::array();
    for (const auto &[s, e] : r.targetSpans)
        spans.push_back({s, e});
    return {{"text", r.text}, {"target_spans", spans}, {"tokens", r.ids}, {"mask", r.mask},
            {"target_tokens", r.targetTokens()}};
}

void printSummary(const char *name, const LengthSummary &s)
{
    std::printf("%-9s mean %.1f  min %lld  p50 %lld  p90 %lld  p95 %lld  p99 %lld  max %lld  total %lld\n", name,
                s.mean, (long long)s.min, (long long)s.p50, (long long)s.p90, (long long)s.p95, (long long)s.p99,
                (long long)s.max, (long long)s.total);
}

void printHistogram(const LengthSummary &s)
{
    int64_t most = 1;
    for (int64_t c : s.bucketCount)
        most = std::max(most, c);
    for (size_t b = 0; b < s.bucketUpper.size(); ++b) {
        const int bar = int(40 * s.bucketCount[b] / most);
        std::printf("  <= %-7lld %7lld %s\n", (long long)s.bucketUpper[b], (long long)s.bucketCount[b],
                    std::string(size_t(bar), '#').c_str());
    }
}

int runInspect(const Args &argv)
{
    ArgParser a("data inspect", "FILE [--tokenizer PATH] [--records N] [options]",
                "Detects the format of FILE and shows what its first records become: the canonical\n"
                "conversation and, with --tokenizer, the rendered text (trained spans between [[ and ]])\n"
                "and the token ids with their loss mask.");
    addCommonOptions(a, false);
    a.option("records", "N", "records to show", "3").flag("tokens", "also list the token ids and mask");
    if (!a.parse(argv))
        return 0;
    const DatasetSpec spec = specFromArgs(a);
    const int64_t count = a.intValue("records", 0, 1 << 20);
    TokenizerAndTemplate tt = openTokenizer(a);
    std::vector<PipelineRecord> shown;
    PipelineResult r = runDatasetPipeline(spec, tt.tokenizer ? &*tt.tokenizer : nullptr, tt.modelTemplate,
                                          [&](PipelineRecord &&p) {
                                              shown.push_back(std::move(p));
                                              return int64_t(shown.size()) < count;
                                          });
    if (a.has("json")) {
        Json records = Json::array();
        for (const PipelineRecord &p : shown) {
            Json j = {{"line", p.record.line}, {"record", p.record.toJson()}};
            if (tt.tokenizer) {
                j["rendered"] = renderedJson(p.chosen);
                if (p.record.kind == RecordKind::Preference)
                    j["rendered_rejected"] = renderedJson(p.rejected);
            }
            records.push_back(std::move(j));
        }
        printJson({{"file", spec.path}, {"detection", formatJson(r)}, {"records", records},
                   {"issues", issuesJson(r.issues)}});
        return 0;
    }
    std::printf("file:       %s\n", spec.path.c_str());
    printFormat(r);
    for (const PipelineRecord &p : shown) {
        std::printf("\n== record at line %lld (%s)\n", (long long)p.record.line, recordKindName(p.record.kind));
        std::printf("%s\n", p.record.toJson().dump(2, ' ', false, Json::error_handler_t::replace).c_str());
        for (const RenderedRecord *rr : {&p.chosen, &p.rejected}) {
            if (!tt.tokenizer || rr->ids.empty())
                continue;
            std::printf("-- rendered%s: %zu tokens, %lld trained\n%s\n", rr == &p.rejected ? " (rejected)" : "",
                        rr->ids.size(), (long long)rr->targetTokens(), markedText(*rr).c_str());
            if (a.has("tokens")) {
                for (size_t i = 0; i < rr->ids.size(); ++i)
                    std::printf("%d%s ", rr->ids[i], rr->mask[i] ? "*" : "");
                std::printf("\n(* = carries loss)\n");
            }
        }
    }
    if (r.issues.errors() + r.issues.warnings() > 0) {
        std::printf("\n");
        printIssues(r.issues, 20);
    }
    return 0;
}

int runValidate(const Args &argv)
{
    ArgParser a("data validate", "FILE [--tokenizer PATH] [options]",
                "Reads every record of FILE and lists each error and warning with its line and field.\n"
                "With --tokenizer the records are also rendered and tokenised (template errors,\n"
                "over-long records). Exit code 1 when there are errors (unless --drop-invalid).");
    addCommonOptions(a, false);
    a.option("limit", "N", "issues to print (human output)", "200");
    if (!a.parse(argv))
        return 0;
    const DatasetSpec spec = specFromArgs(a);
    TokenizerAndTemplate tt = openTokenizer(a);
    ThreadPool pool(threadsOption(a));
    PipelineOptions po;
    po.pool = &pool;
    PipelineResult r = runDatasetPipeline(spec, tt.tokenizer ? &*tt.tokenizer : nullptr, tt.modelTemplate, {}, po);
    const bool usable = r.stats.records > 0 && (r.issues.errors() == 0 || spec.dropInvalid);
    if (a.has("json")) {
        printJson({{"file", spec.path},
                   {"detection", formatJson(r)},
                   {"records_read", r.stats.recordsRead},
                   {"records_usable", r.stats.records},
                   {"records_invalid", r.stats.recordsInvalid},
                   {"usable", usable},
                   {"issues", issuesJson(r.issues)}});
    } else {
        printIssues(r.issues, size_t(a.intValue("limit", 0, 1 << 30)));
        printFormat(r);
        std::printf("records:    %lld read, %lld usable, %lld invalid, %lld skipped\n",
                    (long long)r.stats.recordsRead, (long long)r.stats.records, (long long)r.stats.recordsInvalid,
                    (long long)r.stats.recordsSkipped);
        std::printf("result:     %lld errors, %lld warnings: %s\n", (long long)r.issues.errors(),
                    (long long)r.issues.warnings(),
                    usable ? (r.issues.errors() ? "usable (bad records are dropped)" : "ready to train on")
                           : "not usable for training");
    }
    return usable ? 0 : 1;
}

int runStats(const Args &argv)
{
    ArgParser a("data stats", "FILE --tokenizer PATH [options]",
                "Counts records and tokens of FILE as it would be prepared: token-length percentiles and\n"
                "histograms (prompt, response, total), tokens per epoch, truncation and duplicates.");
    addCommonOptions(a, true);
    if (!a.parse(argv))
        return 0;
    const DatasetSpec spec = specFromArgs(a);
    TokenizerAndTemplate tt = openTokenizer(a);
    if (!tt.tokenizer)
        throw UsageError("stats needs --tokenizer (token counts depend on it)");
    ThreadPool pool(threadsOption(a));
    PipelineOptions po;
    po.pool = &pool;
    PipelineResult r = runDatasetPipeline(spec, &*tt.tokenizer, tt.modelTemplate, {}, po);
    finishStats(spec, r);
    const DatasetStats &s = r.stats;
    if (a.has("json")) {
        printJson({{"file", spec.path}, {"detection", formatJson(r)}, {"stats", s.toJson()},
                   {"issues", issuesJson(r.issues)}});
        return 0;
    }
    printFormat(r);
    std::printf("records:    %lld usable of %lld read (%lld invalid, %lld skipped, %lld duplicates%s)\n",
                (long long)s.records, (long long)s.recordsRead, (long long)s.recordsInvalid,
                (long long)s.recordsSkipped, (long long)s.duplicates, spec.dedupe ? ", removed" : "");
    std::printf("split:      %lld train, %lld validation\n", (long long)s.trainRecords, (long long)s.validationRecords);
    std::printf("epoch:      %lld tokens, %lld of them trained\n", (long long)s.tokensPerEpoch,
                (long long)s.targetTokensPerEpoch);
    if (s.maxLength > 0)
        std::printf("max_length: %lld: %lld records longer, %lld truncated (%lld response tokens cut), %lld dropped\n",
                    (long long)s.maxLength, (long long)s.overLength, (long long)s.truncated,
                    (long long)s.targetTokensLost, (long long)s.droppedOverLength);
    std::printf("\ntokens per record (before truncation):\n");
    printSummary("prompt", s.prompt);
    printSummary("response", s.response);
    printSummary("total", s.total);
    std::printf("\nhistogram of total tokens:\n");
    printHistogram(s.total);
    if (r.issues.errors() > 0)
        std::printf("\n%lld errors (run 'lathe-cli data validate' for the list)\n", (long long)r.issues.errors());
    return 0;
}

int runPrepare(const Args &argv)
{
    ArgParser a("data prepare", "FILE --tokenizer PATH [--cache-dir DIR] [options]",
                "Tokenises FILE with the loss mask, splits it and writes the prepared form to the cache\n"
                "(keyed by the data, tokenizer, template and options; a second run loads it). Prints\n"
                "the content hash a training run records.");
    addCommonOptions(a, true);
    a.option("cache-dir", "DIR", "where prepared datasets are kept (none: prepare only)");
    if (!a.parse(argv))
        return 0;
    DatasetSpec spec = specFromArgs(a);
    if (a.has("cache-dir"))
        spec.cacheDir = a.value("cache-dir");
    TokenizerAndTemplate tt = openTokenizer(a);
    if (!tt.tokenizer)
        throw UsageError("prepare needs --tokenizer");
    PrepareOptions options;
    options.threads = threadsOption(a);
    std::string cacheStatus;
    options.cacheStatus = &cacheStatus;
    const auto t0 = std::chrono::steady_clock::now();
    const PreparedSplits p = prepareDataset(spec, *tt.tokenizer, tt.modelTemplate, options);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const int64_t records = p.train.records() + p.validation.records();
    if (a.has("json")) {
        printJson({{"file", spec.path},
                   {"format", p.format},
                   {"style", p.style},
                   {"hash", p.hash},
                   {"train", {{"records", p.train.records()}, {"tokens", p.train.tokens.size()}, {"hash", p.train.hash}}},
                   {"validation",
                    {{"records", p.validation.records()}, {"tokens", p.validation.tokens.size()}, {"hash", p.validation.hash}}},
                   {"preference", p.trainRejected.records() > 0},
                   {"from_cache", p.fromCache},
                   {"cache_path", p.cachePath},
                   {"seconds", seconds},
                   {"records_per_second", seconds > 0 ? double(records) / seconds : 0.0},
                   {"stats", p.stats.toJson()},
                   {"issues", issuesJson(p.issues)}});
        return 0;
    }
    std::printf("format:     %s%s\n", p.format.c_str(), p.style != p.format ? (" (" + p.style + " style)").c_str() : "");
    std::printf("train:      %lld records, %zu tokens\n", (long long)p.train.records(), p.train.tokens.size());
    std::printf("validation: %lld records, %zu tokens\n", (long long)p.validation.records(), p.validation.tokens.size());
    if (p.trainRejected.records() > 0)
        std::printf("preference: chosen and rejected kept (%lld pairs)\n", (long long)p.trainRejected.records());
    std::printf("warnings:   %lld\n", (long long)p.issues.warnings());
    std::printf("hash:       %s\n", p.hash.c_str());
    if (!p.cachePath.empty())
        std::printf("cache:      %s (%s)\n", p.cachePath.c_str(),
                    p.fromCache ? "loaded" : ("written; " + cacheStatus + " before").c_str());
    std::printf("time:       %.3f s (%.0f records/s)\n", seconds, seconds > 0 ? double(records) / seconds : 0.0);
    return 0;
}

} // namespace

int runData(const Args &args)
{
    const std::string usage = "Usage: lathe-cli data inspect|validate|stats|prepare FILE [OPTIONS]\n"
                              "Run 'lathe-cli data SUBCOMMAND --help' for the options.\n";
    if (args.empty())
        throw UsageError("missing subcommand (inspect, validate, stats or prepare)");
    if (args[0] == "--help" || args[0] == "-h") {
        std::printf("%s", usage.c_str());
        return 0;
    }
    const Args rest(args.begin() + 1, args.end());
    if (args[0] == "inspect")
        return runInspect(rest);
    if (args[0] == "validate")
        return runValidate(rest);
    if (args[0] == "stats")
        return runStats(rest);
    if (args[0] == "prepare")
        return runPrepare(rest);
    throw UsageError("unknown subcommand '" + args[0] + "' (inspect, validate, stats or prepare)");
}

} // namespace lathe::cli
