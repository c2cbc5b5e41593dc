// NFC: canonical decomposition, canonical ordering, then canonical composition (UAX #15),
// with Hangul syllables handled algorithmically. Runs of ASCII pass straight through.
#include "tokenizer/Nfc.h"

#include "tokenizer/NfcData.h"
#include "tokenizer/Utf8Util.h"

#include <algorithm>
#include <vector>

namespace lathe::tok {

namespace {

constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

uint8_t combiningClass(uint32_t cp)
{
    const auto *b = std::begin(nfcdata::kCombiningClass), *e = std::end(nfcdata::kCombiningClass);
    const auto it = std::lower_bound(b, e, cp << 8);
    return it != e && (*it >> 8) == cp ? uint8_t(*it & 0xFF) : 0;
}

void decompose(uint32_t cp, std::vector<uint32_t> &out)
{
    if (cp >= kSBase && cp < kSBase + kSCount) {
        const uint32_t s = cp - kSBase;
        out.push_back(kLBase + s / kNCount);
        out.push_back(kVBase + (s % kNCount) / kTCount);
        if (s % kTCount)
            out.push_back(kTBase + s % kTCount);
        return;
    }
    constexpr size_t stride = 2 + nfcdata::kMaxDecomposition;
    const size_t n = std::size(nfcdata::kDecomposition) / stride;
    size_t lo = 0, hi = n;
    while (lo < hi) { // entries are sorted by code point
        const size_t mid = (lo + hi) / 2;
        if (nfcdata::kDecomposition[mid * stride] < cp) lo = mid + 1;
        else hi = mid;
    }
    if (lo < n && nfcdata::kDecomposition[lo * stride] == cp) {
        const uint32_t *e = &nfcdata::kDecomposition[lo * stride];
        out.insert(out.end(), e + 2, e + 2 + e[1]);
        return;
    }
    out.push_back(cp);
}

// The primary composite of (a, b), or 0.
uint32_t compose(uint32_t a, uint32_t b)
{
    if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
        return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
    if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase && b < kTBase + kTCount)
        return a + (b - kTBase);
    const size_t n = std::size(nfcdata::kComposition) / 3;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        const size_t mid = (lo + hi) / 2;
        const uint32_t *e = &nfcdata::kComposition[mid * 3];
        if (e[0] < a || (e[0] == a && e[1] < b)) lo = mid + 1;
        else hi = mid;
    }
    if (lo < n && nfcdata::kComposition[lo * 3] == a && nfcdata::kComposition[lo * 3 + 1] == b)
        return nfcdata::kComposition[lo * 3 + 2];
    return 0;
}

void normalizeRun(std::string_view run, std::string &out)
{
    std::vector<uint32_t> cps;
    for (size_t i = 0; i < run.size();)
        decompose(decodeUtf8(run, i), cps);
    // Canonical ordering: stable sort of each run of non-starters by class.
    for (size_t i = 0; i < cps.size();) {
        if (combiningClass(cps[i]) == 0) { ++i; continue; }
        size_t j = i;
        while (j < cps.size() && combiningClass(cps[j]) != 0)
            ++j;
        std::stable_sort(cps.begin() + long(i), cps.begin() + long(j),
                         [](uint32_t x, uint32_t y) { return combiningClass(x) < combiningClass(y); });
        i = j;
    }
    // Canonical composition.
    std::vector<uint32_t> res;
    res.reserve(cps.size());
    long starter = -1;
    int lastClass = -1;
    for (uint32_t cp : cps) {
        const int cls = combiningClass(cp);
        if (starter >= 0 && (lastClass < cls || (lastClass == 0 && res.size() == size_t(starter) + 1))) {
            if (const uint32_t c = compose(res[size_t(starter)], cp)) {
                res[size_t(starter)] = c;
                continue;
            }
        }
        if (cls == 0) {
            starter = long(res.size());
            lastClass = 0;
        } else {
            lastClass = cls;
        }
        res.push_back(cp);
        if (cls == 0)
            lastClass = 0;
    }
    for (uint32_t cp : res)
        appendUtf8(out, cp);
}

} // namespace

std::string toNfc(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
        if (static_cast<unsigned char>(text[i]) < 0x80) {
            out.push_back(text[i++]);
            continue;
        }
        // A run from the last ASCII character (a starter that may compose with what
        // follows, e.g. "e" + U+0301) to the next ASCII character.
        size_t start = i;
        if (!out.empty() && start > 0) {
            --start;
            out.pop_back();
        }
        size_t end = i;
        while (end < text.size() && static_cast<unsigned char>(text[end]) >= 0x80)
            ++end;
        normalizeRun(text.substr(start, end - start), out);
        i = end;
    }
    return out;
}

} // namespace lathe::tok
