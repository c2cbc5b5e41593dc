// ConvertContext: what the record converters share: where the record is (for issues),
// typed access to its fields with errors naming them, turn-list parsing with role
// mapping, and the role-order rules. Internal to engine/data.
#pragma once

#include "data/Conversation.h"
#include "data/DatasetFormat.h"
#include "data/DatasetIssues.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace lathe::dataimpl {

using Json = nlohmann::ordered_json;

struct ConvertContext
{
    const std::string &file;
    int64_t line;
    IssueList &issues;
    const FieldNames &fields;
    bool ok = true;

    void error(const std::string &field, const std::string &message)
    {
        issues.error(file, line, field, message);
        ok = false;
    }
    void warning(const std::string &field, const std::string &message) { issues.warning(file, line, field, message); }

    // The member `key` of the record: nullptr when absent (an error when required).
    const Json *get(const Json &record, const std::string &key, bool required);
    // A string member: nullopt when absent (an error when required) or of another type (an error).
    std::optional<std::string> getString(const Json &record, const std::string &key, bool required);
};

// Parses a list of turns (ShareGPT or OpenAI messages, by the tags in ctx.fields) found
// at `path` ("conversations"). Reports every problem; returns what could be read.
std::vector<Turn> parseTurns(const Json &list, const std::string &path, ConvertContext &ctx);

// Parses a tool list: an array, or a string holding a JSON array (ShareGPT/glaive).
// Returns null for an empty list.
Json parseTools(const Json &value, const std::string &path, ConvertContext &ctx);

// Checks the order of roles: optional system turns first, then user, assistant, user ...
// with tool turns only after an assistant turn (or another tool turn). path names the
// turn list for messages. expectLast: "assistant" for training conversations (trailing
// user/tool turns are dropped with a warning), "user" for a preference prompt.
void checkRoles(std::vector<Turn> &turns, const std::string &path, const std::string &expectLast,
                ConvertContext &ctx);

// Text for a JSON value in Python's json.dumps style (", " and ": " separators), used
// where a tool call becomes plain text.
std::string pythonJson(const Json &value);

} // namespace lathe::dataimpl
