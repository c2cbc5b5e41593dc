// lathe-cli template: renders a conversation file with a model's chat template (GGUF
// tokenizer.chat_template, a folder's tokenizer_config.json or chat_template.jinja), a
// Jinja file, or a built-in template, exactly as the model would see it, and optionally
// the token ids of the result. Bad templates and bad conversations are user errors:
// they come back as "error: FILE: ..." with exit code 1.
#include "CliCommon.h"
#include "Commands.h"
#include "core/Error.h"
#include "model/gguf/GgufFile.h"
#include "tokenizer/chat/ChatTemplate.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>

namespace lathe::cli {

namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

struct TemplateSource
{
    std::string text;
    std::string name; // for messages: a file, "builtin llama3", "model.gguf tokenizer.chat_template"
    // BOS/EOS text from a tokenizer_config.json, when the template came with one.
    std::optional<std::string> bos, eos;
};

ojson parseJsonFile(const std::string &path)
{
    const std::string bytes = readFileBytes(path);
    try {
        return ojson::parse(bytes);
    } catch (const nlohmann::json::parse_error &e) {
        // e.what() reads "[json.exception.parse_error.101] parse error at line 3, column 5: ...".
        std::string msg = e.what();
        if (const size_t at = msg.find("] "); at != std::string::npos)
            msg = msg.substr(at + 2);
        fail(path + ": not valid JSON: " + msg);
    }
}

// bos_token / eos_token in tokenizer_config.json: a string, an AddedToken object, or null.
std::optional<std::string> configToken(const ojson &cfg, const char *key)
{
    const auto it = cfg.find(key);
    if (it == cfg.end())
        return std::nullopt;
    if (it->is_string())
        return it->get<std::string>();
    if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
        return (*it)["content"].get<std::string>();
    return std::string();
}

// chat_template is a string, or a list of {"name", "template"} of which "default" is used
// unless another name is asked for.
TemplateSource fromTokenizerConfig(const std::string &path, const std::string &wanted)
{
    const ojson cfg = parseJsonFile(path);
    if (!cfg.is_object())
        fail(path + ": expected a JSON object");
    TemplateSource src;
    src.name = path + " chat_template";
    src.bos = configToken(cfg, "bos_token");
    src.eos = configToken(cfg, "eos_token");
    const auto it = cfg.find("chat_template");
    if (it == cfg.end() || it->is_null()) {
        // Newer transformers keep it in chat_template.jinja beside the config.
        const fs::path jinja = fs::path(path).parent_path() / "chat_template.jinja";
        std::error_code ec;
        if (!fs::exists(jinja, ec))
            fail(path + ": has no chat_template (and no chat_template.jinja beside it); use --builtin");
        src.text = readFileBytes(jinja.string());
        src.name = jinja.string();
    } else if (it->is_string()) {
        src.text = it->get<std::string>();
    } else if (it->is_array()) {
        const std::string name = wanted.empty() ? "default" : wanted;
        std::string known;
        for (const ojson &t : *it) {
            if (!t.is_object() || !t.contains("name") || !t["name"].is_string() || !t.contains("template") ||
                !t["template"].is_string())
                fail(path + ": chat_template: each entry must be {\"name\": string, \"template\": string}");
            known += (known.empty() ? "" : ", ") + t["name"].get<std::string>();
            if (t["name"] == name)
                src.text = t["template"].get<std::string>();
        }
        if (src.text.empty())
            fail(path + ": chat_template has no template named '" + name + "' (has: " + known + ")");
        src.name = path + " chat_template '" + name + "'";
    } else {
        fail(path + ": chat_template must be a string or a list of named templates");
    }
    return src;
}

TemplateSource fromModel(const std::string &path, const std::string &wanted)
{
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        const fs::path cfg = fs::path(path) / "tokenizer_config.json";
        if (!fs::exists(cfg, ec))
            fail(path + ": the folder has no tokenizer_config.json; use --builtin or --template");
        return fromTokenizerConfig(cfg.string(), wanted);
    }
    if (!isGgufFile(path))
        fail(path + ": only GGUF files and Hugging Face folders carry a chat template; use --builtin or --template");
    const auto gguf = GgufFile::open(path);
    const std::string key = wanted.empty() ? "tokenizer.chat_template" : "tokenizer.chat_template." + wanted;
    TemplateSource src;
    src.text = withContext(path, [&] { return gguf->getString(key).value_or(""); });
    if (src.text.empty())
        fail(path + ": has no " + key + "; use --builtin or --template");
    src.name = path + " " + key;
    return src;
}

TemplateSource templateSource(const ArgParser &args)
{
    const int given = int(args.has("builtin")) + int(args.has("template")) + int(args.has("tokenizer-config"));
    if (given > 1)
        throw UsageError("give at most one of --builtin, --template and --tokenizer-config");
    if (given == 0 && !args.has("model"))
        throw UsageError("no chat template: give --model, --tokenizer-config, --template or --builtin");
    const std::string wanted = args.value("template-name");
    if (args.has("builtin")) {
        const std::string name = args.value("builtin");
        const std::vector<std::string> names = ChatTemplate::builtinNames();
        if (std::find(names.begin(), names.end(), name) == names.end()) {
            std::string known;
            for (const std::string &n : names)
                known += (known.empty() ? "" : ", ") + n;
            throw UsageError("--builtin: unknown template '" + name + "' (known: " + known + ")");
        }
        return {ChatTemplate::builtinSource(name), "builtin " + name, std::nullopt, std::nullopt};
    }
    if (args.has("template"))
        return {readFileBytes(args.value("template")), args.value("template"), std::nullopt, std::nullopt};
    if (args.has("tokenizer-config"))
        return fromTokenizerConfig(args.value("tokenizer-config"), wanted);
    return fromModel(args.value("model"), wanted);
}

// The conversation file: [messages...] or {"messages": [...], "tools"?: [...],
// "add_generation_prompt"?: bool, other keys: more template variables}.
ChatRenderInput readConversation(const std::string &path)
{
    const ojson doc = parseJsonFile(path);
    ChatRenderInput in;
    if (doc.is_array()) {
        in.messages = doc;
    } else if (doc.is_object()) {
        in.extra = ojson::object();
        for (auto it = doc.begin(); it != doc.end(); ++it) {
            if (it.key() == "messages") {
                in.messages = it.value();
            } else if (it.key() == "tools") {
                if (!it->is_array() && !it->is_null())
                    fail(path + ": 'tools' must be an array");
                in.tools = it.value();
            } else if (it.key() == "add_generation_prompt") {
                if (!it->is_boolean())
                    fail(path + ": 'add_generation_prompt' must be true or false");
                in.addGenerationPrompt = it->get<bool>();
            } else {
                in.extra[it.key()] = it.value();
            }
        }
        if (!doc.contains("messages"))
            fail(path + ": the object has no 'messages' array");
    } else {
        fail(path + ": expected an array of messages or an object with 'messages'");
    }
    if (!in.messages.is_array())
        fail(path + ": 'messages' must be an array");
    for (size_t i = 0; i < in.messages.size(); ++i) {
        const ojson &m = in.messages[i];
        const std::string where = path + ": messages[" + std::to_string(i) + "]";
        if (!m.is_object())
            fail(where + ": expected an object with 'role' and 'content'");
        if (!m.contains("role") || !m["role"].is_string())
            fail(where + ": 'role' is missing or not a string");
        if (m.contains("content") && !m["content"].is_string() && !m["content"].is_array() && !m["content"].is_null())
            fail(where + ": 'content' must be a string, a list of parts, or null");
    }
    return in;
}

std::tm parseDate(const std::string &text)
{
    std::tm t{};
    int y = 0, mo = 0, d = 0;
    char tail = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &y, &mo, &d, &tail) != 3 || y < 1900 || mo < 1 || mo > 12 ||
        d < 1 || d > 31)
        throw UsageError("--date expects YYYY-MM-DD, got '" + text + "'");
    t.tm_year = y - 1900;
    t.tm_mon = mo - 1;
    t.tm_mday = d;
    t.tm_hour = 12;
    std::time_t secs = timegm(&t); // fills in the weekday and day of the year
    gmtime_r(&secs, &t);
    return t;
}

} // namespace

int runTemplate(const Args &argv)
{
    ArgParser args("template", "CONVERSATION (--model PATH | --tokenizer-config FILE | --template FILE | --builtin NAME)",
                   "Renders a conversation with a chat template, as Hugging Face's apply_chat_template\n"
                   "does, and prints the text the model sees. CONVERSATION is a JSON file ('-': standard\n"
                   "input) holding an array of {\"role\", \"content\"} messages, or an object\n"
                   "{\"messages\": [...], \"tools\": [...], \"add_generation_prompt\": bool, ...} whose other\n"
                   "keys become template variables (e.g. \"enable_thinking\": false).\n"
                   "bos_token / eos_token come from tokenizer_config.json, else from the tokenizer\n"
                   "(--tokenizer, or the --model's), else they are empty; --bos-token / --eos-token override.");
    args.positional("CONVERSATION", "JSON conversation file", false)
        .option("model", "PATH", "GGUF file (tokenizer.chat_template) or Hugging Face folder (tokenizer_config.json)")
        .option("tokenizer-config", "FILE", "tokenizer_config.json holding chat_template")
        .option("template", "FILE", "a Jinja chat template file")
        .option("builtin", "NAME", "a built-in template (see --list-builtin)")
        .option("template-name", "NAME", "a named template among several (e.g. tool_use)")
        .option("tokenizer", "FILE", "tokenizer for --ids and bos/eos (default: the --model's, or tokenizer.json "
                                     "beside --tokenizer-config)")
        .option("bos-token", "TEXT", "bos_token for the template")
        .option("eos-token", "TEXT", "eos_token for the template")
        .option("date", "YYYY-MM-DD", "the date strftime_now() reports (default: today, UTC)")
        .flag("add-generation-prompt", "end with the assistant header, ready for the model's answer")
        .flag("list-builtin", "list the built-in templates and exit")
        .flag("ids", "also print the token ids of the rendered text");
    if (!args.parse(argv))
        return 0;
    if (args.has("list-builtin")) {
        for (const std::string &name : ChatTemplate::builtinNames())
            std::printf("%s\n", name.c_str());
        return 0;
    }
    if (args.positionalValue(0).empty())
        throw UsageError("missing CONVERSATION");
    const std::tm now = args.has("date") ? parseDate(args.value("date")) : ChatTemplate::currentTime();
    const TemplateSource src = templateSource(args);

    // The tokenizer: needed for --ids, and for bos/eos when no config gave them.
    std::optional<Tokenizer> tokenizer;
    const bool needTokens = !(src.bos && src.eos) && !(args.has("bos-token") && args.has("eos-token"));
    if (args.has("ids") || needTokens) {
        const auto load = [&]() -> std::optional<Tokenizer> {
            if (args.has("tokenizer") || args.has("model"))
                return tokenizerFromOptions(args);
            if (args.has("tokenizer-config")) {
                const fs::path beside = fs::path(args.value("tokenizer-config")).parent_path() / "tokenizer.json";
                std::error_code ec;
                if (fs::exists(beside, ec))
                    return tokenizerFromFilePath(beside.string());
            }
            return std::nullopt;
        };
        if (args.has("ids")) {
            tokenizer = load();
            if (!tokenizer)
                throw UsageError("--ids needs a tokenizer: give --tokenizer or --model");
        } else if (args.has("tokenizer")) {
            tokenizer = load();
        } else if (args.has("model")) {
            // bos/eos only: a model without a vocabulary still renders, with them empty.
            try {
                tokenizer = load();
            } catch (const Error &e) {
                spdlog::info("no bos/eos tokens: {}", e.what());
            }
        }
    }

    ChatRenderInput in = readConversation(args.positionalValue(0));
    in.now = now;
    in.addGenerationPrompt = in.addGenerationPrompt || args.has("add-generation-prompt");
    const auto tokenText = [&](int32_t id) { return tokenizer && id >= 0 ? tokenizer->piece(id) : std::string(); };
    in.bosToken = args.has("bos-token") ? args.value("bos-token") : src.bos ? *src.bos : tokenText(tokenizer ? tokenizer->bosId() : -1);
    in.eosToken = args.has("eos-token") ? args.value("eos-token") : src.eos ? *src.eos : tokenText(tokenizer ? tokenizer->eosId() : -1);

    const std::string text = withContext(src.name, [&] { return ChatTemplate(src.text).render(in); });
    std::fwrite(text.data(), 1, text.size(), stdout);
    if (args.has("ids")) {
        EncodeOptions eo;
        eo.addSpecial = false; // the template writes BOS itself, as apply_chat_template assumes
        const std::vector<int32_t> ids = tokenizer->encode(text, eo);
        std::printf("%s--- %zu tokens\n%s\n", text.empty() || text.back() == '\n' ? "" : "\n", ids.size(),
                    joinIds(ids).c_str());
    }
    return 0;
}

} // namespace lathe::cli
