// DatasetSplit: the order of prepared records and the train/validation split,
// reproducible from a seed on every platform (our own generator and Fisher-Yates, not
// std::shuffle, whose results differ between standard libraries).
#pragma once

#include <cstdint>
#include <vector>

namespace lathe {

// SplitMix64: a small, fast generator with good 64-bit output, fully specified.
class SplitMix64
{
public:
    explicit SplitMix64(uint64_t seed) : m_state(seed) {}
    uint64_t next();
    // Uniform in [0, bound) without modulo bias (bound > 0).
    uint64_t below(uint64_t bound);

private:
    uint64_t m_state;
};

struct SplitPlan
{
    std::vector<int64_t> train;      // record indices, in training order
    std::vector<int64_t> validation; // record indices
};

// Validation size from a ratio (rounded, at least 1 when ratio > 0 and n >= 2) or a count.
// Throws Error when the split would leave no training record.
int64_t validationSize(int64_t n, double ratio, int64_t count);

// Shuffles indices 0..n-1 when shuffle is set, then takes the validation records: the
// first v of the shuffled order, or the last v records of the file when not shuffling.
SplitPlan planSplit(int64_t n, int64_t validation, bool shuffle, uint64_t seed);

} // namespace lathe
