#include "data/DatasetStats.h"

#include <algorithm>
#include <cmath>

namespace lathe {

int64_t percentile(const std::vector<int64_t> &sorted, double p)
{
    if (sorted.empty())
        return 0;
    const double rank = std::ceil(p / 100.0 * double(sorted.size()));
    const size_t index = size_t(std::clamp(rank, 1.0, double(sorted.size()))) - 1;
    return sorted[index];
}

LengthSummary LengthSummary::of(std::vector<int64_t> values)
{
    LengthSummary s;
    s.count = int64_t(values.size());
    if (values.empty())
        return s;
    std::sort(values.begin(), values.end());
    for (int64_t v : values)
        s.total += v;
    s.min = values.front();
    s.max = values.back();
    s.mean = double(s.total) / double(values.size());
    s.p50 = percentile(values, 50);
    s.p90 = percentile(values, 90);
    s.p95 = percentile(values, 95);
    s.p99 = percentile(values, 99);
    int64_t upper = 16; // the first bucket is the one holding the smallest value
    while (upper < s.min)
        upper *= 2;
    size_t i = 0;
    while (i < values.size()) {
        int64_t n = 0;
        while (i < values.size() && values[i] <= upper) {
            ++n;
            ++i;
        }
        s.bucketUpper.push_back(upper);
        s.bucketCount.push_back(n);
        upper *= 2;
    }
    return s;
}

nlohmann::ordered_json LengthSummary::toJson() const
{
    nlohmann::ordered_json buckets = nlohmann::ordered_json::array();
    for (size_t b = 0; b < bucketUpper.size(); ++b)
        buckets.push_back({{"up_to", bucketUpper[b]}, {"count", bucketCount[b]}});
    return {{"count", count}, {"total", total}, {"min", min},   {"max", max},  {"mean", mean},
            {"p50", p50},     {"p90", p90},     {"p95", p95},   {"p99", p99},  {"histogram", buckets}};
}

nlohmann::ordered_json DatasetStats::toJson() const
{
    return {{"records_read", recordsRead},
            {"records_invalid", recordsInvalid},
            {"records_skipped", recordsSkipped},
            {"duplicates", duplicates},
            {"duplicates_removed", duplicatesRemoved},
            {"max_length", maxLength},
            {"over_length", overLength},
            {"truncated", truncated},
            {"dropped_over_length", droppedOverLength},
            {"target_tokens_lost", targetTokensLost},
            {"records", records},
            {"train_records", trainRecords},
            {"validation_records", validationRecords},
            {"tokens_per_epoch", tokensPerEpoch},
            {"target_tokens_per_epoch", targetTokensPerEpoch},
            {"prompt_tokens", prompt.toJson()},
            {"response_tokens", response.toJson()},
            {"total_tokens", total.toJson()}};
}

LengthSummary LengthSummary::fromJson(const nlohmann::ordered_json &j)
{
    LengthSummary s;
    s.count = j.at("count").get<int64_t>();
    s.total = j.at("total").get<int64_t>();
    s.min = j.at("min").get<int64_t>();
    s.max = j.at("max").get<int64_t>();
    s.mean = j.at("mean").get<double>();
    s.p50 = j.at("p50").get<int64_t>();
    s.p90 = j.at("p90").get<int64_t>();
    s.p95 = j.at("p95").get<int64_t>();
    s.p99 = j.at("p99").get<int64_t>();
    for (const auto &b : j.at("histogram")) {
        s.bucketUpper.push_back(b.at("up_to").get<int64_t>());
        s.bucketCount.push_back(b.at("count").get<int64_t>());
    }
    return s;
}

DatasetStats DatasetStats::fromJson(const nlohmann::ordered_json &j)
{
    DatasetStats s;
    s.recordsRead = j.at("records_read").get<int64_t>();
    s.recordsInvalid = j.at("records_invalid").get<int64_t>();
    s.recordsSkipped = j.at("records_skipped").get<int64_t>();
    s.duplicates = j.at("duplicates").get<int64_t>();
    s.duplicatesRemoved = j.at("duplicates_removed").get<int64_t>();
    s.maxLength = j.at("max_length").get<int64_t>();
    s.overLength = j.at("over_length").get<int64_t>();
    s.truncated = j.at("truncated").get<int64_t>();
    s.droppedOverLength = j.at("dropped_over_length").get<int64_t>();
    s.targetTokensLost = j.at("target_tokens_lost").get<int64_t>();
    s.records = j.at("records").get<int64_t>();
    s.trainRecords = j.at("train_records").get<int64_t>();
    s.validationRecords = j.at("validation_records").get<int64_t>();
    s.tokensPerEpoch = j.at("tokens_per_epoch").get<int64_t>();
    s.targetTokensPerEpoch = j.at("target_tokens_per_epoch").get<int64_t>();
    s.prompt = LengthSummary::fromJson(j.at("prompt_tokens"));
    s.response = LengthSummary::fromJson(j.at("response_tokens"));
    s.total = LengthSummary::fromJson(j.at("total_tokens"));
    return s;
}

} // namespace lathe
