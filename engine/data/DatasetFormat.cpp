#include "data/DatasetFormat.h"

#include "core/Error.h"

#include <fstream>
#include <sstream>

namespace lathe {

namespace {

using Names = std::map<std::string, std::string>;

const Names &defaultsFor(const std::string &style)
{
    static const Names alpaca = {{"prompt", "instruction"}, {"query", "input"}, {"response", "output"},
                                 {"system", "system"},      {"history", "history"}, {"chosen", "chosen"},
                                 {"rejected", "rejected"}};
    static const Names sharegpt = {
        {"messages", "conversations"}, {"tools", "tools"},         {"system", "system"},
        {"chosen", "chosen"},          {"rejected", "rejected"},   {"role_tag", "from"},
        {"content_tag", "value"},      {"user_tag", "human"},      {"assistant_tag", "gpt"},
        {"observation_tag", "observation"}, {"function_tag", "function_call"}, {"system_tag", "system"}};
    static const Names messages = {
        {"messages", "messages"},  {"tools", "tools"},          {"system", "system"},
        {"prompt", "prompt"},      {"chosen", "chosen"},        {"rejected", "rejected"},
        {"role_tag", "role"},      {"content_tag", "content"},  {"user_tag", "user"},
        {"assistant_tag", "assistant"}, {"observation_tag", "tool"}, {"function_tag", "function_call"},
        {"system_tag", "system"}};
    static const Names promptCompletion = {{"prompt", "prompt"}, {"completion", "completion"}, {"system", "system"}};
    static const Names text = {{"text", "text"}};
    if (style == "alpaca")
        return alpaca;
    if (style == "sharegpt")
        return sharegpt;
    if (style == "messages")
        return messages;
    if (style == "prompt_completion")
        return promptCompletion;
    return text;
}

} // namespace

const std::vector<std::string> &formatNames()
{
    static const std::vector<std::string> names = {"alpaca", "sharegpt", "messages", "prompt_completion", "text",
                                                   "preference"};
    return names;
}

const std::vector<std::string> &fieldMapKeys()
{
    static const std::vector<std::string> keys = {
        "prompt",   "query",    "response", "system",     "history",  "messages",      "tools",
        "chosen",   "rejected", "text",     "completion", "role_tag", "content_tag",   "user_tag",
        "assistant_tag", "observation_tag", "function_tag", "system_tag"};
    return keys;
}

void checkFieldMap(const std::map<std::string, std::string> &fieldMap, const std::string &where)
{
    const auto &keys = fieldMapKeys();
    for (const auto &[k, v] : fieldMap) {
        if (std::find(keys.begin(), keys.end(), k) == keys.end()) {
            std::string known;
            for (const auto &n : keys)
                known += (known.empty() ? "" : ", ") + n;
            fail(where + ": field_map: unknown field '" + k + "' (known: " + known + ")");
        }
        if (v.empty())
            fail(where + ": field_map." + k + ": empty name");
    }
}

FieldNames::FieldNames(const std::string &style, const std::map<std::string, std::string> &fieldMap)
    : m_names(defaultsFor(style))
{
    for (const auto &[k, v] : fieldMap)
        m_names[k] = v;
    // LLaMA-Factory names the text column of pre-training data "prompt".
    if (style == "text" && !fieldMap.count("text") && fieldMap.count("prompt"))
        m_names["text"] = fieldMap.at("prompt");
}

const std::string &FieldNames::operator[](const std::string &key) const
{
    static const std::string none;
    const auto it = m_names.find(key);
    return it == m_names.end() ? none : it->second;
}

DatasetInfoEntry datasetInfoEntry(const nlohmann::json &entry, const std::string &where)
{
    if (!entry.is_object())
        fail(where + ": expected an object");
    DatasetInfoEntry out;
    auto str = [&](const char *key) -> std::string {
        if (!entry.contains(key))
            return {};
        if (!entry[key].is_string())
            fail(where + "." + key + ": expected a string");
        return entry[key].get<std::string>();
    };
    out.fileName = str("file_name");
    const std::string formatting = str("formatting");
    if (!formatting.empty() && formatting != "alpaca" && formatting != "sharegpt")
        fail(where + ".formatting: '" + formatting + "' is not supported (alpaca, sharegpt)");
    bool ranking = false;
    if (entry.contains("ranking")) {
        if (!entry["ranking"].is_boolean())
            fail(where + ".ranking: expected a boolean");
        ranking = entry["ranking"].get<bool>();
    }
    for (const char *group : {"columns", "tags"}) {
        if (!entry.contains(group))
            continue;
        if (!entry[group].is_object())
            fail(where + "." + group + ": expected an object");
        for (auto it = entry[group].begin(); it != entry[group].end(); ++it) {
            if (!it.value().is_string())
                fail(where + "." + group + "." + it.key() + ": expected a string");
            const auto &keys = fieldMapKeys();
            if (std::find(keys.begin(), keys.end(), it.key()) != keys.end())
                out.fieldMap[it.key()] = it.value().get<std::string>();
            // Media columns (images, videos, audios) and kto_tag have no meaning here.
        }
    }
    if (ranking)
        out.format = "preference";
    else if (!formatting.empty())
        out.format = formatting;
    else if (entry.contains("columns") && out.fieldMap.size() == 1 && out.fieldMap.count("prompt"))
        out.format = "text"; // pre-training data: only a prompt column
    else
        out.format = "alpaca"; // LLaMA-Factory's default formatting
    return out;
}

std::optional<DatasetInfoEntry> findDatasetInfo(const std::string &infoPath, const std::string &fileName)
{
    std::ifstream in(infoPath, std::ios::binary);
    if (!in)
        fail("cannot open " + infoPath);
    nlohmann::json info;
    try {
        info = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception &e) {
        fail(infoPath + ": " + e.what());
    }
    if (!info.is_object())
        fail(infoPath + ": expected an object of dataset entries");
    for (auto it = info.begin(); it != info.end(); ++it)
        if (it.value().is_object() && it.value().value("file_name", std::string()) == fileName)
            return datasetInfoEntry(it.value(), infoPath + ": " + it.key());
    return std::nullopt;
}

} // namespace lathe
