// SentencePiece-style text is merged word by word (cut before each run of U+2581) only
// when no piece could join a word to the next: hand-built llama2.c vocabularies whose
// BPE results are worked out by hand below, one with a piece "a▁" that spans a word
// boundary (so the text must be merged whole) and one without.
#include "tokenizer/Tokenizer.h"

#include <QtTest>
#include <cstring>

namespace {

struct Piece
{
    const char *text; // llama2.c stores spaces as ' '
    float score;
};

// llama2.c tokenizer.bin: int32 max_token_length, then per token float score, int32
// length and the bytes. Ids 0..2 are <unk>, <s>, </s> by llama2.c's convention.
std::string llama2cBin(const std::vector<Piece> &pieces)
{
    std::string bin;
    const auto put = [&](const void *p, size_t n) { bin.append(static_cast<const char *>(p), n); };
    const int32_t maxLen = 16;
    put(&maxLen, 4);
    for (const Piece &p : pieces) {
        const int32_t len = int32_t(std::strlen(p.text));
        put(&p.score, 4);
        put(&len, 4);
        put(p.text, size_t(len));
    }
    return bin;
}

std::vector<int32_t> encode(const lathe::Tokenizer &t, const char *text)
{
    lathe::EncodeOptions o;
    o.addSpecial = false;
    return t.encode(text, o);
}

} // namespace

class TestTokenizerWords : public QObject
{
    Q_OBJECT

private slots:
    void wordsMergeAlone()
    {
        //                                  3         4         5         6           7           8
        const lathe::Tokenizer t = lathe::Tokenizer::fromLlama2c(llama2cBin(
            {{"<unk>", 0}, {"<s>", 0}, {"</s>", 0}, {" ", 0}, {"a", 0}, {"b", 0}, {" a", 1}, {" b", 2}, {"  ", 3}}));
        // "a b" -> "▁a▁b": candidates ▁a (1), ▁b (2); both merge.
        QCOMPARE(encode(t, "a b"), (std::vector<int32_t>{6, 7}));
        // "a  b" -> "▁a▁▁b": ▁▁ (3) first, then ▁a; "▁▁b" is no piece.
        QCOMPARE(encode(t, "a  b"), (std::vector<int32_t>{6, 8, 5}));
        // Repeated words come out the same every time (the per-call memo).
        QCOMPARE(encode(t, "b a b a"), (std::vector<int32_t>{7, 6, 7, 6}));
    }

    void pieceAcrossWordBoundary()
    {
        //                                  3         4         5         6           7           8
        const lathe::Tokenizer t = lathe::Tokenizer::fromLlama2c(llama2cBin(
            {{"<unk>", 0}, {"<s>", 0}, {"</s>", 0}, {" ", 0}, {"a", 0}, {"b", 0}, {" a", 1}, {" b", 2}, {"a ", 5}}));
        // "▁a▁b": "a▁" (5) beats ▁b (2) and ▁a (1), leaving ▁ | a▁ | b with no further
        // piece ("▁a▁", "a▁b"). Cutting at the second ▁ would give ▁a ▁b instead.
        QCOMPARE(encode(t, "a b"), (std::vector<int32_t>{3, 8, 5}));
        QCOMPARE(t.decode(encode(t, "a b")), std::string("a b"));
    }
};

QTEST_GUILESS_MAIN(TestTokenizerWords)
#include "tst_tokenizer_words.moc"
