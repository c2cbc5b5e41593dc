// Pre-tokenisation: cutting normalised text into pieces that BPE then works on one at a
// time. Pieces are byte spans of the text. Covers the Hugging Face pre-tokenizers the
// supported models use (Split with a regex and any behaviour, ByteLevel with its GPT-2
// regex, Digits, Sequence) and the regex sets llama.cpp names in tokenizer.ggml.pre.
// Regexes are compiled once with PCRE2 (UTF + UCP, JIT when available) and shared.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lathe::tok {

// A compiled PCRE2 pattern; immutable and safe to use from many threads.
class Regex
{
public:
    // Throws Error quoting the pattern and PCRE2's message on a bad pattern.
    explicit Regex(const std::string &pattern);
    ~Regex();
    Regex(const Regex &) = delete;
    Regex &operator=(const Regex &) = delete;
    // Calls fn(start, end) for each successive non-overlapping match in subject (valid
    // UTF-8). Empty matches are skipped. Throws Error if matching fails (resource limits).
    template <typename Fn> void forEachMatch(std::string_view subject, Fn &&fn) const;
    const std::string &pattern() const { return m_pattern; }

private:
    // Finds the next match at or after offset; false when there is none.
    bool next(std::string_view subject, size_t offset, void *matchData, size_t &start, size_t &end) const;
    void *newMatchData() const;
    static void freeMatchData(void *md);
    std::string m_pattern;
    void *m_code = nullptr; // pcre2_code_8
};

template <typename Fn> void Regex::forEachMatch(std::string_view subject, Fn &&fn) const
{
    std::unique_ptr<void, void (*)(void *)> md(newMatchData(), &freeMatchData);
    size_t offset = 0, start = 0, end = 0;
    while (offset <= subject.size() && next(subject, offset, md.get(), start, end)) {
        if (end == start) { // empty match: step over one character
            offset = end + 1;
            while (offset < subject.size() && (static_cast<unsigned char>(subject[offset]) & 0xC0) == 0x80)
                ++offset;
            continue;
        }
        fn(start, end);
        offset = end;
    }
}

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

struct PreStep
{
    std::shared_ptr<const Regex> regex;
    SplitBehavior behavior = SplitBehavior::Isolated;
    bool invert = false;
};

struct Span
{
    uint32_t start = 0;
    uint32_t end = 0;
};

// Applies the steps in order to text; each step refines the spans of the previous one.
std::vector<Span> preTokenize(const std::vector<PreStep> &steps, std::string_view text);

// Patterns used by more than one reader.
extern const char *const kGpt2Pattern;  // ByteLevel(use_regex) and GGUF "gpt-2"
extern const char *const kLlama3Pattern; // GGUF "llama-bpe"
extern const char *const kQwen2Pattern;  // GGUF "qwen2"

// The steps for a GGUF tokenizer.ggml.pre value; Error for names we do not know.
std::vector<PreStep> ggufPreSteps(const std::string &pre);

} // namespace lathe::tok
