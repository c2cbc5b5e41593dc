// Tokenizer: an immutable text <-> token-id mapping built once from a tokenizer's bytes
// (tokenizer.json, SentencePiece tokenizer.model, llama2.c tokenizer.bin, or a GGUF
// vocabulary). Copies share the same immutable data, so one Tokenizer may be used from
// many threads at once; every call keeps its working state on its own stack.
//
// Two algorithms cover the supported models:
//  - SentencePiece-style BPE (Llama 2, Mistral, TinyLlama, stories): merges chosen by the
//    score of the merged piece, byte fallback <0xXX>, dummy-prefix space, ' ' -> U+2581;
//  - byte-level BPE (GPT-2, Llama 3, Qwen, SmolLM): regex pre-tokenisation, the GPT-2 byte
//    alphabet and rank-ordered merges.
//
// Invalid UTF-8 in text to encode is not an error: every maximal ill-formed subsequence
// is replaced by U+FFFD first (so byte-level models see EF BF BD, SentencePiece models
// the piece for U+FFFD or its byte fallback). decode() returns the exact bytes of the
// pieces, which may be cut mid-character; StreamDecoder never emits a broken sequence.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lathe {

struct GgufVocab;
namespace tok { struct TokenizerModel; }

struct EncodeOptions
{
    // Add the BOS / EOS tokens the tokenizer's own post-processor rules call for
    // (tokenizer.json TemplateProcessing, GGUF add_bos/add_eos, SentencePiece: BOS).
    bool addSpecial = true;
    // Overrides for the two, when set.
    std::optional<bool> addBos;
    std::optional<bool> addEos;
    // Match special (control) tokens such as <|im_start|> in the text. When off they are
    // encoded as plain text; non-special added tokens are matched either way.
    bool parseSpecial = true;
};

class StreamDecoder;

class Tokenizer
{
public:
    // Builders from bytes. Each throws Error naming the format and the offending field.
    // configJson (optional) is tokenizer_config.json: bos_token, eos_token, pad_token,
    // add_bos_token and add_eos_token there override what tokenizer.json implies. An
    // explicit null bos_token / eos_token means the model has none (Qwen's "bos_token":
    // null), unless tokenizer.json's post-processor inserts one. Where neither file names
    // a BOS or EOS (no config, or a config without the key), the usual names
    // (<|begin_of_text|>, <s>, </s>, <|endoftext|>, ...) are taken if the vocabulary has them.
    static Tokenizer fromTokenizerJson(std::string_view json, std::string_view configJson = {});
    static Tokenizer fromSentencePiece(std::string_view modelProto);
    static Tokenizer fromLlama2c(std::string_view tokenizerBin);
    static Tokenizer fromGgufVocab(const GgufVocab &vocab);
    // Convenience: reads a file and picks the builder from its name (tokenizer.json, *.model,
    // *.bin); for tokenizer.json a tokenizer_config.json beside it is read too.
    static Tokenizer fromFile(const std::string &path);

    std::vector<int32_t> encode(std::string_view text, const EncodeOptions &options = {}) const;
    // Concatenated bytes of the pieces; special tokens are left out when skipSpecial.
    // The dummy-prefix space SentencePiece models add is removed at the start and after
    // a special token, so decode(encode(text)) == text for plain text.
    std::string decode(const std::vector<int32_t> &ids, bool skipSpecial = false) const;
    StreamDecoder streamDecoder(bool skipSpecial = false) const;

    // The piece as stored in the vocabulary ("▁the", "Ġthe", "<0x0A>", "<|im_start|>").
    const std::string &piece(int32_t id) const;
    // The bytes the piece decodes to (" the", "\n", "<|im_start|>").
    const std::string &pieceBytes(int32_t id) const;
    int32_t vocabSize() const;
    int32_t bosId() const; // -1 when the tokenizer has none
    int32_t eosId() const;
    int32_t eotId() const; // end of turn (<|eot_id|>, <|im_end|>), else eosId()
    int32_t unkId() const;
    int32_t padId() const;
    bool isSpecial(int32_t id) const; // control tokens and special added tokens
    bool addsBos() const;
    bool addsEos() const;
    // The id whose piece is exactly text (vocabulary form), or -1.
    int32_t tokenToId(std::string_view text) const;

    explicit Tokenizer(std::shared_ptr<const tok::TokenizerModel> model);

private:
    friend class StreamDecoder;
    std::shared_ptr<const tok::TokenizerModel> m_model;
};

// Incremental decoding for generation: feed ids one at a time, get back the new text.
// Bytes of a character split across tokens are held back until it is complete; bytes
// that can never form a valid character come out as U+FFFD. Not thread-safe itself
// (one per stream); the Tokenizer it came from may be shared.
class StreamDecoder
{
public:
    std::string feed(int32_t id);
    // Whatever is still held back, with an incomplete tail replaced by U+FFFD.
    std::string flush();

private:
    friend class Tokenizer;
    StreamDecoder(std::shared_ptr<const tok::TokenizerModel> model, bool skipSpecial);
    std::shared_ptr<const tok::TokenizerModel> m_model;
    bool m_skipSpecial = false;
    bool m_atTextStart = true; // the next text piece may carry a dummy-prefix space
    std::string m_pending;
};

} // namespace lathe
