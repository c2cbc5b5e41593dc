// Turn lists (ShareGPT and OpenAI messages), tool lists and the role-order rules.
#include "data/ConvertContext.h"

#include "data/RecordParse.h"

#include <map>

namespace lathe::dataimpl {

namespace {

// "assistant" plus the call flag for a function_call turn, from the file's role name.
bool mapRole(const std::string &name, const FieldNames &f, std::string &role, bool &isCall)
{
    isCall = false;
    if (name == f["function_tag"] || name == "function_call") {
        role = "assistant";
        isCall = true;
        return true;
    }
    static const std::map<std::string, std::string> aliases = {
        {"user", "user"},           {"human", "user"},        {"assistant", "assistant"}, {"gpt", "assistant"},
        {"model", "assistant"},     {"chatgpt", "assistant"}, {"bot", "assistant"},       {"system", "system"},
        {"developer", "system"},    {"tool", "tool"},         {"observation", "tool"},    {"function", "tool"},
        {"ipython", "tool"}};
    if (name == f["user_tag"])
        role = "user";
    else if (name == f["assistant_tag"])
        role = "assistant";
    else if (name == f["observation_tag"])
        role = "tool";
    else if (name == f["system_tag"])
        role = "system";
    else if (const auto it = aliases.find(name); it != aliases.end())
        role = it->second;
    else
        return false;
    return true;
}

// One call as {"type": "function", "function": {"name", "arguments"}}; null when malformed.
Json normalizeCall(const Json &call)
{
    const Json *fn = &call;
    if (call.is_object() && call.contains("function") && call["function"].is_object())
        fn = &call["function"];
    if (!fn->is_object() || !fn->contains("name") || !(*fn)["name"].is_string())
        return nullptr;
    Json out = {{"type", "function"},
                {"function", {{"name", (*fn)["name"]}, {"arguments", fn->value("arguments", Json::object())}}}};
    if (call.is_object() && call.contains("id"))
        out["id"] = call["id"];
    return out;
}

Json normalizeCalls(const Json &calls)
{
    Json out = Json::array();
    for (const Json &c : calls.is_array() ? calls : Json::array({calls})) {
        Json n = normalizeCall(c);
        if (n.is_null())
            return nullptr;
        out.push_back(std::move(n));
    }
    return out.empty() ? Json() : out;
}

// Text content: a string, or a list of text parts ({"type": "text", "text"|"value": ...}).
bool readContent(const Json &value, const std::string &path, ConvertContext &ctx, std::string &out)
{
    if (value.is_string()) {
        out = value.get<std::string>();
        return true;
    }
    if (!value.is_array()) {
        ctx.error(path, "expected a string or a list of text parts, got " + describeType(value));
        return false;
    }
    out.clear();
    for (size_t i = 0; i < value.size(); ++i) {
        const Json &part = value[i];
        const std::string where = path + "[" + std::to_string(i) + "]";
        if (part.is_string()) {
            out += (out.empty() ? "" : "\n") + part.get<std::string>();
            continue;
        }
        if (!part.is_object() || part.value("type", std::string("text")) != "text") {
            ctx.error(where, "only text parts are supported, got " +
                                 (part.is_object() ? "type '" + part.value("type", std::string("?")) + "'"
                                                   : describeType(part)));
            return false;
        }
        const char *key = part.contains("text") ? "text" : "value";
        if (!part.contains(key) || !part[key].is_string()) {
            ctx.error(where, "a text part needs a 'text' string");
            return false;
        }
        out += (out.empty() ? "" : "\n") + part[key].get<std::string>();
    }
    return true;
}

} // namespace

const Json *ConvertContext::get(const Json &record, const std::string &key, bool required)
{
    const auto it = record.find(key);
    if (it == record.end() || (it->is_null() && required)) {
        if (required)
            error(key, "missing");
        return nullptr;
    }
    return &*it;
}

std::optional<std::string> ConvertContext::getString(const Json &record, const std::string &key, bool required)
{
    const Json *v = get(record, key, required);
    if (!v || v->is_null())
        return std::nullopt;
    if (!v->is_string()) {
        error(key, "expected a string, got " + describeType(*v));
        return std::nullopt;
    }
    return v->get<std::string>();
}

std::vector<Turn> parseTurns(const Json &list, const std::string &path, ConvertContext &ctx)
{
    std::vector<Turn> turns;
    if (!list.is_array()) {
        ctx.error(path, "expected a list of turns, got " + describeType(list));
        return turns;
    }
    if (list.empty()) {
        ctx.error(path, "empty conversation");
        return turns;
    }
    const std::string &roleTag = ctx.fields["role_tag"];
    const std::string &contentTag = ctx.fields["content_tag"];
    for (size_t i = 0; i < list.size(); ++i) {
        const Json &m = list[i];
        const std::string where = path + "[" + std::to_string(i) + "]";
        if (!m.is_object()) {
            ctx.error(where, "expected a turn object, got " + describeType(m));
            continue;
        }
        const auto roleIt = m.find(roleTag);
        if (roleIt == m.end() || !roleIt->is_string()) {
            ctx.error(where + "." + roleTag,
                      roleIt == m.end() ? "missing" : "expected a string, got " + describeType(*roleIt));
            continue;
        }
        Turn t;
        bool isCall = false;
        if (!mapRole(roleIt->get<std::string>(), ctx.fields, t.role, isCall)) {
            ctx.error(where + "." + roleTag, "unknown role '" + roleIt->get<std::string>() + "' (expected " +
                                                 ctx.fields["user_tag"] + ", " + ctx.fields["assistant_tag"] + ", " +
                                                 ctx.fields["system_tag"] + ", " + ctx.fields["function_tag"] +
                                                 " or " + ctx.fields["observation_tag"] + ")");
            continue;
        }
        const auto contentIt = m.find(contentTag);
        const bool hasCalls = m.contains("tool_calls") && !m["tool_calls"].is_null();
        if (contentIt == m.end() || contentIt->is_null()) {
            if (!hasCalls) {
                ctx.error(where + "." + contentTag, "missing");
                continue;
            }
        } else if (!readContent(*contentIt, where + "." + contentTag, ctx, t.content)) {
            continue;
        }
        if (isCall) {
            Json parsed = Json::parse(t.content, nullptr, false);
            t.toolCalls = parsed.is_discarded() ? Json() : normalizeCalls(parsed);
            if (t.toolCalls.is_null()) {
                ctx.error(where + "." + contentTag, "a function call must be JSON with a name and arguments");
                continue;
            }
            t.content.clear();
        } else if (hasCalls) {
            t.toolCalls = normalizeCalls(m["tool_calls"]);
            if (t.toolCalls.is_null() || t.role != "assistant") {
                ctx.error(where + ".tool_calls", t.role != "assistant" ? "only assistant turns make tool calls"
                                                                        : "each call needs a function name");
                continue;
            }
        }
        for (const char *key : {"loss_weight", "weight"})
            if (m.contains(key) && m[key].is_number())
                t.train = m[key].get<double>() > 0.0;
        if (t.content.empty() && t.toolCalls.is_null() && t.role != "system") {
            ctx.error(where + "." + contentTag, "empty " + t.role + " turn");
            continue;
        }
        turns.push_back(std::move(t));
    }
    return turns;
}

Json parseTools(const Json &value, const std::string &path, ConvertContext &ctx)
{
    Json tools = value;
    if (value.is_string()) {
        const std::string &s = value.get_ref<const std::string &>();
        if (s.find_first_not_of(" \t\r\n") == std::string::npos)
            return nullptr;
        tools = Json::parse(s, nullptr, false);
        if (tools.is_discarded()) {
            ctx.error(path, "not valid JSON");
            return nullptr;
        }
    }
    if (tools.is_null())
        return nullptr;
    if (tools.is_object())
        tools = Json::array({tools});
    if (!tools.is_array()) {
        ctx.error(path, "expected a list of tools, got " + describeType(tools));
        return nullptr;
    }
    return tools.empty() ? Json() : tools;
}

void checkRoles(std::vector<Turn> &turns, const std::string &path, const std::string &expectLast,
                ConvertContext &ctx)
{
    size_t i = 0;
    while (i < turns.size() && turns[i].role == "system")
        ++i;
    std::string prev;
    for (size_t j = i; j < turns.size(); ++j) {
        const std::string &r = turns[j].role;
        const std::string where = path + "[" + std::to_string(j) + "]." + ctx.fields["role_tag"];
        bool fine = false;
        if (r == "system") {
            ctx.error(where, "a system turn after the conversation started");
            return;
        }
        if (prev.empty())
            fine = r == "user";
        else if (prev == "user")
            fine = r == "assistant";
        else if (prev == "assistant")
            fine = r == "user" || r == "tool";
        else if (prev == "tool")
            fine = r == "tool" || r == "assistant";
        if (!fine) {
            ctx.error(where, prev.empty() ? "roles out of order: the conversation starts with " + r + ", expected user"
                                          : "roles out of order: " + r + " after " + prev);
            return;
        }
        prev = r;
    }
    if (prev.empty()) {
        ctx.error(path, "no user turn");
        return;
    }
    // Empty system prompts say nothing; templates would still print their markers.
    for (size_t k = 0; k < turns.size();) {
        if (turns[k].role == "system" && turns[k].content.empty()) {
            ctx.warning(path + "[" + std::to_string(k) + "]", "an empty system turn is left out");
            turns.erase(turns.begin() + long(k));
        } else {
            ++k;
        }
    }
    if (expectLast == "user") {
        if (prev == "assistant")
            ctx.error(path, "the prompt must end with a user or tool turn, not assistant");
        return;
    }
    bool anyAssistant = false;
    for (const Turn &t : turns)
        anyAssistant |= t.role == "assistant";
    if (!anyAssistant) {
        ctx.error(path, "no assistant turn: nothing to train on");
        return;
    }
    while (turns.back().role != "assistant") {
        ctx.warning(path, "the last turn (" + turns.back().role + ") has no answer; it is left out");
        turns.pop_back();
    }
}

std::string pythonJson(const Json &value)
{
    switch (value.type()) {
    case Json::value_t::object: {
        std::string out = "{";
        for (auto it = value.begin(); it != value.end(); ++it)
            out += (it == value.begin() ? "" : ", ") + Json(it.key()).dump() + ": " + pythonJson(it.value());
        return out + "}";
    }
    case Json::value_t::array: {
        std::string out = "[";
        for (size_t i = 0; i < value.size(); ++i)
            out += (i ? ", " : "") + pythonJson(value[i]);
        return out + "]";
    }
    default: return value.dump(-1, ' ', false, Json::error_handler_t::replace);
    }
}

} // namespace lathe::dataimpl
