// DatasetStats: what a user needs to know about prepared data before spending GPU hours
// on it: how many records survived, token-length distributions (prompt, response,
// total) with percentiles and a histogram, tokens per epoch, and what truncation and
// deduplication did.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace lathe {

// Summary of a list of lengths. Percentiles use the nearest-rank rule: pN is the
// smallest value with at least N% of the values at or below it.
struct LengthSummary
{
    int64_t count = 0;
    int64_t total = 0;
    int64_t min = 0, max = 0;
    double mean = 0.0;
    int64_t p50 = 0, p90 = 0, p95 = 0, p99 = 0;
    // Bucket b counts values in (upper[b-1], upper[b]]; uppers are powers of two.
    std::vector<int64_t> bucketUpper;
    std::vector<int64_t> bucketCount;

    static LengthSummary of(std::vector<int64_t> values);
    nlohmann::ordered_json toJson() const;
    static LengthSummary fromJson(const nlohmann::ordered_json &j); // throws on a malformed object
};

// The nearest-rank percentile (0 < p <= 100) of sorted values; 0 for an empty list.
int64_t percentile(const std::vector<int64_t> &sorted, double p);

struct DatasetStats
{
    int64_t recordsRead = 0;      // records in the file (those that could not be read included)
    int64_t recordsInvalid = 0;   // records with errors (dropped when drop_invalid)
    int64_t recordsSkipped = 0;   // empty records and records with nothing to train on
    int64_t duplicates = 0;       // records equal to an earlier one
    int64_t duplicatesRemoved = 0;
    int64_t overLength = 0;       // records longer than max_length
    int64_t truncated = 0;        // of those, cut to max_length
    int64_t droppedOverLength = 0;
    int64_t targetTokensLost = 0; // response tokens cut by truncation
    int64_t records = 0;          // records prepared
    int64_t trainRecords = 0, validationRecords = 0;
    int64_t tokensPerEpoch = 0;   // tokens in the training split, after truncation
    int64_t targetTokensPerEpoch = 0;
    int64_t maxLength = 0;
    // Before truncation, over all prepared records.
    LengthSummary prompt, response, total;

    nlohmann::ordered_json toJson() const;
    static DatasetStats fromJson(const nlohmann::ordered_json &j); // throws on a malformed object
};

} // namespace lathe
