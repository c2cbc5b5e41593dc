// Tokenizer::fromGgufVocab: "llama" vocabularies become SentencePiece-style BPE (score
// merges, byte fallback, dummy prefix), "gpt2" ones byte-level BPE with the merges list
// and the pre-tokenizer regex set tokenizer.ggml.pre names.
#include "core/Error.h"
#include "tokenizer/GgufVocab.h"
#include "tokenizer/Tokenizer.h"
#include "tokenizer/TokenizerModel.h"

namespace lathe {

using namespace tok;

Tokenizer Tokenizer::fromGgufVocab(const GgufVocab &v)
{
    const std::string where = "GGUF vocabulary";
    auto m = std::make_shared<TokenizerModel>();
    m->format = where;
    const size_t n = v.tokens.size();
    if (n == 0)
        fail(where + ": tokenizer.ggml.tokens is missing or empty");
    if (!v.scores.empty() && v.scores.size() != n)
        fail(where + ": tokenizer.ggml.scores has " + std::to_string(v.scores.size()) + " entries for " +
             std::to_string(n) + " tokens");
    if (!v.tokenTypes.empty() && v.tokenTypes.size() != n)
        fail(where + ": tokenizer.ggml.token_type has " + std::to_string(v.tokenTypes.size()) +
             " entries for " + std::to_string(n) + " tokens");
    m->pieces = v.tokens;
    m->scores = v.scores;
    m->types.resize(n, TokenType::Normal);
    for (size_t i = 0; i < v.tokenTypes.size(); ++i) {
        const int32_t t = v.tokenTypes[i];
        if (t < 1 || t > 6)
            fail(where + ": token " + std::to_string(i) + " has unknown type " + std::to_string(t));
        m->types[i] = TokenType(t);
    }
    m->unk = int32_t(v.unkId);
    m->bos = int32_t(v.bosId);
    m->eos = int32_t(v.eosId);
    m->pad = int32_t(v.padId);
    m->eot = int32_t(v.eotId);
    if (v.model == "llama") {
        m->mode = MergeMode::Score;
        m->byteFallback = true;
        m->escapeSpaces = true;
        m->dummyPrefix = v.addSpacePrefix.value_or(true);
        m->addBos = v.addBos.value_or(true);
        m->addEos = v.addEos.value_or(false);
        addPiecesAsAddedTokens(*m);
        m->finalize();
    } else if (v.model == "gpt2") {
        m->mode = MergeMode::Rank;
        m->byteLevel = true;
        m->preSteps = ggufPreSteps(v.pre);
        m->addBos = v.addBos.value_or(false);
        m->addEos = v.addEos.value_or(false);
        addPiecesAsAddedTokens(*m);
        m->indexPieces();
        for (size_t i = 0; i < v.merges.size(); ++i) {
            const std::string &e = v.merges[i];
            const size_t sp = e.find(' ', 1); // a piece never starts with ' ' (it is Ġ)
            if (sp == std::string::npos)
                fail(where + ": merge " + std::to_string(i) + " '" + e + "' is not 'left right'");
            addMerge(*m, std::string_view(e).substr(0, sp), std::string_view(e).substr(sp + 1), int32_t(i),
                     where + ": merge " + std::to_string(i));
        }
        m->finalize();
    } else {
        fail(where + ": tokenizer.ggml.model '" + v.model + "' is not supported (llama, gpt2)");
    }
    return Tokenizer(std::move(m));
}

} // namespace lathe
