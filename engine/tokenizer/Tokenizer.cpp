// Tokenizer: splitting text at added tokens, the BOS/EOS rules, decoding and streaming.
// The per-format readers live in their own files; the BPE pipeline in BpeEncoder.cpp.
#include "tokenizer/Tokenizer.h"

#include "core/Error.h"
#include "tokenizer/BpeEncoder.h"
#include "tokenizer/TokenizerModel.h"
#include "tokenizer/Utf8Util.h"

#include <cctype>
#include <cstring>

namespace lathe {

using namespace tok;

namespace {

bool isSpaceByte(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool isWordByte(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || (c & 0x80); }

struct Segment
{
    std::string_view text;
    int32_t id = -1; // >= 0: an added token
};

// Leftmost-longest matching of the added tokens, honouring lstrip/rstrip/single_word.
std::vector<Segment> splitAtAddedTokens(const TokenizerModel &m, std::string_view text, bool parseSpecial)
{
    std::vector<Segment> segs;
    size_t textStart = 0; // start of the pending plain text
    size_t i = 0;
    while (i < text.size()) {
        const auto &cands = m.addedByFirstByte[uint8_t(text[i])];
        const AddedToken *best = nullptr;
        for (uint32_t k : cands) {
            const AddedToken &a = m.added[k];
            if (a.special && !parseSpecial)
                continue;
            if (a.content.size() > text.size() - i || (best && a.content.size() <= best->content.size()))
                continue;
            if (text.compare(i, a.content.size(), a.content) != 0)
                continue;
            if (a.singleWord && ((i > 0 && isWordByte(text[i - 1])) ||
                                 (i + a.content.size() < text.size() && isWordByte(text[i + a.content.size()]))))
                continue;
            best = &a;
        }
        if (!best) {
            ++i;
            continue;
        }
        size_t left = i, right = i + best->content.size();
        if (best->lstrip)
            while (left > textStart && isSpaceByte(text[left - 1]))
                --left;
        if (best->rstrip)
            while (right < text.size() && isSpaceByte(text[right]))
                ++right;
        if (left > textStart)
            segs.push_back({text.substr(textStart, left - textStart), -1});
        segs.push_back({{}, best->id});
        i = textStart = right;
    }
    if (textStart < text.size())
        segs.push_back({text.substr(textStart), -1});
    return segs;
}

} // namespace

Tokenizer::Tokenizer(std::shared_ptr<const TokenizerModel> model) : m_model(std::move(model))
{
    if (!m_model)
        fail("tokenizer: no model");
}

std::vector<int32_t> Tokenizer::encode(std::string_view input, const EncodeOptions &options) const
{
    const TokenizerModel &m = *m_model;
    if (input.size() > (size_t(1) << 30))
        fail("tokenizer: text of " + std::to_string(input.size()) + " bytes is over the 1 GiB limit");
    const std::string text = sanitizeUtf8(input);
    std::vector<int32_t> out;
    out.reserve(text.size() / 3 + 4);
    const bool addBos = options.addBos.value_or(options.addSpecial && m.addBos) && m.bos >= 0;
    const bool addEos = options.addEos.value_or(options.addSpecial && m.addEos) && m.eos >= 0;
    if (addBos)
        out.push_back(m.bos);
    BpeCache cache;
    for (const Segment &s : splitAtAddedTokens(m, text, options.parseSpecial)) {
        if (s.id >= 0)
            out.push_back(s.id);
        else
            encodePlainText(m, s.text, out, cache);
    }
    if (addEos)
        out.push_back(m.eos);
    return out;
}

namespace {
void checkId(const TokenizerModel &m, int32_t id)
{
    if (id < 0 || size_t(id) >= m.pieces.size())
        fail("tokenizer: token id " + std::to_string(id) + " is outside the vocabulary of " +
             std::to_string(m.pieces.size()));
}

// Appends the text of one token; atTextStart tracks where a dummy-prefix space is due.
void appendPiece(const TokenizerModel &m, int32_t id, bool skipSpecial, bool &atTextStart, std::string &out)
{
    checkId(m, id);
    if (m.special[size_t(id)]) {
        atTextStart = true;
        if (!skipSpecial)
            out.append(m.bytes[size_t(id)]);
        return;
    }
    std::string_view b = m.bytes[size_t(id)];
    if (m.stripDummyOnDecode && atTextStart && !b.empty() && b[0] == ' ')
        b.remove_prefix(1);
    atTextStart = false;
    out.append(b);
}
} // namespace

std::string Tokenizer::decode(const std::vector<int32_t> &ids, bool skipSpecial) const
{
    std::string out;
    bool atTextStart = true;
    for (int32_t id : ids)
        appendPiece(*m_model, id, skipSpecial, atTextStart, out);
    return out;
}

StreamDecoder Tokenizer::streamDecoder(bool skipSpecial) const { return StreamDecoder(m_model, skipSpecial); }

const std::string &Tokenizer::piece(int32_t id) const
{
    checkId(*m_model, id);
    return m_model->pieces[size_t(id)];
}

const std::string &Tokenizer::pieceBytes(int32_t id) const
{
    checkId(*m_model, id);
    return m_model->bytes[size_t(id)];
}

int32_t Tokenizer::vocabSize() const { return int32_t(m_model->pieces.size()); }
int32_t Tokenizer::bosId() const { return m_model->bos; }
int32_t Tokenizer::eosId() const { return m_model->eos; }
int32_t Tokenizer::eotId() const { return m_model->eot; }
int32_t Tokenizer::unkId() const { return m_model->unk; }
int32_t Tokenizer::padId() const { return m_model->pad; }
bool Tokenizer::addsBos() const { return m_model->addBos && m_model->bos >= 0; }
bool Tokenizer::addsEos() const { return m_model->addEos && m_model->eos >= 0; }

bool Tokenizer::isSpecial(int32_t id) const
{
    return id >= 0 && size_t(id) < m_model->special.size() && m_model->special[size_t(id)];
}

int32_t Tokenizer::tokenToId(std::string_view text) const
{
    const auto it = m_model->pieceToId.find(text);
    return it == m_model->pieceToId.end() ? -1 : it->second;
}

StreamDecoder::StreamDecoder(std::shared_ptr<const TokenizerModel> model, bool skipSpecial)
    : m_model(std::move(model)), m_skipSpecial(skipSpecial)
{
}

std::string StreamDecoder::feed(int32_t id)
{
    appendPiece(*m_model, id, m_skipSpecial, m_atTextStart, m_pending);
    std::string out;
    size_t i = 0;
    while (i < m_pending.size()) {
        const size_t n = validSequenceLength(m_pending, i);
        if (n > 0) {
            out.append(m_pending, i, n);
            i += n;
            continue;
        }
        size_t want = 0;
        const size_t k = maximalSubpart(m_pending, i, want);
        if (i + k == m_pending.size() && k < want)
            break; // an incomplete character: wait for the next token
        out.append("\xEF\xBF\xBD");
        i += k;
    }
    m_pending.erase(0, i);
    return out;
}

std::string StreamDecoder::flush()
{
    std::string out = m_pending.empty() ? std::string() : sanitizeUtf8(m_pending);
    m_pending.clear();
    return out;
}

} // namespace lathe
