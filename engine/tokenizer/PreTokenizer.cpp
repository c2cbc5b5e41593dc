// PCRE2-backed regex splitting for the pre-tokenizers (see PreTokenizer.h).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/PreTokenizer.h"

#include "core/Error.h"

#include <pcre2.h>

namespace lathe::tok {

const char *const kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char *const kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char *const kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

Regex::Regex(const std::string &pattern) : m_pattern(pattern)
{
    int err = 0;
    PCRE2_SIZE errOffset = 0;
    pcre2_code *code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &errOffset, nullptr);
    if (!code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        fail("regex '" + pattern + "' at offset " + std::to_string(errOffset) + ": " +
             reinterpret_cast<const char *>(msg));
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); // optional: falls back to the interpreter
    m_code = code;
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code *>(m_code)); }

void *Regex::newMatchData() const
{
    void *md = pcre2_match_data_create_from_pattern(static_cast<pcre2_code *>(m_code), nullptr);
    if (!md)
        throw OutOfMemoryError("regex match data");
    return md;
}

void Regex::freeMatchData(void *md) { pcre2_match_data_free(static_cast<pcre2_match_data *>(md)); }

bool Regex::next(std::string_view subject, size_t offset, void *matchData, size_t &start, size_t &end) const
{
    auto *md = static_cast<pcre2_match_data *>(matchData);
    const int rc = pcre2_match(static_cast<pcre2_code *>(m_code), reinterpret_cast<PCRE2_SPTR>(subject.data()),
                               subject.size(), offset, PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH)
        return false;
    if (rc < 0) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(rc, msg, sizeof msg);
        fail("pre-tokenizer regex: " + std::string(reinterpret_cast<const char *>(msg)));
    }
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    start = ov[0];
    end = ov[1];
    return end >= start; // \K could invert them; treat that as no match
}

namespace {

// One Split step over one span, following the Hugging Face behaviours: matches and the
// gaps between them are the two kinds of piece (swapped by invert).
void splitSpan(const PreStep &step, std::string_view text, Span span, std::vector<Span> &out)
{
    struct Piece { Span s; bool match; };
    std::vector<Piece> pieces;
    const std::string_view sub = text.substr(span.start, span.end - span.start);
    uint32_t prev = 0;
    step.regex->forEachMatch(sub, [&](size_t a, size_t b) {
        if (a > prev)
            pieces.push_back({{span.start + prev, span.start + uint32_t(a)}, false});
        pieces.push_back({{span.start + uint32_t(a), span.start + uint32_t(b)}, true});
        prev = uint32_t(b);
    });
    if (prev < sub.size())
        pieces.push_back({{span.start + prev, span.end}, false});
    if (step.invert)
        for (Piece &p : pieces)
            p.match = !p.match;

    bool glueNext = false; // MergedWithNext: the last match waits for what follows
    for (size_t i = 0; i < pieces.size(); ++i) {
        const Piece &p = pieces[i];
        switch (step.behavior) {
        case SplitBehavior::Isolated:
            out.push_back(p.s);
            break;
        case SplitBehavior::Removed:
            if (!p.match)
                out.push_back(p.s);
            break;
        case SplitBehavior::MergedWithPrevious:
            if (p.match && i > 0)
                out.back().end = p.s.end;
            else
                out.push_back(p.s);
            break;
        case SplitBehavior::MergedWithNext:
            if (glueNext)
                out.back().end = p.s.end;
            else
                out.push_back(p.s);
            glueNext = p.match;
            break;
        case SplitBehavior::Contiguous:
            if (p.match && i > 0 && pieces[i - 1].match)
                out.back().end = p.s.end;
            else
                out.push_back(p.s);
            break;
        }
    }
}

} // namespace

std::vector<Span> preTokenize(const std::vector<PreStep> &steps, std::string_view text)
{
    std::vector<Span> spans;
    if (text.empty())
        return spans;
    spans.push_back({0, uint32_t(text.size())});
    std::vector<Span> next;
    for (const PreStep &step : steps) {
        next.clear();
        for (const Span &s : spans)
            splitSpan(step, text, s, next);
        spans.swap(next);
    }
    return spans;
}

std::vector<PreStep> ggufPreSteps(const std::string &pre)
{
    const auto isolated = [](const char *pattern) {
        return PreStep{std::make_shared<const Regex>(pattern), SplitBehavior::Isolated, false};
    };
    if (pre.empty() || pre == "default" || pre == "gpt-2" || pre == "gpt2")
        return {isolated(kGpt2Pattern)};
    if (pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3")
        return {isolated(kLlama3Pattern)};
    if (pre == "qwen2" || pre == "deepseek-r1-qwen")
        return {isolated(kQwen2Pattern)};
    if (pre == "smollm") // Digits(individual) then the GPT-2 ByteLevel regex
        return {isolated(R"(\p{N})"), isolated(kGpt2Pattern)};
    fail("unsupported tokenizer.ggml.pre '" + pre + "' (known: default, gpt-2, llama-bpe, qwen2, smollm)");
}

} // namespace lathe::tok
