// Sampler: penalties, filters and the seeded draw (order documented in Sampler.h).
#include "infer/Sampler.h"

#include "core/Error.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

namespace lathe {

Sampler::Sampler(const SamplerParams &params) : m_params(params), m_rng(params.seed)
{
    if (!(params.repetitionPenalty > 0.0f))
        fail("sampler: repetition penalty must be > 0");
    if (std::isnan(params.temperature) || std::isnan(params.topP) || std::isnan(params.minP))
        fail("sampler: temperature, top-p and min-p must be numbers");
}

void Sampler::applyPenalties(std::vector<float> &logits, std::span<const int32_t> history,
                             const SamplerParams &params)
{
    const bool active = params.repetitionPenalty != 1.0f || params.frequencyPenalty != 0.0f ||
                        params.presencePenalty != 0.0f;
    if (!active || params.penaltyWindow == 0 || history.empty())
        return;
    const size_t window = params.penaltyWindow < 0 ? history.size()
                                                   : std::min(history.size(), size_t(params.penaltyWindow));
    std::unordered_map<int32_t, int> counts;
    for (size_t i = history.size() - window; i < history.size(); ++i)
        if (history[i] >= 0 && size_t(history[i]) < logits.size())
            ++counts[history[i]];
    for (const auto &[id, count] : counts) {
        float &l = logits[size_t(id)];
        if (params.repetitionPenalty != 1.0f)
            l = l > 0.0f ? l / params.repetitionPenalty : l * params.repetitionPenalty;
        l -= float(count) * params.frequencyPenalty + params.presencePenalty;
    }
}

std::vector<Candidate> Sampler::distribution(std::span<const float> logitsIn, std::span<const int32_t> history) const
{
    if (logitsIn.empty())
        fail("sampler: empty logits");
    std::vector<float> logits(logitsIn.begin(), logitsIn.end());
    applyPenalties(logits, history, m_params);

    // Most probable first; equal logits keep the lower id first, so results never
    // depend on the sort implementation.
    auto better = [&](int32_t a, int32_t b) {
        return logits[size_t(a)] > logits[size_t(b)] || (logits[size_t(a)] == logits[size_t(b)] && a < b);
    };
    if (m_params.temperature <= 0.0f) {
        int32_t best = 0;
        for (int32_t i = 1; i < int32_t(logits.size()); ++i)
            if (better(i, best))
                best = i;
        return {{best, 1.0}};
    }

    std::vector<int32_t> ids(logits.size());
    std::iota(ids.begin(), ids.end(), 0);
    size_t keep = ids.size();
    if (m_params.topK > 0 && size_t(m_params.topK) < keep) {
        keep = size_t(m_params.topK);
        std::partial_sort(ids.begin(), ids.begin() + ptrdiff_t(keep), ids.end(), better);
    } else {
        std::sort(ids.begin(), ids.end(), better);
    }
    ids.resize(keep);

    const double invT = 1.0 / double(m_params.temperature);
    const double mx = double(logits[size_t(ids[0])]) * invT;
    std::vector<Candidate> c;
    c.reserve(keep);
    double sum = 0.0;
    for (int32_t id : ids) {
        const double e = std::exp(double(logits[size_t(id)]) * invT - mx);
        c.push_back({id, e});
        sum += e;
    }
    for (Candidate &x : c)
        x.p /= sum;

    if (m_params.topP < 1.0f) {
        double mass = 0.0;
        size_t n = 0;
        while (n < c.size()) {
            mass += c[n].p;
            ++n;
            if (mass >= double(m_params.topP))
                break;
        }
        c.resize(n);
    }
    if (m_params.minP > 0.0f) {
        const double floor = double(m_params.minP) * c[0].p;
        size_t n = 1;
        while (n < c.size() && c[n].p >= floor)
            ++n;
        c.resize(n);
    }
    double total = 0.0;
    for (const Candidate &x : c)
        total += x.p;
    for (Candidate &x : c)
        x.p /= total;
    return c;
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history)
{
    const std::vector<Candidate> c = distribution(logits, history);
    if (c.size() == 1)
        return c[0].id;
    const double u = m_rng.uniform();
    double cum = 0.0;
    for (const Candidate &x : c) {
        cum += x.p;
        if (u < cum)
            return x.id;
    }
    return c.back().id; // u within rounding of 1
}

} // namespace lathe
