// prepareDataset(): one pipeline pass collecting token ids, then the split, the content
// hashes and the cache. The cache is looked up before reading anything but the file's
// bytes (for its hash), so a second run costs a hash and a read.
#include "data/DatasetCache.h"
#include "data/DatasetPipeline.h"
#include "data/DatasetSplit.h"
#include "data/PrepareOptions.h"
#include "data/Sha256.h"

#include "core/Error.h"
#include "core/ThreadPool.h"
#include "tokenizer/Tokenizer.h"

#include <filesystem>

namespace lathe {

namespace {

TokenizedDataset gather(const TokenizedDataset &all, const std::vector<int64_t> &indices)
{
    TokenizedDataset out;
    int64_t n = 0;
    for (int64_t i : indices)
        n += all.recordLength(i);
    out.tokens.reserve(size_t(n));
    out.lossMask.reserve(size_t(n));
    out.offsets.reserve(indices.size() + 1);
    for (int64_t i : indices) {
        const auto b = all.offsets[size_t(i)], e = all.offsets[size_t(i) + 1];
        out.tokens.insert(out.tokens.end(), all.tokens.begin() + b, all.tokens.begin() + e);
        out.lossMask.insert(out.lossMask.end(), all.lossMask.begin() + b, all.lossMask.begin() + e);
        out.offsets.push_back(int64_t(out.tokens.size()));
    }
    return out;
}

std::string errorSummary(const DatasetSpec &spec, const IssueList &issues)
{
    const bool one = issues.errors() == 1;
    std::string msg = spec.path + ": " + std::to_string(issues.errors()) + (one ? " error" : " errors") +
                      " in the data; fix " + (one ? "it" : "them") + ", or set drop_invalid to leave the bad records out";
    int shown = 0;
    for (const Issue &i : issues.items())
        if (i.severity == Severity::Error && shown++ < 10)
            msg += "\n  " + i.text();
    if (issues.errors() > shown)
        msg += "\n  ...";
    return msg;
}

} // namespace

PreparedSplits prepareDataset(const DatasetSpec &spec, const Tokenizer &tokenizer, const std::string &modelChatTemplate)
{
    return prepareDataset(spec, tokenizer, modelChatTemplate, PrepareOptions{});
}

PreparedSplits prepareDataset(const DatasetSpec &spec, const Tokenizer &tokenizer, const std::string &modelChatTemplate,
                              const PrepareOptions &options)
{
    CacheIdentity id;
    std::string cachePath;
    if (!spec.cacheDir.empty()) {
        std::string source;
        try {
            source = resolveChatTemplate(spec, modelChatTemplate);
        } catch (const Error &) {
            // Text data needs no template; chat data fails in the pass below.
        }
        id.dataHash = fileSha256(spec.path);
        id.tokenizerHash = tokenizerFingerprint(tokenizer);
        id.templateHash = Sha256::hashHex(source);
        id.key = datasetCacheKey(spec, id.dataHash, id.tokenizerHash, source);
        cachePath = (std::filesystem::path(spec.cacheDir) / (id.key.substr(0, 32) + ".lathe-data")).string();
        std::string why;
        if (auto cached = readDatasetCache(cachePath, id, tokenizer.vocabSize(), &why)) {
            cached->fromCache = true;
            cached->cachePath = cachePath;
            return std::move(*cached);
        }
        if (options.cacheStatus)
            *options.cacheStatus = why;
    }

    ThreadPool pool(options.threads);
    TokenizedDataset all, allRejected;
    bool preference = false;
    PipelineOptions po;
    po.pool = &pool;
    po.progress = options.progress;
    PipelineResult res = runDatasetPipeline(
        spec, &tokenizer, modelChatTemplate,
        [&](PipelineRecord &&r) {
            all.append(r.chosen.ids, r.chosen.mask);
            if (r.record.kind == RecordKind::Preference) {
                preference = true;
                allRejected.append(r.rejected.ids, r.rejected.mask);
            }
            return true;
        },
        po);
    if (res.stopped)
        fail("preparing " + spec.path + ": cancelled");
    // A problem with the whole file or the template is not about records: say it alone.
    for (const Issue &i : res.issues.items())
        if (i.severity == Severity::Error && i.line == 0)
            fail(i.file + ": " + (i.field.empty() ? "" : i.field + ": ") + i.message);
    if (res.issues.errors() > 0 && !spec.dropInvalid)
        fail(errorSummary(spec, res.issues));
    if (all.records() == 0) {
        std::string msg = spec.path + ": nothing to train on: no record is usable";
        for (const Issue &i : res.issues.items())
            if (i.severity == Severity::Error) {
                msg += " (" + i.text() + ")";
                break;
            }
        fail(msg);
    }
    finishStats(spec, res);
    const int64_t v = validationSize(all.records(), spec.validationRatio, spec.validationCount);
    const SplitPlan plan = planSplit(all.records(), v, spec.shuffle, spec.seed);

    PreparedSplits out;
    out.train = gather(all, plan.train);
    out.validation = gather(all, plan.validation);
    if (preference) {
        out.trainRejected = gather(allRejected, plan.train);
        out.validationRejected = gather(allRejected, plan.validation);
    }
    for (TokenizedDataset *d : {&out.train, &out.validation, &out.trainRejected, &out.validationRejected})
        d->hash = contentHash(*d);
    out.hash = preparedHash(out);
    out.format = res.format.format;
    out.style = res.format.style;
    out.confidence = spec.format == "auto" ? res.guess.confidence : 1.0;
    out.stats = res.stats;
    out.issues = std::move(res.issues);
    if (!cachePath.empty()) {
        out.cachePath = cachePath;
        try {
            writeDatasetCache(cachePath, id, out);
        } catch (const Error &e) {
            out.issues.warning(spec.path, 0, "cache_dir", std::string("the prepared form is not cached: ") + e.what());
        }
    }
    return out;
}

} // namespace lathe
