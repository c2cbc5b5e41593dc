// Reader for Hugging Face tokenizer.json (BPE models only): vocab and merges (both the
// "a b" and ["a", "b"] forms), added_tokens, the normalizers, pre-tokenizers and
// post-processors the supported model families use. Anything else is refused with an
// Error naming the field, never approximated silently.
#include "core/Error.h"
#include "tokenizer/Tokenizer.h"
#include "tokenizer/TokenizerModel.h"

#include <nlohmann/json.hpp>

namespace lathe {

using namespace tok;
using nlohmann::json;

namespace {

const std::string kWhere = "tokenizer.json";

const json &member(const json &obj, const char *key, json::value_t type, const std::string &path)
{
    if (!obj.is_object())
        fail(kWhere + ": " + path + " is not an object");
    const auto it = obj.find(key);
    if (it == obj.end())
        fail(kWhere + ": " + path + "." + key + " is missing");
    if (it->type() != type && !(type == json::value_t::number_integer && it->is_number_unsigned()))
        fail(kWhere + ": " + path + "." + key + " has type " + it->type_name());
    return *it;
}

bool flag(const json &obj, const char *key, bool fallback)
{
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null())
        return fallback;
    if (!it->is_boolean())
        fail(kWhere + ": '" + key + "' is not a boolean");
    return it->get<bool>();
}

std::string stringOr(const json &obj, const char *key, const std::string &fallback)
{
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null())
        return fallback;
    if (!it->is_string())
        fail(kWhere + ": '" + key + "' is not a string");
    return it->get<std::string>();
}

// Rejects nesting deeper than limit before nlohmann builds (and later destroys) the tree.
void checkDepth(std::string_view s, int limit)
{
    int depth = 0;
    bool inString = false;
    for (size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (inString) {
            if (c == '\\') ++i;
            else if (c == '"') inString = false;
        } else if (c == '"') {
            inString = true;
        } else if (c == '[' || c == '{') {
            if (++depth > limit)
                fail(kWhere + ": nesting deeper than " + std::to_string(limit));
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
}

std::string regexEscape(const std::string &s)
{
    std::string out;
    for (char c : s) {
        if (std::string_view("\\^$.|?*+()[]{}-/").find(c) != std::string_view::npos)
            out.push_back('\\');
        out.push_back(c);
    }
    return out;
}

void readNormalizer(const json &n, TokenizerModel &m, bool &sawPrepend)
{
    if (n.is_null())
        return;
    const std::string type = member(n, "type", json::value_t::string, "normalizer").get<std::string>();
    if (type == "Sequence") {
        for (const json &x : member(n, "normalizers", json::value_t::array, "normalizer"))
            readNormalizer(x, m, sawPrepend);
    } else if (type == "NFC") {
        m.nfc = true;
    } else if (type == "Prepend") {
        if (member(n, "prepend", json::value_t::string, "normalizer").get<std::string>() != "\xE2\x96\x81")
            fail(kWhere + ": normalizer Prepend supports only U+2581");
        m.dummyPrefix = true;
        sawPrepend = true;
    } else if (type == "Replace") {
        const json &pat = member(n, "pattern", json::value_t::object, "normalizer.Replace");
        if (stringOr(pat, "String", "") != " " || stringOr(n, "content", "") != "\xE2\x96\x81")
            fail(kWhere + ": normalizer Replace supports only ' ' -> U+2581");
        m.escapeSpaces = true;
    } else {
        fail(kWhere + ": normalizer type '" + type + "' is not supported");
    }
}

SplitBehavior behaviorFrom(const std::string &b)
{
    if (b == "Isolated") return SplitBehavior::Isolated;
    if (b == "Removed") return SplitBehavior::Removed;
    if (b == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
    if (b == "MergedWithNext") return SplitBehavior::MergedWithNext;
    if (b == "Contiguous") return SplitBehavior::Contiguous;
    fail(kWhere + ": Split behavior '" + b + "' is not known");
}

void readPreTokenizer(const json &p, TokenizerModel &m, bool &byteLevel)
{
    if (p.is_null())
        return;
    const std::string type = member(p, "type", json::value_t::string, "pre_tokenizer").get<std::string>();
    const auto isolated = [](const std::string &pattern) {
        return PreStep{std::make_shared<const Regex>(pattern), SplitBehavior::Isolated, false};
    };
    if (type == "Sequence") {
        for (const json &x : member(p, "pretokenizers", json::value_t::array, "pre_tokenizer"))
            readPreTokenizer(x, m, byteLevel);
    } else if (type == "Split") {
        const json &pat = member(p, "pattern", json::value_t::object, "pre_tokenizer.Split");
        std::string regex;
        if (pat.contains("Regex"))
            regex = member(pat, "Regex", json::value_t::string, "pre_tokenizer.Split.pattern").get<std::string>();
        else
            regex = regexEscape(member(pat, "String", json::value_t::string, "pre_tokenizer.Split.pattern").get<std::string>());
        PreStep step{std::make_shared<const Regex>(regex),
                     behaviorFrom(member(p, "behavior", json::value_t::string, "pre_tokenizer.Split").get<std::string>()),
                     flag(p, "invert", false)};
        m.preSteps.push_back(std::move(step));
    } else if (type == "ByteLevel") {
        byteLevel = true;
        if (flag(p, "add_prefix_space", false))
            m.bytePrefixSpace = true;
        if (flag(p, "use_regex", true))
            m.preSteps.push_back(isolated(kGpt2Pattern));
    } else if (type == "Digits") {
        m.preSteps.push_back(isolated(flag(p, "individual_digits", false) ? R"(\p{N})" : R"(\p{N}+)"));
    } else {
        fail(kWhere + ": pre_tokenizer type '" + type + "' is not supported");
    }
}

// TemplateProcessing "single": special tokens before $A are the BOS, after it the EOS.
void readPostProcessor(const json &p, TokenizerModel &m)
{
    if (p.is_null())
        return;
    const std::string type = member(p, "type", json::value_t::string, "post_processor").get<std::string>();
    if (type == "Sequence") {
        for (const json &x : member(p, "processors", json::value_t::array, "post_processor"))
            readPostProcessor(x, m);
        return;
    }
    if (type == "ByteLevel")
        return; // offsets only
    if (type != "TemplateProcessing")
        fail(kWhere + ": post_processor type '" + type + "' is not supported");
    bool seenSequence = false;
    for (const json &item : member(p, "single", json::value_t::array, "post_processor")) {
        if (item.contains("Sequence")) {
            seenSequence = true;
            continue;
        }
        const json &st = member(item, "SpecialToken", json::value_t::object, "post_processor.single[]");
        const std::string name = member(st, "id", json::value_t::string, "SpecialToken").get<std::string>();
        const auto it = m.pieceToId.find(name);
        if (it == m.pieceToId.end())
            fail(kWhere + ": post_processor names unknown token '" + name + "'");
        if (!seenSequence) { m.bos = it->second; m.addBos = true; }
        else { m.eos = it->second; m.addEos = true; }
    }
}

// What tokenizer_config.json says of one special token.
struct ConfigToken
{
    bool none = false; // an explicit null: the model has no such token (Qwen: "bos_token": null)
    int32_t id = -1;   // >= 0: the named piece; -1 with !none: absent or not in the vocabulary
};

ConfigToken configToken(const json &cfg, const char *key, const TokenizerModel &m)
{
    const auto it = cfg.find(key);
    if (it == cfg.end())
        return {};
    if (it->is_null())
        return {true, -1};
    const std::string name = it->is_string() ? it->get<std::string>()
                           : it->is_object() ? stringOr(*it, "content", "") : std::string();
    const auto p = m.pieceToId.find(name);
    return {false, p == m.pieceToId.end() ? -1 : p->second};
}

// Applies one config entry to a token slot. postProcessed is what a TemplateProcessing
// post-processor inserts (-1 if nothing): an explicit null cannot take that away, since
// encoding must keep inserting it, but it does stop the guess by name. Returns whether
// the slot is settled (no guess by name wanted).
bool applyConfigToken(const ConfigToken &c, int32_t postProcessed, int32_t &slot)
{
    if (c.none) {
        slot = postProcessed;
        return true;
    }
    if (c.id >= 0)
        slot = c.id;
    return false;
}

int32_t firstKnown(const TokenizerModel &m, std::initializer_list<const char *> names)
{
    for (const char *n : names)
        if (const auto it = m.pieceToId.find(std::string_view(n)); it != m.pieceToId.end())
            return it->second;
    return -1;
}

} // namespace

Tokenizer Tokenizer::fromTokenizerJson(std::string_view text, std::string_view configText)
{
    auto m = std::make_shared<TokenizerModel>();
    m->format = kWhere;
    json root;
    try {
        checkDepth(text, 256);
        root = json::parse(text);
        const json &model = member(root, "model", json::value_t::object, "root");
        const std::string type = stringOr(model, "type", "BPE");
        if (type != "BPE")
            fail(kWhere + ": model type '" + type + "' is not supported (BPE only)");
        if (!stringOr(model, "continuing_subword_prefix", "").empty() || !stringOr(model, "end_of_word_suffix", "").empty())
            fail(kWhere + ": continuing_subword_prefix / end_of_word_suffix are not supported");
        m->mode = MergeMode::Rank;
        m->byteFallback = flag(model, "byte_fallback", false);
        m->fuseUnk = flag(model, "fuse_unk", false);
        m->ignoreMerges = flag(model, "ignore_merges", false);

        const json &vocab = member(model, "vocab", json::value_t::object, "model");
        constexpr int64_t kMaxVocab = 1 << 24;
        for (auto it = vocab.begin(); it != vocab.end(); ++it) {
            if (!it->is_number_integer())
                fail(kWhere + ": model.vocab['" + it.key().substr(0, 64) + "'] is not an integer");
            const int64_t id = it->get<int64_t>();
            if (id < 0 || id >= kMaxVocab || id >= int64_t(vocab.size()) + 65536)
                fail(kWhere + ": model.vocab['" + it.key().substr(0, 64) + "'] has id " + std::to_string(id));
            if (size_t(id) >= m->pieces.size())
                m->pieces.resize(size_t(id) + 1);
            if (!m->pieces[size_t(id)].empty())
                fail(kWhere + ": id " + std::to_string(id) + " is used twice in model.vocab");
            m->pieces[size_t(id)] = it.key();
        }
        m->types.assign(m->pieces.size(), TokenType::Normal);
        const json &added = root.contains("added_tokens") && !root["added_tokens"].is_null()
                                ? member(root, "added_tokens", json::value_t::array, "root") : json::array();
        for (const json &a : added) {
            AddedToken t;
            const int64_t id = member(a, "id", json::value_t::number_integer, "added_tokens[]").get<int64_t>();
            if (id < 0 || id >= kMaxVocab || id >= int64_t(m->pieces.size()) + 65536)
                fail(kWhere + ": added token id " + std::to_string(id) + " is out of range");
            t.id = int32_t(id);
            t.content = member(a, "content", json::value_t::string, "added_tokens[]").get<std::string>();
            t.special = flag(a, "special", false);
            t.lstrip = flag(a, "lstrip", false);
            t.rstrip = flag(a, "rstrip", false);
            t.singleWord = flag(a, "single_word", false);
            if (size_t(id) >= m->pieces.size()) {
                m->pieces.resize(size_t(id) + 1);
                m->types.resize(size_t(id) + 1, TokenType::Unused);
            }
            m->pieces[size_t(id)] = t.content;
            m->types[size_t(id)] = t.special ? TokenType::Control : TokenType::UserDefined;
            if (!t.content.empty())
                m->added.push_back(std::move(t));
        }
        m->indexPieces();
        const std::string unk = stringOr(model, "unk_token", "");
        if (!unk.empty()) {
            const auto it = m->pieceToId.find(unk);
            if (it == m->pieceToId.end())
                fail(kWhere + ": model.unk_token '" + unk + "' is not in the vocabulary");
            m->unk = it->second;
        }

        bool sawPrepend = false, byteLevel = false;
        readNormalizer(root.value("normalizer", json()), *m, sawPrepend);
        if (sawPrepend && !m->escapeSpaces)
            fail(kWhere + ": normalizer Prepend without Replace(' ' -> U+2581) is not supported");
        readPreTokenizer(root.value("pre_tokenizer", json()), *m, byteLevel);
        const json decoder = root.value("decoder", json());
        if (decoder.is_object() && decoder.value("type", "") == "ByteLevel")
            byteLevel = true;
        m->byteLevel = byteLevel;
        if (byteLevel && m->byteFallback)
            fail(kWhere + ": byte_fallback with a byte-level vocabulary is not supported");
        readPostProcessor(root.value("post_processor", json()), *m);

        const json &merges = member(model, "merges", json::value_t::array, "model");
        int32_t rank = 0;
        for (const json &e : merges) {
            const std::string where = kWhere + ": model.merges[" + std::to_string(rank) + "]";
            if (e.is_string()) {
                const std::string &s = e.get_ref<const std::string &>();
                const size_t sp = s.find(' ');
                if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
                    fail(where + " is not 'left right'");
                addMerge(*m, std::string_view(s).substr(0, sp), std::string_view(s).substr(sp + 1), rank, where);
            } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
                addMerge(*m, e[0].get_ref<const std::string &>(), e[1].get_ref<const std::string &>(), rank, where);
            } else {
                fail(where + " is neither a string nor a pair of strings");
            }
            ++rank;
        }

        bool bosSettled = false, eosSettled = false;
        if (!configText.empty()) {
            checkDepth(configText, 256);
            const json cfg = json::parse(configText);
            if (!cfg.is_object())
                fail("tokenizer_config.json: not an object");
            const int32_t postBos = m->addBos ? m->bos : -1, postEos = m->addEos ? m->eos : -1;
            bosSettled = applyConfigToken(configToken(cfg, "bos_token", *m), postBos, m->bos);
            eosSettled = applyConfigToken(configToken(cfg, "eos_token", *m), postEos, m->eos);
            applyConfigToken(configToken(cfg, "pad_token", *m), -1, m->pad);
            if (cfg.contains("add_bos_token") && cfg["add_bos_token"].is_boolean()) m->addBos = cfg["add_bos_token"].get<bool>();
            if (cfg.contains("add_eos_token") && cfg["add_eos_token"].is_boolean()) m->addEos = cfg["add_eos_token"].get<bool>();
        }
        // Families whose files do not say it (no config, or a config without the key):
        // guess the usual names. A config's explicit null means there is none to guess.
        if (m->bos < 0 && !bosSettled) m->bos = firstKnown(*m, {"<|begin_of_text|>", "<s>", "<|startoftext|>"});
        if (m->eos < 0 && !eosSettled) m->eos = firstKnown(*m, {"<|end_of_text|>", "</s>", "<|endoftext|>", "<|im_end|>"});
        m->eot = firstKnown(*m, {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>"});
        m->finalize();
    } catch (const json::exception &e) {
        fail(kWhere + ": " + e.what());
    }
    return Tokenizer(std::move(m));
}

} // namespace lathe
