// TrainBatch: one micro-batch as the training math sees it: B rows of T tokens, each row
// holding one or more packed sequences. Attention never crosses a segment boundary and
// positions restart at 0 in each segment, so a packed row trains exactly like its
// sequences would one by one. Targets are next-token ids or kIgnoreIndex (prompt tokens,
// padding, the last token of a segment).
#pragma once

#include <cstdint>
#include <vector>

namespace lathe {

constexpr int32_t kIgnoreIndex = -100; // the value PyTorch/HF use for masked targets

struct TrainBatch
{
    int64_t rows = 0;   // B
    int64_t seqLen = 0; // T
    std::vector<int32_t> tokens;    // [B, T] input ids (padding: any valid id)
    std::vector<int32_t> targets;   // [B, T] id to predict at t, or kIgnoreIndex
    std::vector<int32_t> positions; // [B, T] RoPE position, 0 at each segment start
    std::vector<int32_t> segments;  // [B, T] query t attends key s iff s <= t and same segment

    int64_t size() const { return rows * seqLen; }
    int64_t targetCount() const
    {
        int64_t n = 0;
        for (int32_t t : targets)
            n += t != kIgnoreIndex;
        return n;
    }
};

} // namespace lathe
