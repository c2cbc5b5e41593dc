// TokenizedDataset: the prepared form of a dataset that training consumes: every record
// as token ids plus a per-token loss mask, stored back to back with offsets. It is what
// the dataset pipeline (engine/data) produces from files and caches on disk, and what the
// trainer packs into batches. Immutable once built; cheap to share across threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lathe {

struct TokenizedDataset
{
    // Record r spans tokens[offsets[r] .. offsets[r+1]); offsets has records()+1 entries
    // and starts at 0. lossMask[i] is 1 where token i is a training target (it is
    // predicted from the tokens before it), 0 for prompt/system/template tokens.
    std::vector<int32_t> tokens;
    std::vector<uint8_t> lossMask;
    std::vector<int64_t> offsets{0};
    // Content hash of the prepared data (hex), recorded with every run that used it.
    std::string hash;

    int64_t records() const { return int64_t(offsets.size()) - 1; }
    int64_t recordLength(int64_t r) const { return offsets[size_t(r) + 1] - offsets[size_t(r)]; }
    void append(const std::vector<int32_t> &ids, const std::vector<uint8_t> &mask)
    {
        tokens.insert(tokens.end(), ids.begin(), ids.end());
        lossMask.insert(lossMask.end(), mask.begin(), mask.end());
        offsets.push_back(int64_t(tokens.size()));
    }
};

} // namespace lathe
