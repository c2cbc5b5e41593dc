// generate(): the sampling loop with stop ids, stop strings and streaming.
#include "infer/Generate.h"

#include "core/Error.h"

#include <algorithm>
#include <chrono>

namespace lathe {

const char *stopReasonName(StopReason r)
{
    switch (r) {
    case StopReason::MaxTokens: return "max tokens";
    case StopReason::StopId: return "stop token";
    case StopReason::StopString: return "stop string";
    case StopReason::Callback: return "stopped by caller";
    case StopReason::ContextFull: return "context full";
    }
    return "unknown";
}

namespace {

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Length of the longest suffix of text that is a proper prefix of some stop string:
// those characters might still become a stop string, so their tokens are held back.
size_t heldBack(const std::string &text, const std::vector<std::string> &stops)
{
    size_t best = 0;
    for (const std::string &s : stops)
        for (size_t n = std::min(s.size() - 1, text.size()); n > best; --n)
            if (text.compare(text.size() - n, n, s, 0, n) == 0) {
                best = n;
                break;
            }
    return best;
}

} // namespace

GenerateResult generate(Session &session, std::span<const int32_t> prompt, const GenerateOptions &options,
                        const PieceDecoder &decoder, const TokenCallback &onToken)
{
    if (prompt.empty())
        fail("generate: empty prompt");
    std::vector<std::string> stops;
    for (const std::string &s : options.stopStrings)
        if (!s.empty())
            stops.push_back(s);
    if (!stops.empty() && !decoder)
        fail("generate: stop strings need a piece decoder");
    std::vector<int32_t> stopIds = options.stopIds;
    if (options.useModelStopIds) {
        stopIds.insert(stopIds.end(), session.config().stopIds.begin(), session.config().stopIds.end());
        if (session.config().eosId >= 0)
            stopIds.push_back(session.config().eosId);
    }

    GenerateResult r;
    Sampler sampler(options.sampler);
    std::vector<int32_t> history(prompt.begin(), prompt.end());
    std::vector<size_t> tokenEnd; // text length after each generated token
    size_t emitted = 0;
    // Emits generated tokens [emitted, upTo) to the callback; false if it asked to stop.
    auto emitUpTo = [&](size_t upTo) {
        for (; emitted < upTo; ++emitted)
            if (onToken && !onToken(r.ids[emitted])) {
                ++emitted;
                return false;
            }
        return true;
    };

    auto t0 = Clock::now();
    const std::vector<float> *logits = &session.prefill(prompt);
    r.prefillSeconds = secondsSince(t0);
    r.prefillTokens = int64_t(prompt.size());

    r.stopReason = StopReason::MaxTokens;
    while (int(r.ids.size()) < options.maxTokens) {
        const int32_t id = sampler.sample(*logits, history);
        if (std::find(stopIds.begin(), stopIds.end(), id) != stopIds.end()) {
            r.stopReason = StopReason::StopId;
            break;
        }
        const size_t before = r.text.size();
        r.ids.push_back(id);
        history.push_back(id);
        if (decoder)
            r.text += decoder(id);
        tokenEnd.push_back(r.text.size());

        size_t cut = std::string::npos; // earliest stop string start in the new text
        if (!stops.empty()) {
            size_t maxLen = 0;
            for (const std::string &s : stops)
                maxLen = std::max(maxLen, s.size());
            const size_t from = before >= maxLen ? before - maxLen + 1 : 0;
            for (const std::string &s : stops)
                cut = std::min(cut, r.text.find(s, from));
        }
        if (cut != std::string::npos) {
            size_t keep = 0; // tokens that end before the stop text begins
            while (keep < tokenEnd.size() && tokenEnd[keep] <= cut)
                ++keep;
            r.ids.resize(keep);
            r.text.resize(cut);
            r.stopReason = StopReason::StopString;
            if (!emitUpTo(keep)) {
                r.ids.resize(emitted);
                r.text.resize(tokenEnd[emitted - 1]);
                r.stopReason = StopReason::Callback;
            }
            return r;
        }
        const size_t safeText = r.text.size() - heldBack(r.text, stops);
        size_t safe = emitted;
        while (safe < r.ids.size() && tokenEnd[safe] <= safeText)
            ++safe;
        if (!emitUpTo(safe)) {
            r.ids.resize(emitted);
            r.text.resize(tokenEnd[emitted - 1]);
            r.stopReason = StopReason::Callback;
            return r;
        }
        if (int(r.ids.size()) >= options.maxTokens)
            break;
        if (session.remaining() <= 0) {
            r.stopReason = StopReason::ContextFull;
            break;
        }
        t0 = Clock::now();
        logits = &session.decode(id);
        r.decodeSeconds += secondsSince(t0);
        ++r.decodeTokens;
    }
    // The held-back tail is not a stop string after all.
    if (!emitUpTo(r.ids.size())) {
        r.ids.resize(emitted);
        r.text.resize(emitted ? tokenEnd[emitted - 1] : 0);
        r.stopReason = StopReason::Callback;
    }
    return r;
}

} // namespace lathe
