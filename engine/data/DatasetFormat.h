// DatasetFormat: the record layouts Lathe reads and the names of their fields.
//   alpaca             instruction, input, output [, system, history]
//   sharegpt           conversations: [{from, value}] with human/gpt/system/function_call/observation
//   messages           messages: [{role, content}] (OpenAI), optional tools and tool_calls
//   prompt_completion  prompt, completion
//   text               text (continued pre-training; every .txt file)
//   preference         chosen/rejected pairs in one of three styles: alpaca (instruction +
//                      chosen/rejected strings), sharegpt (conversations + chosen/rejected
//                      turns, LLaMA-Factory's ranking data) or messages (chosen/rejected
//                      conversations, TRL style, with an optional prompt)
// Field names follow LLaMA-Factory's dataset_info.json: "columns" (prompt, query, response,
// system, history, messages, tools, chosen, rejected; plus text and completion) and
// "tags" (role_tag, content_tag, user_tag, assistant_tag, observation_tag,
// function_tag, system_tag). A user field map overrides any of them.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lathe {

struct DatasetFormat
{
    std::string format; // alpaca | sharegpt | messages | prompt_completion | text | preference
    std::string style;  // the layout: the format itself, or for preference alpaca|sharegpt|messages

    std::string name() const { return format == style ? format : format + " (" + style + " style)"; }
};

// Formats a spec may name ("auto" aside), and the keys a field map may use.
const std::vector<std::string> &formatNames();
const std::vector<std::string> &fieldMapKeys();

// Throws Error "where: field_map: unknown field 'x' (known: ...)" for keys not in
// fieldMapKeys() and for empty names.
void checkFieldMap(const std::map<std::string, std::string> &fieldMap, const std::string &where);

// The field names for a layout: its defaults overridden by fieldMap.
class FieldNames
{
public:
    FieldNames() = default;
    FieldNames(const std::string &style, const std::map<std::string, std::string> &fieldMap);
    // The name of a canonical field in the file (e.g. "response" -> "output").
    const std::string &operator[](const std::string &key) const;

private:
    std::map<std::string, std::string> m_names;
};

// One entry of a LLaMA-Factory dataset_info.json, as Lathe's format and field map.
struct DatasetInfoEntry
{
    std::string fileName;
    std::string format; // "" when the entry does not say (auto-detect)
    std::map<std::string, std::string> fieldMap;
};

// Reads an entry ({"file_name", "formatting", "ranking", "columns", "tags"}). Throws
// Error naming `where` and the key for wrong types.
DatasetInfoEntry datasetInfoEntry(const nlohmann::json &entry, const std::string &where);
// The entry of dataset_info.json (path) whose file_name is fileName; nullopt if none.
std::optional<DatasetInfoEntry> findDatasetInfo(const std::string &infoPath, const std::string &fileName);

} // namespace lathe
