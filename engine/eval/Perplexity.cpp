// Perplexity: the windowed protocol of Perplexity.h over Session::prefillAll.
#include "eval/Perplexity.h"

#include "core/Error.h"

#include <cmath>

namespace lathe {

PerplexityResult computePerplexity(Session &session, std::span<const int32_t> tokens,
                                   const PerplexityOptions &options,
                                   const std::function<bool(int64_t, int64_t)> &progress)
{
    const int64_t n = options.nCtx;
    if (n < 4 || n > session.contextLength())
        fail("perplexity: window of " + std::to_string(n) + " tokens must be in [4, " +
             std::to_string(session.contextLength()) + "]");
    const int64_t chunks = int64_t(tokens.size()) / n;
    if (chunks == 0)
        fail("perplexity: " + std::to_string(tokens.size()) + " tokens, fewer than one window of " + std::to_string(n));
    const int64_t vocab = session.config().vocabSize;
    const int32_t bos = session.config().bosId;
    const int64_t first = n / 2;

    PerplexityResult result;
    double totalNll = 0.0;
    std::vector<int32_t> window(static_cast<size_t>(n));
    for (int64_t c = 0; c < chunks; ++c) {
        std::copy(tokens.begin() + c * n, tokens.begin() + (c + 1) * n, window.begin());
        if (options.addBos && bos >= 0)
            window[0] = bos;
        session.reset();
        const std::vector<float> &logits = session.prefillAll(window);
        PerplexityChunk chunk;
        double chunkNll = 0.0;
        for (int64_t j = first; j < n - 1; ++j) {
            const float *row = logits.data() + j * vocab;
            float mx = row[0];
            for (int64_t v = 1; v < vocab; ++v)
                mx = std::max(mx, row[v]);
            double sum = 0.0;
            for (int64_t v = 0; v < vocab; ++v)
                sum += std::exp(double(row[v]) - double(mx));
            const int32_t next = window[size_t(j + 1)];
            if (next < 0 || next >= vocab)
                fail("perplexity: token id " + std::to_string(next) + " outside the vocabulary");
            chunkNll += double(mx) + std::log(sum) - double(row[next]);
            ++chunk.tokensScored;
        }
        chunk.meanNll = chunkNll / double(chunk.tokensScored);
        chunk.ppl = std::exp(chunk.meanNll);
        result.chunks.push_back(chunk);
        totalNll += chunkNll;
        result.tokensScored += chunk.tokensScored;
        if (progress && !progress(c + 1, chunks))
            break;
    }
    result.meanNll = totalNll / double(result.tokensScored);
    result.ppl = std::exp(result.meanNll);
    session.reset();
    return result;
}

} // namespace lathe
