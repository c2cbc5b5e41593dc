// ChatTemplate: maps a ChatRenderInput onto the variables transformers passes to
// apply_chat_template (messages, add_generation_prompt, bos_token, eos_token, tools
// when given, extra variables) and renders the compiled template.
#include "tokenizer/chat/ChatTemplate.h"

#include "tokenizer/jinja/Template.h"

#include "core/Error.h"

#include <chrono>

namespace lathe {

ChatTemplate::ChatTemplate(const std::string &source) : m_template(std::make_unique<jinja::Template>(source)) {}
ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(ChatTemplate &&) noexcept = default;
ChatTemplate &ChatTemplate::operator=(ChatTemplate &&) noexcept = default;

std::string ChatTemplate::render(const ChatRenderInput &input) const
{
    using jinja::Value;
    std::unordered_map<std::string, Value> vars;
    if (!input.extra.is_null()) {
        if (!input.extra.is_object())
            fail("chat template: extra variables must be a JSON object");
        for (auto it = input.extra.begin(); it != input.extra.end(); ++it)
            vars[it.key()] = Value::fromJson(it.value());
    }
    if (!input.messages.is_array())
        fail("chat template: messages must be a JSON array");
    vars["messages"] = Value::fromJson(input.messages);
    vars["add_generation_prompt"] = Value(input.addGenerationPrompt);
    vars["bos_token"] = Value(input.bosToken);
    vars["eos_token"] = Value(input.eosToken);
    if (!input.tools.is_null())
        vars["tools"] = Value::fromJson(input.tools);
    return m_template->render(vars, input.now, m_limits);
}

std::tm ChatTemplate::currentTime()
{
    std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm out{};
    gmtime_r(&t, &out);
    return out;
}

} // namespace lathe
