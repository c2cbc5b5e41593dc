// TokenizerModel::finalize: derives lookup tables (piece -> id, decoded bytes, byte
// tokens) from what a reader filled in, and rejects inconsistent vocabularies.
#include "tokenizer/TokenizerModel.h"

#include "core/Error.h"
#include "tokenizer/Utf8Util.h"

namespace lathe::tok {

namespace {
// "<0x41>" -> 0x41, or -1.
int parseByteToken(std::string_view p)
{
    if (p.size() != 6 || p.substr(0, 3) != "<0x" || p[5] != '>')
        return -1;
    int v = 0;
    for (char c : p.substr(3, 2)) {
        v <<= 4;
        if (c >= '0' && c <= '9') v |= c - '0';
        else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
        else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
        else return -1;
    }
    return v;
}
} // namespace

void TokenizerModel::finalize()
{
    const size_t n = pieces.size();
    if (n == 0)
        fail(format + ": empty vocabulary");
    if (n > size_t(INT32_MAX))
        fail(format + ": vocabulary too large");
    scores.resize(n, 0.0f);
    types.resize(n, TokenType::Normal);
    special.resize(n, false);
    for (const AddedToken &a : added) {
        if (a.id < 0 || size_t(a.id) >= n)
            fail(format + ": added token '" + a.content + "' has id " + std::to_string(a.id) +
                 " outside the vocabulary of " + std::to_string(n));
        if (a.content.empty())
            fail(format + ": added token " + std::to_string(a.id) + " is empty");
        if (a.special)
            special[size_t(a.id)] = true;
    }
    for (int32_t *id : {&unk, &bos, &eos, &eot, &pad})
        if (*id >= int32_t(n) || *id < -1)
            *id = -1; // an out-of-range special id is treated as absent
    if (eot < 0)
        eot = eos;

    if (pieceToId.empty())
        indexPieces();
    for (auto &v : addedByFirstByte)
        v.clear();
    for (size_t k = 0; k < added.size(); ++k)
        addedByFirstByte[uint8_t(added[k].content[0])].push_back(uint32_t(k));

    byteToken.fill(-1);
    bytes.assign(n, std::string());
    std::vector<bool> isAdded(n, false);
    for (const AddedToken &a : added)
        isAdded[size_t(a.id)] = true;
    for (size_t i = 0; i < n; ++i) {
        const std::string &p = pieces[i];
        if (types[i] == TokenType::Control || types[i] == TokenType::Unknown)
            special[i] = true;
        if (byteLevel) {
            if (isAdded[i] || types[i] == TokenType::Control || types[i] == TokenType::UserDefined)
                bytes[i] = p; // added tokens are stored as plain text
            else
                byteLevelDecode(p, bytes[i]);
            if (!isAdded[i] && types[i] != TokenType::Control && bytes[i].size() == 1 &&
                byteToken[uint8_t(bytes[i][0])] < 0)
                byteToken[uint8_t(bytes[i][0])] = int32_t(i);
            continue;
        }
        const int b = parseByteToken(p);
        if (b >= 0 && (types[i] == TokenType::Byte || (byteFallback && types[i] == TokenType::Normal))) {
            types[i] = TokenType::Byte;
            bytes[i] = std::string(1, char(b));
            if (byteToken[size_t(b)] < 0)
                byteToken[size_t(b)] = int32_t(i);
            continue;
        }
        std::string &out = bytes[i];
        out.reserve(p.size());
        for (size_t k = 0; k < p.size(); ++k) {
            if (escapeSpaces && p.compare(k, 3, "\xE2\x96\x81") == 0) {
                out.push_back(' ');
                k += 2;
            } else {
                out.push_back(p[k]);
            }
        }
    }
    if (byteLevel) {
        bytesToId.clear();
        bytesToId.reserve(n);
        for (size_t i = 0; i < n; ++i)
            if (!isAdded[i] && types[i] != TokenType::Control)
                bytesToId.emplace(bytes[i], int32_t(i));
    }
    stripDummyOnDecode = dummyPrefix;
    splitAtSpaceMark = escapeSpaces;
    constexpr std::string_view mark = "\xE2\x96\x81"; // U+2581
    for (size_t i = 0; i < n && splitAtSpaceMark; ++i) {
        const std::string &p = pieces[i];
        for (size_t at = p.find(mark, 1); at != std::string::npos; at = p.find(mark, at + 1)) {
            if (at < mark.size() || p.compare(at - mark.size(), mark.size(), mark) != 0) {
                splitAtSpaceMark = false;
                break;
            }
        }
    }
}

void TokenizerModel::indexPieces()
{
    pieceToId.clear();
    pieceToId.reserve(pieces.size());
    for (size_t i = 0; i < pieces.size(); ++i)
        pieceToId.emplace(pieces[i], int32_t(i)); // the first of duplicate pieces wins
}

void addPiecesAsAddedTokens(TokenizerModel &m)
{
    for (size_t i = 0; i < m.types.size() && i < m.pieces.size(); ++i) {
        const TokenType t = m.types[i];
        if (m.pieces[i].empty())
            continue;
        if (t == TokenType::UserDefined)
            m.added.push_back({m.pieces[i], int32_t(i), false, false, false, false});
        else if (t == TokenType::Control || t == TokenType::Unknown)
            m.added.push_back({m.pieces[i], int32_t(i), true, false, false, false});
    }
}

void addMerge(TokenizerModel &m, std::string_view left, std::string_view right, int32_t rank,
              const std::string &where)
{
    const auto l = m.pieceToId.find(left);
    const auto r = m.pieceToId.find(right);
    if (l == m.pieceToId.end() || r == m.pieceToId.end())
        fail(where + ": merge '" + std::string(left) + " " + std::string(right) + "' names a token not in the vocabulary");
    std::string joined;
    joined.reserve(left.size() + right.size());
    joined.append(left).append(right);
    const auto j = m.pieceToId.find(joined);
    if (j == m.pieceToId.end())
        fail(where + ": merge '" + std::string(left) + " " + std::string(right) + "' makes a token not in the vocabulary");
    const uint64_t key = (uint64_t(uint32_t(l->second)) << 32) | uint32_t(r->second);
    m.merges.try_emplace(key, MergeRule{rank, j->second}); // the first (best) rank wins
}

} // namespace lathe::tok
