// Acceptance 3 and the pieces under it: preparing alpaca_en_demo.json with the Qwen
// tokenizer gives the same content hash twice and a different one after one changed
// character; the cached form loads back identical, a damaged cache is rebuilt, another
// option is another cache entry. Also: SHA-256 against FIPS 180-2 vectors, SplitMix64
// against its published first outputs, splits, percentiles, deduplication, truncation,
// preference pairs, and DatasetSpec's JSON form and its error messages.
#include "DataTestUtil.h"

#include "data/DatasetCache.h"
#include "data/DatasetSplit.h"
#include "data/PrepareOptions.h"
#include "data/Sha256.h"

#include <filesystem>

using namespace lathe;
using namespace lathe::test;

namespace {

DatasetSpec alpacaSpec()
{
    DatasetSpec spec;
    spec.path = llamaFactory("alpaca_en_demo.json");
    spec.validationRatio = 0.1;
    spec.seed = 7;
    return spec;
}

void sameData(const TokenizedDataset &a, const TokenizedDataset &b)
{
    QCOMPARE(a.offsets, b.offsets);
    QCOMPARE(a.tokens, b.tokens);
    QCOMPARE(a.lossMask, b.lossMask);
    QCOMPARE(a.hash, b.hash);
}

} // namespace

class TestPrepare : public QObject
{
    Q_OBJECT
    Tokenizer m_qwen = fixtureTokenizer("qwen");
    std::string m_qwenTemplate = fixtureTemplate("qwen");
    QTemporaryDir m_dir;

private slots:
    void sha256Vectors()
    {
        QCOMPARE(Sha256::hashHex(""), std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
        QCOMPARE(Sha256::hashHex("abc"), std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        QCOMPARE(Sha256::hashHex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                 std::string("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
        // One million 'a', fed in uneven pieces.
        Sha256 h;
        const std::string chunk(997, 'a');
        size_t fed = 0;
        while (fed + chunk.size() <= 1000000) {
            h.update(chunk);
            fed += chunk.size();
        }
        h.update(std::string(1000000 - fed, 'a'));
        QCOMPARE(h.hexDigest(), std::string("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
    }

    void splitMix64AndSplits()
    {
        SplitMix64 g(0);
        QCOMPARE(g.next(), uint64_t(0xe220a8397b1dcdafull)); // the generator's published first outputs
        QCOMPARE(g.next(), uint64_t(0x6e789e6aa1b965f4ull));
        QCOMPARE(g.next(), uint64_t(0x06c45d188009454full));
        // Fisher-Yates (i from n down to 2, j = below(i)), worked out independently.
        const SplitPlan p = planSplit(10, 3, true, 7);
        QCOMPARE(p.validation, (std::vector<int64_t>{8, 1, 5}));
        QCOMPARE(p.train, (std::vector<int64_t>{9, 0, 4, 3, 2, 6, 7}));
        const SplitPlan ordered = planSplit(5, 2, false, 7);
        QCOMPARE(ordered.train, (std::vector<int64_t>{0, 1, 2}));
        QCOMPARE(ordered.validation, (std::vector<int64_t>{3, 4}));
        QCOMPARE(validationSize(999, 0.1, 0), int64_t(100));
        QCOMPARE(validationSize(3, 0.01, 0), int64_t(1)); // at least one when asked for
        QCOMPARE(validationSize(1, 0.5, 0), int64_t(0));  // one record cannot be split
        QCOMPARE(validationSize(10, 0.0, 4), int64_t(4));
        QVERIFY_THROWS_EXCEPTION(Error, validationSize(4, 0.0, 4));
        QVERIFY_THROWS_EXCEPTION(Error, validationSize(4, 0.2, 1));
    }

    void percentiles()
    {
        const std::vector<int64_t> v = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        QCOMPARE(percentile(v, 50), int64_t(5));
        QCOMPARE(percentile(v, 90), int64_t(9));
        QCOMPARE(percentile(v, 95), int64_t(10));
        QCOMPARE(percentile(v, 99), int64_t(10));
        const LengthSummary s = LengthSummary::of({40, 3, 17, 16, 100});
        QCOMPARE(s.min, int64_t(3));
        QCOMPARE(s.max, int64_t(100));
        QCOMPARE(s.total, int64_t(176));
        QCOMPARE(s.mean, 35.2);
        QCOMPARE(s.p50, int64_t(17));
        QCOMPARE(s.bucketUpper, (std::vector<int64_t>{16, 32, 64, 128}));
        QCOMPARE(s.bucketCount, (std::vector<int64_t>{2, 1, 1, 1}));
        QCOMPARE(LengthSummary::fromJson(s.toJson()).toJson(), s.toJson());
    }

    void deterministicHash()
    {
        const DatasetSpec spec = alpacaSpec();
        const PreparedSplits a = prepareDataset(spec, m_qwen, m_qwenTemplate);
        const PreparedSplits b = prepareDataset(spec, m_qwen, m_qwenTemplate);
        QCOMPARE(a.format, std::string("alpaca"));
        QCOMPARE(a.train.records(), int64_t(899));
        QCOMPARE(a.validation.records(), int64_t(100));
        QCOMPARE(a.hash.size(), size_t(64));
        QCOMPARE(a.hash, b.hash);
        sameData(a.train, b.train);
        sameData(a.validation, b.validation);
        QVERIFY(a.train.hash != a.validation.hash);
        QCOMPARE(a.train.hash, contentHash(a.train));
        QCOMPARE(a.stats.records, int64_t(999));
        QCOMPARE(a.stats.duplicates, int64_t(14));
        QCOMPARE(a.stats.tokensPerEpoch, int64_t(a.train.tokens.size()));

        // One character changed (the 'D' of the first instruction) changes the hash.
        std::string text = readText(spec.path);
        const size_t at = text.find("Describe a process of making crepes.");
        QVERIFY(at != std::string::npos);
        text[at] = 'd';
        DatasetSpec changed = spec;
        changed.path = tempFile(m_dir, "alpaca_changed.json", text);
        const PreparedSplits c = prepareDataset(changed, m_qwen, m_qwenTemplate);
        QVERIFY(c.hash != a.hash);
        QCOMPARE(c.train.records() + c.validation.records(), int64_t(999));
        // A different seed orders the records differently: another hash, the same tokens.
        DatasetSpec reseeded = spec;
        reseeded.seed = 8;
        const PreparedSplits d = prepareDataset(reseeded, m_qwen, m_qwenTemplate);
        QVERIFY(d.hash != a.hash);
        QCOMPARE(d.train.tokens.size() + d.validation.tokens.size(), a.train.tokens.size() + a.validation.tokens.size());
    }

    void cacheRoundTrip()
    {
        DatasetSpec spec = alpacaSpec();
        spec.cacheDir = m_dir.filePath("cache").toStdString();
        std::string status;
        PrepareOptions options;
        options.cacheStatus = &status;
        const PreparedSplits first = prepareDataset(spec, m_qwen, m_qwenTemplate, options);
        QVERIFY(!first.fromCache);
        QCOMPARE(status, std::string("missing"));
        QVERIFY(std::filesystem::exists(first.cachePath));
        const PreparedSplits second = prepareDataset(spec, m_qwen, m_qwenTemplate, options);
        QVERIFY(second.fromCache);
        QCOMPARE(second.cachePath, first.cachePath);
        QCOMPARE(second.hash, first.hash);
        sameData(second.train, first.train);
        sameData(second.validation, first.validation);
        QCOMPARE(second.format, std::string("alpaca"));
        QCOMPARE(second.stats.toJson(), first.stats.toJson());
        QCOMPARE(second.issues.warnings(), first.issues.warnings());
        QCOMPARE(issueTexts(second.issues), issueTexts(first.issues));

        // The header names what the entry was made from.
        CacheIdentity id;
        id.dataHash = fileSha256(spec.path);
        QCOMPARE(id.dataHash, Sha256::hashHex(readText(spec.path)));
        id.tokenizerHash = tokenizerFingerprint(m_qwen);
        id.templateHash = Sha256::hashHex(m_qwenTemplate);
        id.key = datasetCacheKey(spec, id.dataHash, id.tokenizerHash, m_qwenTemplate);
        std::string why;
        QVERIFY(readDatasetCache(first.cachePath, id, m_qwen.vocabSize(), &why).has_value());
        CacheIdentity otherId = id;
        otherId.tokenizerHash = tokenizerFingerprint(fixtureTokenizer("llama3"));
        QVERIFY(!readDatasetCache(first.cachePath, otherId, m_qwen.vocabSize(), &why));
        QCOMPARE(why, std::string("another tokenizer"));
        otherId = id;
        otherId.templateHash = Sha256::hashHex("{{ messages }}");
        QVERIFY(!readDatasetCache(first.cachePath, otherId, m_qwen.vocabSize(), &why));
        QCOMPARE(why, std::string("another chat template"));

        // A flipped token byte: detected, rebuilt, the same data again.
        {
            std::fstream f(first.cachePath, std::ios::in | std::ios::out | std::ios::binary);
            f.seekg(0, std::ios::end);
            const auto size = f.tellg();
            f.seekp(size / 2);
            char c = 0;
            f.seekg(size / 2);
            f.read(&c, 1);
            c = char(c ^ 0x40);
            f.seekp(size / 2);
            f.write(&c, 1);
        }
        const PreparedSplits third = prepareDataset(spec, m_qwen, m_qwenTemplate, options);
        QVERIFY(!third.fromCache);
        QVERIFY2(status.rfind("damaged", 0) == 0, status.c_str());
        QCOMPARE(third.hash, first.hash);
        QVERIFY(prepareDataset(spec, m_qwen, m_qwenTemplate, options).fromCache);
        // Cut short: rebuilt too.
        std::filesystem::resize_file(first.cachePath, 1000);
        QVERIFY(!prepareDataset(spec, m_qwen, m_qwenTemplate, options).fromCache);
        QCOMPARE(status, std::string("damaged: the sizes do not add up to the file size"));
        // Another option, another entry; another template, another entry.
        DatasetSpec other = spec;
        other.maxLength = 64;
        const PreparedSplits o = prepareDataset(other, m_qwen, m_qwenTemplate, options);
        QVERIFY(!o.fromCache);
        QVERIFY(o.cachePath != first.cachePath);
        other = spec;
        other.chatTemplate = "chatml";
        QVERIFY(!prepareDataset(other, m_qwen, m_qwenTemplate, options).fromCache);
        QVERIFY(prepareDataset(spec, m_qwen, m_qwenTemplate, options).fromCache);
        // No stray temporary files.
        for (const auto &e : std::filesystem::directory_iterator(spec.cacheDir))
            QVERIFY2(e.path().extension() == ".lathe-data", e.path().c_str());
    }

    void truncationAndDedupe()
    {
        const std::string path = tempFile(m_dir, "short.jsonl",
                                          "{\"instruction\": \"one two three\", \"output\": \"four five six seven\"}\n"
                                          "{\"instruction\": \"x\", \"output\": \"y\"}\n"
                                          "{\"instruction\": \"x\", \"output\": \"y\"}\n");
        DatasetSpec spec;
        spec.path = path;
        spec.chatTemplate = "chatml";
        spec.shuffle = false;
        // chatml: "<|im_start|>user\n" (3 tokens) + text + "<|im_end|>\n<|im_start|>assistant\n" (5) + answer + "<|im_end|>\n" (2)
        const PreparedSplits full = prepareDataset(spec, m_qwen, "");
        QCOMPARE(full.train.records(), int64_t(3));
        QCOMPARE(full.stats.duplicates, int64_t(1));
        const int64_t firstLength = full.train.recordLength(0);
        spec.maxLength = firstLength - 2;
        spec.dedupe = true;
        const PreparedSplits cut = prepareDataset(spec, m_qwen, "");
        QCOMPARE(cut.train.records(), int64_t(2));
        QCOMPARE(cut.stats.duplicatesRemoved, int64_t(1));
        QCOMPARE(cut.train.recordLength(0), firstLength - 2);
        QCOMPARE(cut.stats.truncated, int64_t(1));
        QCOMPARE(cut.stats.targetTokensLost, int64_t(2)); // "<|im_end|>" and "\n" were trained
        QCOMPARE(cut.stats.total.max, firstLength);       // lengths before truncation
        const std::vector<std::string> warnings = {
            path + ":1: warning: " + std::to_string(firstLength) + " tokens, longer than max_length " +
                std::to_string(firstLength - 2) + "; truncated (2 response tokens cut)",
            path + ":3: warning: duplicate of the record at line 2; removed"};
        QCOMPARE(issueTexts(cut.issues), warnings);
        spec.overflow = "drop";
        const PreparedSplits dropped = prepareDataset(spec, m_qwen, "");
        QCOMPARE(dropped.train.records(), int64_t(1));
        QCOMPARE(dropped.stats.droppedOverLength, int64_t(1));
    }

    void preferenceKeepsBothSides()
    {
        DatasetSpec spec;
        spec.path = llamaFactory("dpo_en_demo.json");
        spec.validationCount = 30;
        const PreparedSplits p = prepareDataset(spec, m_qwen, m_qwenTemplate);
        QCOMPARE(p.format, std::string("preference"));
        QCOMPARE(p.style, std::string("sharegpt"));
        QCOMPARE(p.train.records(), int64_t(270));
        QCOMPARE(p.trainRejected.records(), int64_t(270));
        QCOMPARE(p.validationRejected.records(), int64_t(30));
        // Record for record the same prompt: the untrained head of both sides is identical.
        for (int64_t r = 0; r < p.train.records(); ++r) {
            const auto b = p.train.offsets[size_t(r)], rb = p.trainRejected.offsets[size_t(r)];
            int64_t n = 0;
            while (n < p.train.recordLength(r) && !p.train.lossMask[size_t(b + n)])
                ++n;
            QVERIFY(n < p.train.recordLength(r));
            for (int64_t i = 0; i < n; ++i)
                QCOMPARE(p.trainRejected.tokens[size_t(rb + i)], p.train.tokens[size_t(b + i)]);
        }
    }

    void specJson()
    {
        DatasetSpec s;
        s.path = "data.jsonl";
        s.format = "sharegpt";
        s.fieldMap = {{"messages", "dialog"}};
        s.chatTemplate = "chatml";
        s.trainOn = "last";
        s.validationRatio = 0.05;
        s.seed = 42;
        s.shuffle = false;
        s.dedupe = true;
        s.maxLength = 2048;
        s.cacheDir = "cache";
        s.overflow = "drop";
        s.textUnit = "paragraph";
        const DatasetSpec back = DatasetSpec::fromJson(s.toJson(), "spec.json: data");
        QCOMPARE(back.toJson(), s.toJson());
        QCOMPARE(back.fieldMap, s.fieldMap);
        QCOMPARE(back.seed, uint64_t(42));
        QCOMPARE(DatasetSpec::fromJson(nlohmann::json::object(), "x").toJson(), DatasetSpec().toJson());

        auto message = [](const char *json) {
            try {
                DatasetSpec::fromJson(nlohmann::json::parse(json), "spec.json: data");
            } catch (const Error &e) {
                return std::string(e.what());
            }
            return std::string("no error");
        };
        QCOMPARE(message(R"({"validaton_ratio": 0.1})"), std::string("spec.json: data: unknown key 'validaton_ratio'"));
        QCOMPARE(message(R"({"format": "csv"})"),
                 std::string("spec.json: data.format: 'csv' is not one of auto, alpaca, sharegpt, messages, "
                             "prompt_completion, text, preference"));
        QCOMPARE(message(R"({"max_length": "long"})"), std::string("spec.json: data.max_length: expected an integer"));
        QCOMPARE(message(R"({"validation_ratio": 1.5})"),
                 std::string("spec.json: data.validation_ratio: must be in [0, 1), got 1.500000"));
        QCOMPARE(message(R"({"field_map": {"answer": "out"}})"),
                 std::string("spec.json: data: field_map: unknown field 'answer' (known: prompt, query, response, "
                             "system, history, messages, tools, chosen, rejected, text, completion, role_tag, "
                             "content_tag, user_tag, assistant_tag, observation_tag, function_tag, system_tag)"));
        QCOMPARE(message(R"({"shuffle": 1})"), std::string("spec.json: data.shuffle: expected true or false"));
        QCOMPARE(message("[]"), std::string("spec.json: data: expected an object"));
    }
};

QTEST_GUILESS_MAIN(TestPrepare)
#include "tst_prepare.moc"
