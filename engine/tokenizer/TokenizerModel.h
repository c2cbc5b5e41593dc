// TokenizerModel: the immutable data behind a Tokenizer, filled by the format readers
// (TokenizerJson.cpp, SentencePieceModel.cpp, Llama2cTokenizer.cpp, TokenizerGguf.cpp)
// and finished by finalize(), which derives the lookup tables and checks consistency.
#pragma once

#include "tokenizer/PreTokenizer.h"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace lathe::tok {

// SentencePiece / GGUF token types (the numbering both use).
enum class TokenType : uint8_t { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

struct StringHash
{
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using PieceMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

// Score: SentencePiece BPE (merge the adjacent pair whose concatenation is the
// highest-scoring piece). Rank: Hugging Face / GPT-2 BPE (merge the pair listed first).
enum class MergeMode { Score, Rank };

struct AddedToken
{
    std::string content;
    int32_t id = -1;
    bool special = true;   // matched only when parseSpecial is on
    bool lstrip = false;   // swallows whitespace on its left
    bool rstrip = false;   // swallows whitespace on its right
    bool singleWord = false;
};

struct MergeRule
{
    int32_t rank = 0;
    int32_t id = -1;
};

struct TokenizerModel
{
    std::string format; // for messages: "tokenizer.json", "tokenizer.model", ...
    std::vector<std::string> pieces;
    std::vector<float> scores;
    std::vector<TokenType> types;
    std::vector<bool> special; // per id: skipped by decode(skipSpecial)

    MergeMode mode = MergeMode::Score;
    bool byteLevel = false;     // pieces are in the GPT-2 byte alphabet
    bool byteFallback = false;  // unknown characters become <0xXX> tokens
    bool fuseUnk = false;
    bool ignoreMerges = false;  // a pre-token that is itself in the vocab is emitted whole
    std::unordered_map<uint64_t, MergeRule> merges; // Rank mode: (left id << 32 | right id)

    int32_t unk = -1, bos = -1, eos = -1, eot = -1, pad = -1;
    bool addBos = false, addEos = false;

    // Normalisation, in this order.
    bool nfc = false;
    bool removeExtraSpaces = false; // SentencePiece remove_extra_whitespaces
    bool dummyPrefix = false;       // prepend U+2581 (or ' ' before escaping)
    bool escapeSpaces = false;      // ' ' -> U+2581
    bool bytePrefixSpace = false;   // ByteLevel add_prefix_space: ' ' before a segment
    std::vector<PreStep> preSteps;  // byte-level models: how text is cut into pre-tokens

    std::vector<AddedToken> added;  // matched in the raw text before anything else
    std::array<std::vector<uint32_t>, 256> addedByFirstByte; // indices into added

    // Derived by finalize().
    PieceMap pieceToId;
    PieceMap bytesToId;             // byte-level: raw bytes of a piece -> id
    std::vector<std::string> bytes; // what each id decodes to
    std::array<int32_t, 256> byteToken{}; // byte b -> its single-byte token, or -1
    bool stripDummyOnDecode = false;
    // No piece holds U+2581 right after another character, so no merge can join the end
    // of one word to the ▁ that starts the next: text without pre-tokenizer steps may be
    // cut before each run of ▁ and the words merged (and memoised) one at a time with
    // exactly the ids the whole text would get.
    bool splitAtSpaceMark = false;

    // Builds pieceToId (readers call it before addMerge); finalize() calls it if needed.
    void indexPieces();
    // Builds the tables above and validates ids; throws Error on inconsistency.
    void finalize();
    bool mergeable(int32_t id) const
    {
        const TokenType t = types[size_t(id)];
        return t == TokenType::Normal || t == TokenType::UserDefined || t == TokenType::Unused;
    }
};

// Parses a merges entry list for Rank mode; a pair naming an unknown token is an Error.
void addMerge(TokenizerModel &m, std::string_view left, std::string_view right, int32_t rank,
              const std::string &where);

// Vocabularies with token types (SentencePiece, GGUF): user-defined pieces are matched
// in the text as wholes always; control and unknown pieces when parseSpecial is on.
void addPiecesAsAddedTokens(TokenizerModel &m);

} // namespace lathe::tok
