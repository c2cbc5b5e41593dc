// GgufVocab: a GGUF file's tokenizer.ggml.* metadata as plain data, so that the tokenizer
// library needs no GGUF parser. engine/model/gguf/GgufVocab.cpp fills it from a GgufFile;
// Tokenizer::fromGgufVocab builds from it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lathe {

struct GgufVocab
{
    std::string model;                // tokenizer.ggml.model: "llama" (SentencePiece BPE), "gpt2"
    std::string pre;                  // tokenizer.ggml.pre: pre-tokenizer regex set
    std::vector<std::string> tokens;  // tokenizer.ggml.tokens
    std::vector<float> scores;        // tokenizer.ggml.scores (may be empty)
    std::vector<int32_t> tokenTypes;  // tokenizer.ggml.token_type (may be empty)
    std::vector<std::string> merges;  // tokenizer.ggml.merges, "left right" (gpt2)
    int64_t bosId = -1, eosId = -1, unkId = -1, padId = -1, eotId = -1;
    std::optional<bool> addBos, addEos, addSpacePrefix;
};

} // namespace lathe
