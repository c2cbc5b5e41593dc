// Reader for llama2.c's tokenizer.bin: int32 max_token_length, then per token a float
// score, an int32 length and that many bytes. The export wrote U+2581 as ' ' and BOS/EOS
// as "\n<s>\n" / "\n</s>\n"; both are undone here so the pieces match tokenizer.model.
// Ids 0, 1, 2 are unk, BOS and EOS; "<0xXX>" pieces are byte-fallback tokens.
#include "core/Error.h"
#include "tokenizer/Tokenizer.h"
#include "tokenizer/TokenizerModel.h"

#include <cstring>

namespace lathe {

using namespace tok;

Tokenizer Tokenizer::fromLlama2c(std::string_view bin)
{
    const std::string where = "llama2.c tokenizer";
    auto m = std::make_shared<TokenizerModel>();
    m->format = where;
    size_t pos = 0;
    const auto readI32 = [&](const char *what) {
        if (bin.size() - pos < 4)
            fail(where + ": truncated at byte " + std::to_string(pos) + " reading " + what);
        int32_t v;
        std::memcpy(&v, bin.data() + pos, 4);
        pos += 4;
        return v;
    };
    const int32_t maxLen = readI32("max_token_length");
    if (maxLen <= 0 || maxLen > 1 << 16)
        fail(where + ": max_token_length " + std::to_string(maxLen) + " is not plausible");
    while (pos < bin.size()) {
        const size_t i = m->pieces.size();
        float score;
        const int32_t bits = readI32("score");
        std::memcpy(&score, &bits, 4);
        const int32_t len = readI32("length");
        if (len < 0 || len > maxLen || size_t(len) > bin.size() - pos)
            fail(where + ": token " + std::to_string(i) + " has length " + std::to_string(len));
        std::string raw(bin.substr(pos, size_t(len)));
        pos += size_t(len);
        std::string piece;
        for (char c : raw) {
            if (c == ' ') piece += "\xE2\x96\x81";
            else piece.push_back(c);
        }
        TokenType type = TokenType::Normal;
        if (i == 0) { type = TokenType::Unknown; piece = "<unk>"; }
        else if (i == 1) { type = TokenType::Control; piece = "<s>"; }
        else if (i == 2) { type = TokenType::Control; piece = "</s>"; }
        else if (piece.size() == 6 && piece.compare(0, 3, "<0x") == 0 && piece[5] == '>') type = TokenType::Byte;
        m->pieces.push_back(std::move(piece));
        m->scores.push_back(score);
        m->types.push_back(type);
    }
    if (m->pieces.size() < 3)
        fail(where + ": only " + std::to_string(m->pieces.size()) + " tokens");
    m->mode = MergeMode::Score;
    m->byteFallback = true;
    m->dummyPrefix = true;
    m->escapeSpaces = true;
    m->unk = 0;
    m->bos = 1;
    m->eos = 2;
    m->addBos = true;
    addPiecesAsAddedTokens(*m);
    m->finalize();
    return Tokenizer(std::move(m));
}

} // namespace lathe
