// DatasetCache: the prepared form of a dataset on disk, so a second run with the same
// data, tokenizer, template and options starts without re-tokenising. One file per key:
//
//   header (256 bytes): "LATHEDS1", version, header size, the 32-byte cache key, the
//     32-byte content hash, the size of the metadata, (records, tokens) for each of the
//     four splits (train, validation, train rejected, validation rejected), then the
//     SHA-256 of the tokenizer fingerprint, of the template source and of the data file
//   metadata: JSON (format, style, confidence, statistics, the kept issues)
//   per split, 8-byte aligned: offsets int64[records + 1], tokens int32[n], mask uint8[n]
//
// Written to a temporary file and renamed. Every load checks the magic, version, key,
// that the sizes add up to the file size, the offsets, the token range and the content
// hash; a file failing any check is reported as damaged and rebuilt by the caller.
// Numbers are little-endian (the byte order of every host Lathe runs on).
#pragma once

#include "data/DatasetSpec.h"

#include <optional>
#include <string>

namespace lathe {

// SHA-256 of a file's bytes, read in 1 MiB pieces. Throws Error naming the file.
std::string fileSha256(const std::string &path);
// A hash of everything that decides how a tokenizer encodes: pieces, special flags,
// special ids, BOS/EOS rules, and the ids of a probe text that exercises its merges.
std::string tokenizerFingerprint(const Tokenizer &tokenizer);
// The content hash of one prepared split (hex SHA-256 of its offsets, tokens and mask).
std::string contentHash(const TokenizedDataset &data);
// The hash of all four splits of a prepared dataset.
std::string preparedHash(const PreparedSplits &splits);

// The cache key: data hash, tokenizer fingerprint, template source and every option that
// changes the prepared form (not the path or the cache directory).
std::string datasetCacheKey(const DatasetSpec &spec, const std::string &dataHash, const std::string &tokenizerHash,
                            const std::string &templateSource);

// What a cache entry was made from (hex SHA-256 digests); the key covers all of them.
struct CacheIdentity
{
    std::string key;
    std::string tokenizerHash;
    std::string templateHash; // of the template source ("" source when none was needed)
    std::string dataHash;
};

// Writes splits under path (temp file + rename). Throws Error on I/O failure.
void writeDatasetCache(const std::string &path, const CacheIdentity &id, const PreparedSplits &splits);

// Loads path if it is a valid cache for id; nullopt otherwise, with the reason in *why
// ("missing", "damaged: ...", "another key", "another tokenizer", ...). vocabSize bounds
// the token ids.
std::optional<PreparedSplits> readDatasetCache(const std::string &path, const CacheIdentity &id, int32_t vocabSize,
                                               std::string *why = nullptr);

} // namespace lathe
