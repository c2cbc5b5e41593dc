// BPE over the symbols of one pre-token. Symbols are byte spans of the normalised text in
// a doubly linked list; candidate merges of adjacent pairs wait in a min-heap ordered by
// (priority, left position), so each merge costs O(log n) and stale candidates are
// recognised (their pair no longer spans the same bytes) and dropped when popped.
// Score mode: priority = -score of the merged piece (SentencePiece). Rank mode: the
// merge's rank (GPT-2 / Hugging Face). Ties go to the leftmost pair in both.
#include "tokenizer/BpeEncoder.h"

#include "tokenizer/Nfc.h"
#include "tokenizer/Utf8Util.h"

#include <queue>

namespace lathe::tok {

namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81"; // U+2581

struct Symbol
{
    uint32_t start;
    uint32_t len;
    int32_t id; // -1: no piece (Score mode characters outside the vocabulary)
    int32_t prev;
    int32_t next;
};

struct Candidate
{
    double priority;
    int32_t left;
    int32_t right;
    uint32_t size;
    int32_t id;
};

struct LaterFirst
{
    bool operator()(const Candidate &a, const Candidate &b) const
    {
        return a.priority > b.priority || (a.priority == b.priority && a.left > b.left);
    }
};

std::string normalize(const TokenizerModel &m, std::string_view text)
{
    std::string s = m.nfc ? toNfc(text) : std::string(text);
    if (m.removeExtraSpaces) {
        std::string t;
        t.reserve(s.size());
        for (char c : s) {
            if (c == ' ' && (t.empty() || t.back() == ' '))
                continue;
            t.push_back(c);
        }
        while (!t.empty() && t.back() == ' ')
            t.pop_back();
        s.swap(t);
    }
    if (s.empty())
        return s;
    if (m.bytePrefixSpace && s[0] != ' ')
        s.insert(s.begin(), ' ');
    if (!m.dummyPrefix && !m.escapeSpaces)
        return s;
    std::string out;
    out.reserve(s.size() + s.size() / 2 + 3);
    if (m.dummyPrefix)
        out.append(m.escapeSpaces ? kSpaceMark : std::string_view(" "));
    for (char c : s) {
        if (c == ' ' && m.escapeSpaces)
            out.append(kSpaceMark);
        else
            out.push_back(c);
    }
    return out;
}

// Initial symbols of a pre-token; Rank mode resolves characters outside the vocabulary
// to byte tokens (byte_fallback) or unk here, Score mode leaves them at -1 for later.
void initialSymbols(const TokenizerModel &m, std::string_view text, uint32_t base, std::vector<Symbol> &syms)
{
    const auto push = [&](uint32_t start, uint32_t len, int32_t id) {
        const int32_t k = int32_t(syms.size());
        syms.push_back({start, len, id, k - 1, -1});
        if (k > 0)
            syms[size_t(k) - 1].next = k;
    };
    if (m.byteLevel) { // a byte missing from the vocabulary is dropped, as HF does
        for (uint32_t i = 0; i < text.size(); ++i) {
            const int32_t id = m.byteToken[uint8_t(text[i])];
            if (id >= 0 || m.unk >= 0)
                push(base + i, 1, id >= 0 ? id : m.unk);
        }
        return;
    }
    for (uint32_t i = 0; i < text.size();) {
        const uint32_t n = std::min<uint32_t>(uint32_t(leadLength(uint8_t(text[i]))), uint32_t(text.size()) - i);
        const auto it = m.pieceToId.find(text.substr(i, n));
        int32_t id = it == m.pieceToId.end() ? -1 : it->second;
        if (m.mode == MergeMode::Score) {
            if (id >= 0 && !m.mergeable(id))
                id = -1;
            push(base + i, n, id);
        } else if (id >= 0) {
            push(base + i, n, id);
        } else if (m.byteFallback) {
            bool all = true;
            for (uint32_t k = 0; k < n; ++k)
                all = all && m.byteToken[uint8_t(text[i + k])] >= 0;
            if (all) {
                for (uint32_t k = 0; k < n; ++k)
                    push(base + i + k, 1, m.byteToken[uint8_t(text[i + k])]);
            } else {
                push(base + i, n, m.unk);
            }
        } else if (m.fuseUnk && !syms.empty() && syms.back().id == m.unk && m.unk >= 0) {
            syms.back().len += n;
        } else if (m.unk >= 0) {
            push(base + i, n, m.unk);
        }
        i += n;
    }
}

void mergeSymbols(const TokenizerModel &m, std::string_view text, std::vector<Symbol> &syms)
{
    std::priority_queue<Candidate, std::vector<Candidate>, LaterFirst> heap;
    const auto consider = [&](int32_t l, int32_t r) {
        if (l < 0 || r < 0)
            return;
        const Symbol &a = syms[size_t(l)];
        const Symbol &b = syms[size_t(r)];
        if (m.mode == MergeMode::Rank) {
            if (a.id < 0 || b.id < 0)
                return;
            const auto it = m.merges.find((uint64_t(uint32_t(a.id)) << 32) | uint32_t(b.id));
            if (it != m.merges.end())
                heap.push({double(it->second.rank), l, r, a.len + b.len, it->second.id});
        } else {
            const auto it = m.pieceToId.find(text.substr(a.start, a.len + b.len));
            if (it != m.pieceToId.end() && m.mergeable(it->second))
                heap.push({-double(m.scores[size_t(it->second)]), l, r, a.len + b.len, it->second});
        }
    };
    for (size_t i = 0; i + 1 < syms.size(); ++i)
        consider(int32_t(i), int32_t(i + 1));
    while (!heap.empty()) {
        const Candidate c = heap.top();
        heap.pop();
        Symbol &a = syms[size_t(c.left)];
        if (a.len == 0 || a.next != c.right || a.len + syms[size_t(c.right)].len != c.size)
            continue; // stale: one side has merged since
        Symbol &b = syms[size_t(c.right)];
        a.len += b.len;
        a.id = c.id;
        a.next = b.next;
        if (b.next >= 0)
            syms[size_t(b.next)].prev = c.left;
        b.len = 0;
        consider(a.prev, c.left);
        consider(c.left, a.next);
    }
}

void encodePreToken(const TokenizerModel &m, std::string_view text, uint32_t start, uint32_t end,
                    std::vector<Symbol> &syms, std::vector<int32_t> &out)
{
    const std::string_view piece = text.substr(start, end - start);
    if (m.ignoreMerges && m.byteLevel) {
        if (const auto it = m.bytesToId.find(piece); it != m.bytesToId.end()) {
            out.push_back(it->second);
            return;
        }
    }
    syms.clear();
    initialSymbols(m, piece, start, syms);
    if (syms.size() > 1)
        mergeSymbols(m, text, syms);
    for (int32_t k = 0; k >= 0 && size_t(k) < syms.size(); k = syms[size_t(k)].next) {
        const Symbol &s = syms[size_t(k)];
        if (s.id >= 0) {
            out.push_back(s.id);
            continue;
        }
        if (m.mode == MergeMode::Rank) // unk absent: the character is dropped, as HF does
            continue;
        for (uint32_t i = 0; i < s.len; ++i) { // Score mode: byte fallback, else unk
            const int32_t b = m.byteToken[uint8_t(text[s.start + i])];
            if (b >= 0) {
                out.push_back(b);
            } else if (m.unk >= 0) {
                out.push_back(m.unk);
                break; // one unk for the whole unknown character
            }
        }
    }
}

// SentencePiece-style text cut before each run of U+2581 that follows another character
// ("▁a▁▁b" -> "▁a", "▁▁b"); valid only when m.splitAtSpaceMark.
std::vector<Span> splitBeforeSpaceMarks(std::string_view text)
{
    std::vector<Span> spans;
    uint32_t start = 0;
    bool afterMark = true; // a run at the very start belongs to the first word
    for (uint32_t i = 0; i < text.size();) {
        const bool mark = text.compare(i, kSpaceMark.size(), kSpaceMark) == 0;
        if (mark && !afterMark && i > start) {
            spans.push_back({start, i});
            start = i;
        }
        afterMark = mark;
        i += mark ? uint32_t(kSpaceMark.size()) : 1;
    }
    if (start < text.size())
        spans.push_back({start, uint32_t(text.size())});
    return spans;
}

} // namespace

void encodePlainText(const TokenizerModel &m, std::string_view raw, std::vector<int32_t> &out, BpeCache &cache)
{
    const std::string text = normalize(m, raw);
    if (text.empty())
        return;
    std::vector<Symbol> syms;
    if (m.preSteps.empty() && !m.splitAtSpaceMark) {
        encodePreToken(m, text, 0, uint32_t(text.size()), syms, out);
        return;
    }
    constexpr size_t kMaxCachedLength = 64, kMaxEntries = 1 << 16; // bounds the memo's memory
    std::vector<int32_t> ids;
    const std::vector<Span> words = m.preSteps.empty() ? splitBeforeSpaceMarks(text) : preTokenize(m.preSteps, text);
    for (const Span &s : words) {
        const std::string_view word(text.data() + s.start, s.end - s.start);
        if (word.size() > kMaxCachedLength) {
            encodePreToken(m, text, s.start, s.end, syms, out);
            continue;
        }
        if (const auto it = cache.entries.find(word); it != cache.entries.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            continue;
        }
        ids.clear();
        encodePreToken(m, text, s.start, s.end, syms, ids);
        out.insert(out.end(), ids.begin(), ids.end());
        if (cache.entries.size() >= kMaxEntries)
            cache.entries.clear();
        cache.entries.emplace(std::string(word), ids);
    }
}

} // namespace lathe::tok
