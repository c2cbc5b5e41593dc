// PlaygroundRepository: what the chat playground keeps — side-by-side comparisons of two
// models' answers, the user's ratings of them, and a response cache keyed by a hash of
// (model, prompt, sampling parameters) so an identical request is answered instantly.
#pragma once

#include "store/Sqlite.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lathe::store {

struct ComparisonRecord
{
    int64_t id = 0;
    std::string prompt, modelA, modelB, responseA, responseB;
    std::string paramsJson = "{}";
    double createdAt = 0;
};

struct RatingRecord
{
    int64_t id = 0;
    int64_t comparisonId = 0;
    std::string winner; // "a", "b", "tie", "both_bad"
    std::string note;
    double createdAt = 0;
};

struct CachedResponse
{
    std::string key, model, response;
    int64_t tokens = 0;
    int64_t hits = 0;
};

// Per model: how often it won, lost or tied in rated comparisons.
struct RatingTally
{
    std::string model;
    int64_t wins = 0, losses = 0, ties = 0;
};

class PlaygroundRepository
{
public:
    explicit PlaygroundRepository(Connection &connection) : m_db(connection) {}

    int64_t addComparison(const ComparisonRecord &comparison);
    std::optional<ComparisonRecord> findComparison(int64_t id);
    // Error when winner is not one of a, b, tie, both_bad or the comparison is unknown.
    int64_t addRating(const RatingRecord &rating);
    std::vector<RatingRecord> ratings(int64_t comparisonId);
    std::vector<RatingTally> tally();

    // Stores (or replaces) a response.
    void cachePut(const CachedResponse &entry);
    // Looks a key up and counts the hit.
    std::optional<CachedResponse> cacheGet(const std::string &key);
    // Keeps the `keep` most recently used entries; returns how many were removed.
    int64_t cacheTrim(int64_t keep);

private:
    Connection &m_db;
};

} // namespace lathe::store
