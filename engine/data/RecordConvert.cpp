// One converter per layout; all end in the canonical record. Alpaca prompts are
// instruction + "\n" + input (LLaMA-Factory's rule), history pairs come before them.
#include "data/RecordConvert.h"

#include "data/ConvertContext.h"
#include "data/RecordParse.h"

namespace lathe {

namespace {

using dataimpl::ConvertContext;
using dataimpl::Json;

Turn makeTurn(const char *role, std::string content)
{
    Turn t;
    t.role = role;
    t.content = std::move(content);
    return t;
}

// system, history and the instruction (+ input) of an Alpaca-style record.
std::vector<Turn> alpacaPrompt(const Json &v, ConvertContext &ctx)
{
    std::vector<Turn> turns;
    const FieldNames &f = ctx.fields;
    if (auto system = ctx.getString(v, f["system"], false); system && !system->empty())
        turns.push_back(makeTurn("system", *system));
    if (const Json *history = ctx.get(v, f["history"], false); history && !history->is_null()) {
        if (!history->is_array())
            ctx.error(f["history"], "expected a list of [prompt, response] pairs, got " +
                                         dataimpl::describeType(*history));
        else
            for (size_t i = 0; i < history->size(); ++i) {
                const Json &pair = (*history)[i];
                if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) {
                    ctx.error(f["history"] + "[" + std::to_string(i) + "]",
                              "expected a [prompt, response] pair of strings");
                    continue;
                }
                turns.push_back(makeTurn("user", pair[0].get<std::string>()));
                turns.push_back(makeTurn("assistant", pair[1].get<std::string>()));
            }
    }
    const auto instruction = ctx.getString(v, f["prompt"], true);
    const auto input = ctx.getString(v, f["query"], false);
    if (!instruction)
        return turns;
    std::string prompt = *instruction;
    if (input && !input->empty())
        prompt = prompt.empty() ? *input : prompt + "\n" + *input;
    if (prompt.empty())
        ctx.error(f["prompt"], "empty instruction" + (f["query"].empty() ? std::string() : " and " + f["query"]));
    turns.push_back(makeTurn("user", prompt));
    return turns;
}

// A non-empty response string as one assistant turn.
std::vector<Turn> responseString(const Json &v, const std::string &key, ConvertContext &ctx)
{
    const auto text = ctx.getString(v, key, true);
    if (!text)
        return {};
    if (text->empty()) {
        ctx.error(key, "empty response");
        return {};
    }
    return {makeTurn("assistant", *text)};
}

// A preference response: text, one turn object, or a list of turns, all assistant.
std::vector<Turn> responseTurns(const Json &record, const std::string &key, ConvertContext &ctx)
{
    const Json *v = ctx.get(record, key, true);
    if (!v)
        return {};
    if (v->is_string())
        return responseString(record, key, ctx);
    std::vector<Turn> turns = dataimpl::parseTurns(v->is_object() ? Json::array({*v}) : *v, key, ctx);
    for (size_t i = 0; i < turns.size(); ++i)
        if (turns[i].role != "assistant" && turns[i].role != "tool") {
            ctx.error(key, "a response must be assistant turns, found " + turns[i].role);
            return {};
        }
    if (!turns.empty() && turns.front().role != "assistant")
        ctx.error(key, "a response must start with an assistant turn");
    return turns;
}

// The messages of a chat-style record: optional system column + the turn list + tools.
Conversation chatConversation(const Json &v, ConvertContext &ctx)
{
    Conversation c;
    const FieldNames &f = ctx.fields;
    if (auto system = ctx.getString(v, f["system"], false); system && !system->empty())
        c.turns.push_back(makeTurn("system", *system));
    if (const Json *list = ctx.get(v, f["messages"], true)) {
        std::vector<Turn> turns = dataimpl::parseTurns(*list, f["messages"], ctx);
        c.turns.insert(c.turns.end(), turns.begin(), turns.end());
    }
    if (const Json *tools = ctx.get(v, f["tools"], false))
        c.tools = dataimpl::parseTools(*tools, f["tools"], ctx);
    return c;
}

bool sameTurn(const Turn &a, const Turn &b)
{
    return a.role == b.role && a.content == b.content && a.toolCalls == b.toolCalls;
}

} // namespace

RecordConverter::RecordConverter(DatasetFormat format, const std::map<std::string, std::string> &fieldMap,
                                 std::string file)
    : m_format(std::move(format)), m_fields(m_format.style, fieldMap), m_file(std::move(file))
{
}

std::optional<CanonicalRecord> RecordConverter::convert(const RawRecord &raw, IssueList &issues) const
{
    ConvertContext ctx{m_file, raw.line, issues, m_fields};
    const Json &v = raw.value;
    CanonicalRecord rec;
    rec.line = raw.line;
    const std::string &style = m_format.style;
    const bool preference = m_format.format == "preference";

    if (style == "text") {
        rec.kind = RecordKind::Text;
        const auto text = ctx.getString(v, m_fields["text"], true);
        if (!text)
            return std::nullopt;
        if (text->find_first_not_of(" \t\r\n") == std::string::npos) {
            ctx.warning(m_fields["text"], "empty text; the record is skipped");
            return std::nullopt;
        }
        rec.text = *text;
        return rec;
    }
    if (style == "alpaca") {
        rec.conversation.turns = alpacaPrompt(v, ctx);
        if (preference) {
            rec.kind = RecordKind::Preference;
            rec.chosen = responseString(v, m_fields["chosen"], ctx);
            rec.rejected = responseString(v, m_fields["rejected"], ctx);
        } else {
            for (Turn &t : responseString(v, m_fields["response"], ctx))
                rec.conversation.turns.push_back(std::move(t));
        }
    } else if (style == "prompt_completion") {
        // Either side may also be a message list (TRL's conversational prompt-completion).
        const FieldNames messageFields("messages", {});
        ConvertContext inner{m_file, raw.line, issues, messageFields};
        if (auto system = ctx.getString(v, m_fields["system"], false); system && !system->empty())
            rec.conversation.turns.push_back(makeTurn("system", *system));
        for (const char *key : {"prompt", "completion"}) {
            const std::string &name = m_fields[key];
            const Json *side = ctx.get(v, name, true);
            if (!side)
                continue;
            std::vector<Turn> turns;
            if (side->is_array())
                turns = dataimpl::parseTurns(*side, name, inner);
            else if (std::string(key) == "prompt")
                turns = {makeTurn("user", ctx.getString(v, name, true).value_or(""))};
            else
                turns = responseString(v, name, ctx);
            rec.conversation.turns.insert(rec.conversation.turns.end(), turns.begin(), turns.end());
        }
        ctx.ok = ctx.ok && inner.ok;
        if (ctx.ok)
            dataimpl::checkRoles(rec.conversation.turns, m_fields["prompt"], "assistant", ctx);
    } else if (!preference) { // sharegpt, messages
        rec.conversation = chatConversation(v, ctx);
        if (ctx.ok)
            dataimpl::checkRoles(rec.conversation.turns, m_fields["messages"], "assistant", ctx);
    } else if (style == "sharegpt") {
        rec.kind = RecordKind::Preference;
        rec.conversation = chatConversation(v, ctx);
        if (ctx.ok)
            dataimpl::checkRoles(rec.conversation.turns, m_fields["messages"], "user", ctx);
        rec.chosen = responseTurns(v, m_fields["chosen"], ctx);
        rec.rejected = responseTurns(v, m_fields["rejected"], ctx);
    } else { // preference, messages style
        rec.kind = RecordKind::Preference;
        if (const Json *tools = ctx.get(v, m_fields["tools"], false))
            rec.conversation.tools = dataimpl::parseTools(*tools, m_fields["tools"], ctx);
        std::vector<Turn> chosen, rejected;
        if (const Json *c = ctx.get(v, m_fields["chosen"], true))
            chosen = dataimpl::parseTurns(*c, m_fields["chosen"], ctx);
        if (const Json *r = ctx.get(v, m_fields["rejected"], true))
            rejected = dataimpl::parseTurns(*r, m_fields["rejected"], ctx);
        if (const Json *prompt = ctx.get(v, m_fields["prompt"], false); prompt && !prompt->is_null()) {
            rec.conversation.turns = prompt->is_string() ? std::vector<Turn>{makeTurn("user", prompt->get<std::string>())}
                                                         : dataimpl::parseTurns(*prompt, m_fields["prompt"], ctx);
        } else {
            // TRL's implicit prompt: the turns both conversations share.
            size_t n = 0;
            while (n < chosen.size() && n < rejected.size() && sameTurn(chosen[n], rejected[n]))
                ++n;
            rec.conversation.turns.assign(chosen.begin(), chosen.begin() + long(n));
            chosen.erase(chosen.begin(), chosen.begin() + long(n));
            rejected.erase(rejected.begin(), rejected.begin() + long(n));
        }
        if (ctx.ok)
            dataimpl::checkRoles(rec.conversation.turns, m_fields["prompt"], "user", ctx);
        for (auto *side : {&chosen, &rejected})
            if (ctx.ok && (side->empty() || side->front().role != "assistant"))
                ctx.error(side == &chosen ? m_fields["chosen"] : m_fields["rejected"],
                          "the response must start with an assistant turn");
        rec.chosen = std::move(chosen);
        rec.rejected = std::move(rejected);
    }
    if (!ctx.ok)
        return std::nullopt;
    return rec;
}

} // namespace lathe
