// Each layout has a signature: the fields a record of that layout must have, with the
// right JSON types. The layouts are tried most specific first (a preference record in
// ShareGPT style is also a ShareGPT record), and the best share wins.
#include "data/FormatDetect.h"

#include <algorithm>
#include <functional>

namespace lathe {

namespace {

using Json = nlohmann::ordered_json;

struct Candidate
{
    std::string format, style;
    std::string describe; // what the signature checks, for the reason
    std::function<bool(const Json &, const FieldNames &)> matches;
};

const Json *member(const Json &v, const std::string &key)
{
    if (key.empty())
        return nullptr;
    const auto it = v.find(key);
    return it == v.end() ? nullptr : &*it;
}

bool isString(const Json *v) { return v && v->is_string(); }

// A non-empty list of turn objects that carry the role tag.
bool isTurnList(const Json *v, const std::string &roleTag)
{
    return v && v->is_array() && !v->empty() && (*v)[0].is_object() && (*v)[0].contains(roleTag);
}

bool sharegptLike(const Json &r, const FieldNames &f)
{
    return isTurnList(member(r, f["messages"]), f["role_tag"]);
}

// A chosen/rejected response in ShareGPT style: one turn object, a list of turns, or text.
bool responseLike(const Json *v, const std::string &roleTag)
{
    return v && (v->is_string() || (v->is_object() && v->contains(roleTag)) || isTurnList(v, roleTag));
}

const std::vector<Candidate> &candidates()
{
    static const std::vector<Candidate> list = {
        {"preference", "sharegpt", "conversations with chosen and rejected turns",
         [](const Json &r, const FieldNames &f) {
             return sharegptLike(r, f) && responseLike(member(r, f["chosen"]), f["role_tag"]) &&
                    responseLike(member(r, f["rejected"]), f["role_tag"]);
         }},
        {"preference", "messages", "chosen and rejected message lists",
         [](const Json &r, const FieldNames &f) {
             return isTurnList(member(r, f["chosen"]), f["role_tag"]) &&
                    isTurnList(member(r, f["rejected"]), f["role_tag"]);
         }},
        {"preference", "alpaca", "an instruction with chosen and rejected strings",
         [](const Json &r, const FieldNames &f) {
             return isString(member(r, f["prompt"])) && isString(member(r, f["chosen"])) &&
                    isString(member(r, f["rejected"]));
         }},
        {"sharegpt", "sharegpt", "a conversation list of from/value turns", sharegptLike},
        {"messages", "messages", "a messages list of role/content turns", sharegptLike},
        {"alpaca", "alpaca", "instruction and output strings",
         [](const Json &r, const FieldNames &f) {
             return isString(member(r, f["prompt"])) && isString(member(r, f["response"]));
         }},
        {"prompt_completion", "prompt_completion", "prompt and completion",
         [](const Json &r, const FieldNames &f) {
             const Json *p = member(r, f["prompt"]);
             const Json *c = member(r, f["completion"]);
             return p && c && (p->is_string() || p->is_array()) && (c->is_string() || c->is_array());
         }},
        {"text", "text", "a text string",
         [](const Json &r, const FieldNames &f) { return isString(member(r, f["text"])); }},
    };
    return list;
}

// The field names the reason quotes, so a user sees the names in their file.
std::string describeFields(const Candidate &c, const FieldNames &f)
{
    if (c.style == "alpaca" && c.format == "alpaca")
        return f["prompt"] + " and " + f["response"];
    if (c.style == "alpaca")
        return f["prompt"] + ", " + f["chosen"] + " and " + f["rejected"];
    if (c.format == "preference" && c.style == "sharegpt")
        return f["messages"] + " (" + f["role_tag"] + "/" + f["content_tag"] + "), " + f["chosen"] + " and " +
               f["rejected"];
    if (c.format == "preference")
        return f["chosen"] + " and " + f["rejected"] + " lists of " + f["role_tag"] + "/" + f["content_tag"] + " turns";
    if (c.style == "sharegpt" || c.style == "messages")
        return f["messages"] + " (" + f["role_tag"] + "/" + f["content_tag"] + " turns)";
    if (c.style == "prompt_completion")
        return f["prompt"] + " and " + f["completion"];
    return "a '" + f["text"] + "' string";
}

} // namespace

FormatGuess detectFormat(const std::vector<RawRecord> &sample, const std::string &readerKind,
                         const std::string &format, const std::map<std::string, std::string> &fieldMap)
{
    FormatGuess guess;
    guess.sampled = int64_t(sample.size());
    if (readerKind == "text" && (format == "auto" || format == "text")) {
        guess.format = {"text", "text"};
        guess.confidence = 1.0;
        guess.matched = guess.sampled;
        guess.reason = "a plain text file: every record is text";
        guess.scores = {{"text", 1.0}};
        return guess;
    }
    const Candidate *best = nullptr;
    FieldNames bestNames;
    for (const Candidate &c : candidates()) {
        if (format != "auto" && format != c.format)
            continue;
        const FieldNames names(c.style, fieldMap);
        int64_t matched = 0;
        for (const RawRecord &r : sample)
            matched += c.matches(r.value, names);
        const double share = sample.empty() ? 0.0 : double(matched) / double(sample.size());
        const std::string label = c.format == c.style ? c.format : c.format + "/" + c.style;
        guess.scores.emplace_back(label, share);
        // Ties go to the earlier (more specific) layout.
        if (!best || matched > guess.matched) {
            best = &c;
            bestNames = names;
            guess.matched = matched;
        }
    }
    std::stable_sort(guess.scores.begin(), guess.scores.end(),
                     [](const auto &a, const auto &b) { return a.second > b.second; });
    if (!best || (guess.matched == 0 && format == "auto")) {
        guess.reason = sample.empty() ? "no records to look at" : "no known layout matches the records";
        return guess;
    }
    guess.format = {best->format, best->style};
    guess.confidence = sample.empty() ? 0.0 : double(guess.matched) / double(sample.size());
    guess.reason = std::to_string(guess.matched) + " of " + std::to_string(guess.sampled) +
                   " sampled records have " + describeFields(*best, bestNames);
    return guess;
}

} // namespace lathe
