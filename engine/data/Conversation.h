// Conversation: the one canonical form every dataset record becomes, whatever its file
// format: a list of turns (system, user, assistant, tool) with optional tool definitions
// and tool calls; a raw text for continued pre-training; or a preference pair (a prompt
// conversation plus a chosen and a rejected response) kept for preference training.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lathe {

struct Turn
{
    std::string role; // system | user | assistant | tool
    std::string content;
    // null, or [{"type": "function", "function": {"name": ..., "arguments": ...}}] (OpenAI form)
    nlohmann::ordered_json toolCalls;
    // From the data (loss_weight, weight): force this assistant turn in or out of the loss.
    std::optional<bool> train;
};

struct Conversation
{
    std::vector<Turn> turns;
    nlohmann::ordered_json tools; // null or an array of tool definitions
};

enum class RecordKind { Chat, Text, Preference };

struct CanonicalRecord
{
    RecordKind kind = RecordKind::Chat;
    // Chat: the whole conversation. Preference: the prompt, ending with a user or tool turn.
    Conversation conversation;
    std::vector<Turn> chosen, rejected; // Preference: the two responses (assistant turns)
    std::string text;                   // Text
    int64_t line = 0;                   // where the record starts in its file

    // {"kind": ..., "messages"/"text"/"chosen"/"rejected": ..., "tools": ...} for inspection.
    nlohmann::ordered_json toJson() const;
    // A 64-bit key of the content (not the line): equal records have equal keys.
    uint64_t contentKey() const;
};

const char *recordKindName(RecordKind kind);

} // namespace lathe
