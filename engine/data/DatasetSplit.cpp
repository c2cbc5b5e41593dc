#include "data/DatasetSplit.h"

#include "core/Error.h"

#include <cmath>
#include <numeric>
#include <string>

namespace lathe {

uint64_t SplitMix64::next()
{
    uint64_t z = (m_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t SplitMix64::below(uint64_t bound)
{
    // Rejects the top sliver of the range that would favour small values.
    const uint64_t limit = ~uint64_t(0) - (~uint64_t(0) % bound);
    uint64_t x = next();
    while (x >= limit)
        x = next();
    return x % bound;
}

int64_t validationSize(int64_t n, double ratio, int64_t count)
{
    if (ratio < 0.0 || ratio >= 1.0)
        fail("validation_ratio must be in [0, 1), got " + std::to_string(ratio));
    if (count < 0)
        fail("validation_count must be >= 0");
    if (ratio > 0.0 && count > 0)
        fail("give validation_ratio or validation_count, not both");
    int64_t v = count;
    if (ratio > 0.0 && n >= 2)
        v = std::max<int64_t>(1, int64_t(std::llround(double(n) * ratio)));
    if (v > 0 && v >= n)
        fail("a validation split of " + std::to_string(v) + " records leaves nothing to train on (" +
             std::to_string(n) + " records)");
    return v;
}

SplitPlan planSplit(int64_t n, int64_t validation, bool shuffle, uint64_t seed)
{
    std::vector<int64_t> order(size_t(std::max<int64_t>(n, 0)));
    std::iota(order.begin(), order.end(), 0);
    SplitPlan plan;
    if (shuffle) {
        SplitMix64 rng(seed);
        for (size_t i = order.size(); i > 1; --i)
            std::swap(order[i - 1], order[rng.below(i)]);
        plan.validation.assign(order.begin(), order.begin() + validation);
        plan.train.assign(order.begin() + validation, order.end());
    } else {
        plan.train.assign(order.begin(), order.end() - validation);
        plan.validation.assign(order.end() - validation, order.end());
    }
    return plan;
}

} // namespace lathe
