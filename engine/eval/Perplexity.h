// Perplexity of a model over a token stream.
#pragma once

#include "infer/Session.h"

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace lathe {

// The protocol (llama.cpp's `perplexity` tool does the same), quoted by `lathe-cli --help`:
inline constexpr const char *kPerplexityProtocol =
    "The token stream is cut into non-overlapping windows of n_ctx tokens (a tail shorter "
    "than n_ctx is dropped). Each window is evaluated from an empty KV cache with its first "
    "token replaced by BOS (when the model has one and add_bos is on). Only the second half "
    "of each window is scored: for positions j = n_ctx/2 .. n_ctx-2 the NLL of token j+1 "
    "given tokens 0..j, so every scored token sees at least n_ctx/2 tokens of context. "
    "PPL = exp(mean NLL over all scored tokens).";

struct PerplexityOptions
{
    int64_t nCtx = 512; // window length; >= 4 and <= the session's context length
    bool addBos = true;
};

struct PerplexityChunk
{
    double meanNll = 0.0;
    double ppl = 0.0;
    int64_t tokensScored = 0;
};

struct PerplexityResult
{
    double meanNll = 0.0;
    double ppl = 0.0;
    int64_t tokensScored = 0;
    std::vector<PerplexityChunk> chunks;
};

// progress(chunksDone, chunksTotal) returns "keep going"; a false stops early and the
// result covers the chunks done. Throws Error if the stream is shorter than one window.
PerplexityResult computePerplexity(Session &session, std::span<const int32_t> tokens,
                                   const PerplexityOptions &options,
                                   const std::function<bool(int64_t, int64_t)> &progress = {});

} // namespace lathe
