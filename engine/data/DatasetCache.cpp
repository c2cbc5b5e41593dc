#include "data/DatasetCache.h"

#include "data/Sha256.h"

#include "core/Error.h"
#include "tokenizer/Tokenizer.h"

#include <nlohmann/json.hpp>

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <unistd.h>

namespace lathe {

static_assert(std::endian::native == std::endian::little, "the dataset cache is written little-endian");

namespace {

constexpr char kMagic[8] = {'L', 'A', 'T', 'H', 'E', 'D', 'S', '1'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderSize = 256;
constexpr uint64_t kMaxCount = uint64_t(1) << 40; // far beyond any dataset; bounds the size arithmetic

using File = std::unique_ptr<std::FILE, int (*)(std::FILE *)>;

std::string rawFromHex(const std::string &hex)
{
    std::string out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2)
        out += char(std::stoi(hex.substr(i, 2), nullptr, 16));
    return out;
}

size_t pad8(size_t n) { return (n + 7) & ~size_t(7); }

size_t splitBytes(uint64_t records, uint64_t tokens)
{
    return pad8(size_t((records + 1) * 8 + tokens * 4 + tokens));
}

TokenizedDataset *splitAt(PreparedSplits &s, int i)
{
    TokenizedDataset *all[4] = {&s.train, &s.validation, &s.trainRejected, &s.validationRejected};
    return all[i];
}

const TokenizedDataset *splitAt(const PreparedSplits &s, int i)
{
    const TokenizedDataset *all[4] = {&s.train, &s.validation, &s.trainRejected, &s.validationRejected};
    return all[i];
}

nlohmann::ordered_json issuesJson(const IssueList &issues)
{
    nlohmann::ordered_json items = nlohmann::ordered_json::array();
    for (const Issue &i : issues.items())
        items.push_back({i.severity == Severity::Error ? "error" : "warning", i.file, i.line, i.field, i.message});
    return {{"errors", issues.errors()}, {"warnings", issues.warnings()}, {"items", items}};
}

IssueList issuesFromJson(const nlohmann::ordered_json &j)
{
    IssueList list;
    int64_t errors = 0, warnings = 0;
    for (const auto &i : j.at("items")) {
        const bool error = i.at(0).get<std::string>() == "error";
        (error ? errors : warnings) += 1;
        list.add(error ? Severity::Error : Severity::Warning, i.at(1).get<std::string>(), i.at(2).get<int64_t>(),
                 i.at(3).get<std::string>(), i.at(4).get<std::string>());
    }
    // Issues counted but not kept when the cache was written still count.
    for (int64_t n = j.at("errors").get<int64_t>() - errors; n > 0; --n)
        list.add(Severity::Error, "", 0, "", "");
    for (int64_t n = j.at("warnings").get<int64_t>() - warnings; n > 0; --n)
        list.add(Severity::Warning, "", 0, "", "");
    return list;
}

} // namespace

std::string fileSha256(const std::string &path)
{
    File f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f)
        fail("cannot open " + path + ": " + std::strerror(errno));
    std::vector<char> buf(size_t(1) << 20);
    Sha256 h;
    for (size_t n; (n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0;)
        h.update(buf.data(), n);
    if (std::ferror(f.get()))
        fail("reading " + path + ": " + std::strerror(errno));
    return h.hexDigest();
}

std::string tokenizerFingerprint(const Tokenizer &tokenizer)
{
    // One buffer hashed at once: ~150k small updates would cost more than the hashing.
    std::string bytes;
    bytes.reserve(size_t(tokenizer.vocabSize()) * 12);
    auto u32 = [&](uint32_t v) { bytes.append(reinterpret_cast<const char *>(&v), 4); };
    bytes += "lathe-tokenizer-v1";
    u32(uint32_t(tokenizer.vocabSize()));
    for (int32_t id = 0; id < tokenizer.vocabSize(); ++id) {
        const std::string &piece = tokenizer.piece(id);
        u32(uint32_t(piece.size()) | (tokenizer.isSpecial(id) ? 0x80000000u : 0u));
        bytes += piece;
    }
    for (int32_t id : {tokenizer.bosId(), tokenizer.eosId(), tokenizer.eotId(), tokenizer.unkId(), tokenizer.padId()})
        u32(uint32_t(id));
    u32(tokenizer.addsBos());
    u32(tokenizer.addsEos());
    // Merges and normalisation are not visible through the interface; their effect is.
    const char *probe = "Hello, world! The quick brown fox's 12345 jumps   over\n\tthe lazy dog. "
                        "Ünïcödé café naïve — 日本語のテキスト 中文 한국어 Привет мир مرحبا 🙂 <|im_end|> </s>";
    for (int32_t id : tokenizer.encode(probe))
        u32(uint32_t(id));
    return Sha256::hashHex(bytes);
}

std::string contentHash(const TokenizedDataset &d)
{
    Sha256 h;
    h.updateString("lathe-tokenized-v1");
    h.updateU64(uint64_t(d.records()));
    h.update(d.offsets.data(), d.offsets.size() * sizeof(int64_t));
    h.updateU64(d.tokens.size());
    h.update(d.tokens.data(), d.tokens.size() * sizeof(int32_t));
    h.update(d.lossMask.data(), d.lossMask.size());
    return h.hexDigest();
}

std::string preparedHash(const PreparedSplits &s)
{
    Sha256 h;
    h.updateString("lathe-prepared-v1");
    for (const TokenizedDataset *d : {&s.train, &s.validation, &s.trainRejected, &s.validationRejected})
        h.updateString(contentHash(*d));
    return h.hexDigest();
}

std::string datasetCacheKey(const DatasetSpec &spec, const std::string &dataHash, const std::string &tokenizerHash,
                            const std::string &templateSource)
{
    nlohmann::json options = spec.toJson();
    options.erase("path");
    options.erase("cache_dir");
    Sha256 h;
    h.updateString("lathe-dataset-cache-v1");
    h.updateString(std::filesystem::path(spec.path).extension().string()); // picks the reader
    h.updateString(dataHash);
    h.updateString(tokenizerHash);
    h.updateString(templateSource);
    h.updateString(options.dump());
    return h.hexDigest();
}

void writeDatasetCache(const std::string &path, const CacheIdentity &id, const PreparedSplits &splits)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    if (const fs::path dir = fs::path(path).parent_path(); !dir.empty())
        fs::create_directories(dir, ec);
    nlohmann::ordered_json meta = {{"format", splits.format},
                                   {"style", splits.style},
                                   {"confidence", splits.confidence},
                                   {"stats", splits.stats.toJson()},
                                   {"issues", issuesJson(splits.issues)}};
    const std::string metaText = meta.dump();
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    {
        File f(std::fopen(tmp.c_str(), "wb"), &std::fclose);
        if (!f)
            fail("cannot write " + tmp + ": " + std::strerror(errno));
        std::vector<char> header(kHeaderSize, 0);
        std::memcpy(header.data(), kMagic, 8);
        std::memcpy(header.data() + 8, &kVersion, 4);
        const uint32_t headerSize = kHeaderSize;
        std::memcpy(header.data() + 12, &headerSize, 4);
        const std::string rawKey = rawFromHex(id.key), rawHash = rawFromHex(splits.hash);
        std::memcpy(header.data() + 16, rawKey.data(), std::min<size_t>(32, rawKey.size()));
        std::memcpy(header.data() + 48, rawHash.data(), std::min<size_t>(32, rawHash.size()));
        const uint64_t metaBytes = metaText.size();
        std::memcpy(header.data() + 80, &metaBytes, 8);
        const PreparedSplits &s = splits;
        for (int i = 0; i < 4; ++i) {
            const uint64_t counts[2] = {uint64_t(splitAt(s, i)->records()), splitAt(s, i)->tokens.size()};
            std::memcpy(header.data() + 88 + 16 * i, counts, 16);
        }
        size_t at = 152;
        for (const std::string *h : {&id.tokenizerHash, &id.templateHash, &id.dataHash}) {
            const std::string raw = rawFromHex(*h);
            std::memcpy(header.data() + at, raw.data(), std::min<size_t>(32, raw.size()));
            at += 32;
        }
        bool ok = std::fwrite(header.data(), 1, header.size(), f.get()) == header.size();
        const std::vector<char> zeros(8, 0);
        ok = ok && std::fwrite(metaText.data(), 1, metaText.size(), f.get()) == metaText.size();
        ok = ok && std::fwrite(zeros.data(), 1, pad8(metaText.size()) - metaText.size(), f.get()) ==
                       pad8(metaText.size()) - metaText.size();
        for (int i = 0; i < 4 && ok; ++i) {
            const TokenizedDataset &d = *splitAt(s, i);
            ok = std::fwrite(d.offsets.data(), 8, d.offsets.size(), f.get()) == d.offsets.size() &&
                 std::fwrite(d.tokens.data(), 4, d.tokens.size(), f.get()) == d.tokens.size() &&
                 std::fwrite(d.lossMask.data(), 1, d.lossMask.size(), f.get()) == d.lossMask.size();
            const size_t used = d.offsets.size() * 8 + d.tokens.size() * 5;
            ok = ok && std::fwrite(zeros.data(), 1, pad8(used) - used, f.get()) == pad8(used) - used;
        }
        ok = ok && std::fflush(f.get()) == 0 && ::fsync(fileno(f.get())) == 0;
        if (!ok) {
            const std::string why = std::strerror(errno);
            f.reset();
            fs::remove(tmp, ec);
            fail("writing " + tmp + ": " + why);
        }
    }
    fs::rename(tmp, path, ec);
    if (ec) {
        fs::remove(tmp, ec);
        fail("cannot rename " + tmp + " to " + path + ": " + ec.message());
    }
}

std::optional<PreparedSplits> readDatasetCache(const std::string &path, const CacheIdentity &id, int32_t vocabSize,
                                               std::string *why)
{
    auto reject = [&](const std::string &reason) -> std::optional<PreparedSplits> {
        if (why)
            *why = reason;
        return std::nullopt;
    };
    File f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f)
        return reject("missing");
    std::error_code ec;
    const uint64_t fileSize = std::filesystem::file_size(path, ec);
    if (ec || fileSize < kHeaderSize)
        return reject("damaged: shorter than its header");
    char header[kHeaderSize];
    if (std::fread(header, 1, kHeaderSize, f.get()) != kHeaderSize)
        return reject("damaged: cannot read the header");
    uint32_t version = 0, headerSize = 0;
    std::memcpy(&version, header + 8, 4);
    std::memcpy(&headerSize, header + 12, 4);
    if (std::memcmp(header, kMagic, 8) != 0)
        return reject("damaged: not a Lathe dataset cache");
    if (version != kVersion || headerSize != kHeaderSize)
        return reject("another cache version");
    const char *names[3] = {"another tokenizer", "another chat template", "another version of the data"};
    const std::string *hashes[3] = {&id.tokenizerHash, &id.templateHash, &id.dataHash};
    for (int i = 0; i < 3; ++i)
        if (std::string(header + 152 + 32 * i, 32) != rawFromHex(*hashes[i]))
            return reject(names[i]);
    if (std::string(header + 16, 32) != rawFromHex(id.key))
        return reject("another key");
    uint64_t metaBytes = 0, counts[4][2];
    std::memcpy(&metaBytes, header + 80, 8);
    std::memcpy(counts, header + 88, 64);
    if (metaBytes > kMaxCount)
        return reject("damaged: bad metadata size");
    uint64_t expected = kHeaderSize + pad8(size_t(metaBytes));
    for (auto &c : counts) {
        if (c[0] > kMaxCount || c[1] > kMaxCount)
            return reject("damaged: bad counts");
        expected += splitBytes(c[0], c[1]);
    }
    if (expected != fileSize)
        return reject("damaged: the sizes do not add up to the file size");

    PreparedSplits out;
    try {
        std::string metaText(size_t(metaBytes), '\0');
        char pad[8];
        if (std::fread(metaText.data(), 1, metaText.size(), f.get()) != metaText.size() ||
            std::fread(pad, 1, pad8(metaText.size()) - metaText.size(), f.get()) != pad8(metaText.size()) - metaText.size())
            return reject("damaged: cannot read the metadata");
        const auto meta = nlohmann::ordered_json::parse(metaText);
        out.format = meta.at("format").get<std::string>();
        out.style = meta.at("style").get<std::string>();
        out.confidence = meta.at("confidence").get<double>();
        out.stats = DatasetStats::fromJson(meta.at("stats"));
        out.issues = issuesFromJson(meta.at("issues"));
    } catch (const nlohmann::json::exception &e) {
        return reject(std::string("damaged: metadata: ") + e.what());
    }
    for (int i = 0; i < 4; ++i) {
        TokenizedDataset &d = *splitAt(out, i);
        d.offsets.resize(size_t(counts[i][0] + 1));
        d.tokens.resize(size_t(counts[i][1]));
        d.lossMask.resize(size_t(counts[i][1]));
        const size_t used = d.offsets.size() * 8 + d.tokens.size() * 5;
        char pad[8];
        if (std::fread(d.offsets.data(), 8, d.offsets.size(), f.get()) != d.offsets.size() ||
            std::fread(d.tokens.data(), 4, d.tokens.size(), f.get()) != d.tokens.size() ||
            std::fread(d.lossMask.data(), 1, d.lossMask.size(), f.get()) != d.lossMask.size() ||
            std::fread(pad, 1, pad8(used) - used, f.get()) != pad8(used) - used)
            return reject("damaged: cannot read the arrays");
        if (d.offsets.front() != 0 || d.offsets.back() != int64_t(d.tokens.size()))
            return reject("damaged: offsets do not span the tokens");
        for (size_t r = 1; r < d.offsets.size(); ++r)
            if (d.offsets[r] < d.offsets[r - 1])
                return reject("damaged: offsets go backwards");
        for (int32_t t : d.tokens)
            if (t < 0 || t >= vocabSize)
                return reject("damaged: a token id outside the vocabulary");
        for (uint8_t m : d.lossMask)
            if (m > 1)
                return reject("damaged: a loss mask value other than 0 or 1");
        d.hash = contentHash(d);
    }
    out.hash = preparedHash(out);
    if (rawFromHex(out.hash) != std::string(header + 48, 32))
        return reject("damaged: the content hash does not match");
    return out;
}

} // namespace lathe
