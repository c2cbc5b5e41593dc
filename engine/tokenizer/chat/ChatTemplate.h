// ChatTemplate: turns a conversation into the exact prompt text a model was trained on,
// by rendering the model's Jinja chat template (tokenizer_config.json's chat_template or
// GGUF's tokenizer.chat_template) as Hugging Face transformers does, or one of the
// built-in templates for models that ship none.
#pragma once

#include "tokenizer/jinja/Interpreter.h"

#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace lathe::jinja {
class Template;
}

namespace lathe {

struct ChatRenderInput
{
    // JSON values are ordered_json because templates iterate dicts in their key order.
    // Each message is a JSON object: {"role": ..., "content": ...} plus optional fields
    // (tool_calls, name, reasoning_content, ...), passed to the template unchanged.
    nlohmann::ordered_json messages = nlohmann::ordered_json::array();
    bool addGenerationPrompt = false;
    std::string bosToken;
    std::string eosToken;
    // Tool definitions; null leaves 'tools' undefined in the template, as transformers does.
    nlohmann::ordered_json tools;
    // More template variables (e.g. {"enable_thinking": false}); an object or null.
    nlohmann::ordered_json extra;
    // The date strftime_now() reports, in UTC. Callers fix it for reproducible prompts.
    std::tm now = {};
};

class ChatTemplate
{
public:
    // Compiles source. Throws lathe::Error "chat template line N: ..." on syntax errors.
    explicit ChatTemplate(const std::string &source);
    ~ChatTemplate();
    ChatTemplate(ChatTemplate &&) noexcept;
    ChatTemplate &operator=(ChatTemplate &&) noexcept;

    // A built-in template by name: alpaca, chatml, llama2, llama3, mistral, zephyr.
    // Throws lathe::Error for an unknown name.
    static ChatTemplate builtin(const std::string &name);
    static std::vector<std::string> builtinNames();
    static std::string builtinSource(const std::string &name);

    // Renders the conversation. Throws lathe::Error "chat template line N: ..." when the
    // template raises (raise_exception) or fails; never returns partial text.
    std::string render(const ChatRenderInput &input) const;

    // The current UTC time, for ChatRenderInput::now.
    static std::tm currentTime();

    void setLimits(const jinja::Limits &limits) { m_limits = limits; }

private:
    std::unique_ptr<jinja::Template> m_template;
    jinja::Limits m_limits;
};

} // namespace lathe
