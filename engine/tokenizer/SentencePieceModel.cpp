// Reader for SentencePiece's tokenizer.model (a serialized ModelProto). A minimal
// protobuf wire-format walker: only the fields the BPE encoder needs are read
// (pieces {piece=1, score=2, type=3}, trainer_spec {model_type=3, byte_fallback=35,
// unk/bos/eos/pad ids=40..43}, normalizer_spec {name=1, precompiled_charsmap=2,
// add_dummy_prefix=3, remove_extra_whitespaces=4, escape_whitespaces=5}); every length
// is checked against the remaining bytes.
#include "core/Error.h"
#include "tokenizer/Tokenizer.h"
#include "tokenizer/TokenizerModel.h"

#include <cstring>

namespace lathe {

using namespace tok;

namespace {

class ProtoReader
{
public:
    explicit ProtoReader(std::string_view data, std::string what) : m_data(data), m_what(std::move(what)) {}
    bool atEnd() const { return m_pos >= m_data.size(); }
    uint64_t varint()
    {
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (m_pos >= m_data.size())
                fail(m_what + ": truncated varint at byte " + std::to_string(m_pos));
            const uint8_t c = uint8_t(m_data[m_pos++]);
            v |= uint64_t(c & 0x7F) << shift;
            if (!(c & 0x80))
                return v;
        }
        fail(m_what + ": varint longer than 10 bytes at byte " + std::to_string(m_pos));
    }
    // Reads a key; field number and wire type out.
    void key(uint32_t &field, uint32_t &wire)
    {
        const uint64_t k = varint();
        field = uint32_t(k >> 3);
        wire = uint32_t(k & 7);
    }
    std::string_view bytes()
    {
        const uint64_t n = varint();
        if (n > m_data.size() - m_pos)
            fail(m_what + ": field length " + std::to_string(n) + " runs past the end");
        const std::string_view s = m_data.substr(m_pos, size_t(n));
        m_pos += size_t(n);
        return s;
    }
    float fixed32f()
    {
        if (m_data.size() - m_pos < 4)
            fail(m_what + ": truncated float");
        float f;
        std::memcpy(&f, m_data.data() + m_pos, 4); // little-endian host assumed (x86-64, arm64)
        m_pos += 4;
        return f;
    }
    void skip(uint32_t wire)
    {
        switch (wire) {
        case 0: varint(); break;
        case 1: advance(8); break;
        case 2: bytes(); break;
        case 5: advance(4); break;
        default: fail(m_what + ": unsupported wire type " + std::to_string(wire));
        }
    }

private:
    void advance(size_t n)
    {
        if (m_data.size() - m_pos < n)
            fail(m_what + ": truncated field");
        m_pos += n;
    }
    std::string_view m_data;
    std::string m_what;
    size_t m_pos = 0;
};

void readPiece(std::string_view msg, TokenizerModel &m)
{
    ProtoReader r(msg, "tokenizer.model: piece " + std::to_string(m.pieces.size()));
    std::string piece;
    float score = 0.0f;
    uint64_t type = 1;
    while (!r.atEnd()) {
        uint32_t f, w;
        r.key(f, w);
        if (f == 1 && w == 2) piece = std::string(r.bytes());
        else if (f == 2 && w == 5) score = r.fixed32f();
        else if (f == 3 && w == 0) type = r.varint();
        else r.skip(w);
    }
    if (type < 1 || type > 6)
        fail("tokenizer.model: piece " + std::to_string(m.pieces.size()) + " has unknown type " + std::to_string(type));
    m.pieces.push_back(std::move(piece));
    m.scores.push_back(score);
    m.types.push_back(TokenType(type));
}

} // namespace

Tokenizer Tokenizer::fromSentencePiece(std::string_view proto)
{
    auto m = std::make_shared<TokenizerModel>();
    m->format = "tokenizer.model";
    m->mode = MergeMode::Score;
    m->dummyPrefix = true;        // NormalizerSpec defaults
    m->removeExtraSpaces = true;
    m->escapeSpaces = true;
    uint64_t modelType = 1;       // TrainerSpec default: UNIGRAM
    int64_t ids[4] = {0, 1, 2, -1}; // unk, bos, eos, pad defaults
    std::string normalizerName;
    size_t charsmapSize = 0;
    ProtoReader r(proto, "tokenizer.model");
    while (!r.atEnd()) {
        uint32_t f, w;
        r.key(f, w);
        if (f == 1 && w == 2) {
            readPiece(r.bytes(), *m);
        } else if (f == 2 && w == 2) {
            ProtoReader t(r.bytes(), "tokenizer.model: trainer_spec");
            while (!t.atEnd()) {
                uint32_t tf, tw;
                t.key(tf, tw);
                if (tf == 3 && tw == 0) modelType = t.varint();
                else if (tf == 35 && tw == 0) m->byteFallback = t.varint() != 0;
                else if (tf >= 40 && tf <= 43 && tw == 0) ids[tf - 40] = int64_t(int32_t(t.varint()));
                else t.skip(tw);
            }
        } else if (f == 3 && w == 2) {
            ProtoReader n(r.bytes(), "tokenizer.model: normalizer_spec");
            while (!n.atEnd()) {
                uint32_t nf, nw;
                n.key(nf, nw);
                if (nf == 1 && nw == 2) normalizerName = std::string(n.bytes());
                else if (nf == 2 && nw == 2) charsmapSize = n.bytes().size();
                else if (nf == 3 && nw == 0) m->dummyPrefix = n.varint() != 0;
                else if (nf == 4 && nw == 0) m->removeExtraSpaces = n.varint() != 0;
                else if (nf == 5 && nw == 0) m->escapeSpaces = n.varint() != 0;
                else n.skip(nw);
            }
        } else {
            r.skip(w);
        }
    }
    if (modelType != 2)
        fail("tokenizer.model: model_type " + std::to_string(modelType) +
             " is not BPE (2); unigram/word/char SentencePiece models are not supported");
    if (charsmapSize > 0 && normalizerName != "identity")
        fail("tokenizer.model: normalizer '" + normalizerName +
             "' with a precompiled charsmap is not supported (only identity)");
    m->unk = int32_t(ids[0]);
    m->bos = int32_t(ids[1]);
    m->eos = int32_t(ids[2]);
    m->pad = int32_t(ids[3]);
    m->addBos = true; // what Llama/Mistral tooling does with a SentencePiece model
    addPiecesAsAddedTokens(*m);
    m->finalize();
    return Tokenizer(std::move(m));
}

} // namespace lathe
