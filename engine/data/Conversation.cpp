#include "data/Conversation.h"

#include "data/Sha256.h"

namespace lathe {

namespace {

nlohmann::ordered_json turnsJson(const std::vector<Turn> &turns)
{
    auto out = nlohmann::ordered_json::array();
    for (const Turn &t : turns) {
        nlohmann::ordered_json m = {{"role", t.role}, {"content", t.content}};
        if (!t.toolCalls.is_null())
            m["tool_calls"] = t.toolCalls;
        if (t.train)
            m["train"] = *t.train;
        out.push_back(std::move(m));
    }
    return out;
}

void hashTurns(Sha256 &h, const std::vector<Turn> &turns)
{
    h.updateU64(turns.size());
    for (const Turn &t : turns) {
        h.updateString(t.role);
        h.updateString(t.content);
        h.updateString(t.toolCalls.is_null() ? std::string() : t.toolCalls.dump());
        h.updateU64(t.train ? (*t.train ? 2 : 1) : 0);
    }
}

} // namespace

const char *recordKindName(RecordKind kind)
{
    switch (kind) {
    case RecordKind::Chat: return "chat";
    case RecordKind::Text: return "text";
    case RecordKind::Preference: return "preference";
    }
    return "?";
}

nlohmann::ordered_json CanonicalRecord::toJson() const
{
    nlohmann::ordered_json j = {{"kind", recordKindName(kind)}, {"line", line}};
    if (kind == RecordKind::Text) {
        j["text"] = text;
        return j;
    }
    j["messages"] = turnsJson(conversation.turns);
    if (kind == RecordKind::Preference) {
        j["chosen"] = turnsJson(chosen);
        j["rejected"] = turnsJson(rejected);
    }
    if (!conversation.tools.is_null())
        j["tools"] = conversation.tools;
    return j;
}

uint64_t CanonicalRecord::contentKey() const
{
    Sha256 h;
    h.updateU64(uint64_t(kind));
    h.updateString(text);
    hashTurns(h, conversation.turns);
    hashTurns(h, chosen);
    hashTurns(h, rejected);
    h.updateString(conversation.tools.is_null() ? std::string() : conversation.tools.dump());
    const auto d = h.digest();
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
        v = v << 8 | d[size_t(i)];
    return v;
}

} // namespace lathe
