// Sampler: picks the next token from a logit vector. The steps, in this order (as
// Hugging Face's generate applies them):
//   1. penalties over the last `penaltyWindow` tokens of history: repetition (CTRL:
//      a seen token's logit l becomes l / r if l > 0 else l * r), frequency
//      (l -= count * f) and presence (l -= p once if seen), OpenAI's definitions;
//   2. temperature <= 0: greedy, the highest logit (lowest id on ties), done;
//   3. logits / temperature; top-k keeps the k highest (ties: lower id first);
//   4. softmax; top-p keeps the smallest most-probable prefix with mass >= p;
//      min-p drops tokens with p < minP * pmax; the rest is renormalised;
//   5. one draw from the seeded Rng over the candidates in that order.
// The same seed, params, logits and history give the same token on every platform.
#pragma once

#include "infer/Rng.h"

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace lathe {

struct SamplerParams
{
    float temperature = 1.0f; // <= 0: greedy
    int topK = 0;             // <= 0: off
    float topP = 1.0f;        // >= 1: off
    float minP = 0.0f;        // <= 0: off
    float repetitionPenalty = 1.0f; // 1: off
    float frequencyPenalty = 0.0f;
    float presencePenalty = 0.0f;
    int penaltyWindow = 64; // recent tokens the penalties look at; < 0: all history
    uint64_t seed = 0;
};

struct Candidate
{
    int32_t id;
    double p;
};

class Sampler
{
public:
    explicit Sampler(const SamplerParams &params = {});

    const SamplerParams &params() const { return m_params; }
    void reseed(uint64_t seed) { m_rng.reseed(seed); }

    int32_t sample(std::span<const float> logits, std::span<const int32_t> history = {});

    // Steps 1-4: the candidates a draw chooses from, most probable first, summing to 1
    // (greedy: one candidate with p = 1).
    std::vector<Candidate> distribution(std::span<const float> logits, std::span<const int32_t> history = {}) const;

    // Step 1 alone, in place.
    static void applyPenalties(std::vector<float> &logits, std::span<const int32_t> history,
                               const SamplerParams &params);

private:
    SamplerParams m_params;
    Rng m_rng;
};

} // namespace lathe
