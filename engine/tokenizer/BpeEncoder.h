// The encoding pipeline for one run of plain text (between added tokens):
// normalise, pre-tokenise, then BPE-merge each pre-token and append the ids.
// SentencePiece-style models have no pre-tokenizer; their text is cut into words before
// each run of U+2581 when the vocabulary makes that exact (splitAtSpaceMark), so words
// are merged and memoised one at a time instead of as one long symbol list.
#pragma once

#include "tokenizer/TokenizerModel.h"

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace lathe::tok {

// Per-call memo of pre-token -> ids: words repeat, so one encode() call merges each
// distinct word once. Owned by the caller (one per call), so the Tokenizer stays immutable.
struct BpeCache
{
    std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> entries;
};

void encodePlainText(const TokenizerModel &m, std::string_view text, std::vector<int32_t> &out, BpeCache &cache);

} // namespace lathe::tok
