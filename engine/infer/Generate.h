// generate(): prompt ids in, generated ids out, over a Session. Stops on a stop id
// (not emitted, not returned), on a stop string matched in the decoded text across token
// boundaries (the tokens from the one where the stop text begins are neither emitted nor
// returned), when the callback returns false (that token is kept), after maxTokens, or
// when the session's context is full. Tokens that might begin a stop string are held
// back from the callback until it is clear they do not.
#pragma once

#include "infer/Sampler.h"
#include "infer/Session.h"

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace lathe {

enum class StopReason : uint8_t { MaxTokens = 0, StopId = 1, StopString = 2, Callback = 3, ContextFull = 4 };
const char *stopReasonName(StopReason r);

struct GenerateOptions
{
    int maxTokens = 256;
    SamplerParams sampler;
    std::vector<int32_t> stopIds;    // in addition to the model's (below)
    bool useModelStopIds = true;     // ModelConfig::stopIds, and eosId
    std::vector<std::string> stopStrings; // need a piece decoder
};

struct GenerateResult
{
    std::vector<int32_t> ids;
    std::string text; // decoded ids (cut before a stop string); empty without a decoder
    StopReason stopReason = StopReason::MaxTokens;
    int64_t prefillTokens = 0;
    double prefillSeconds = 0.0;
    int64_t decodeTokens = 0; // tokens run through decode()
    double decodeSeconds = 0.0;
    double prefillTokensPerSecond() const { return prefillSeconds > 0 ? double(prefillTokens) / prefillSeconds : 0.0; }
    double decodeTokensPerSecond() const { return decodeSeconds > 0 ? double(decodeTokens) / decodeSeconds : 0.0; }
};

using PieceDecoder = std::function<std::string(int32_t)>;
using TokenCallback = std::function<bool(int32_t)>; // returns "keep going"

// Appends prompt (non-empty) to the session and generates. Throws Error when the prompt
// does not fit the context, or stop strings are given without a decoder.
GenerateResult generate(Session &session, std::span<const int32_t> prompt, const GenerateOptions &options,
                        const PieceDecoder &decoder = {}, const TokenCallback &onToken = {});

} // namespace lathe
