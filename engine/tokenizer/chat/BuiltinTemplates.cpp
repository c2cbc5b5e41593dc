// BuiltinTemplates: chat templates for models that ship none, as Jinja source, each
// producing its model family's official prompt format:
//   chatml   <|im_start|>role\ncontent<|im_end|>\n ...            (Qwen, Hermes, ...)
//   llama2   <s>[INST] <<SYS>>\nsys\n<</SYS>>\n\nuser [/INST] answer </s>
//   llama3   <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>
//   mistral  <s>[INST] user [/INST]answer</s>  (system text joins the first user turn)
//   zephyr   <|role|>\ncontent</s>\n
//   alpaca   the Stanford Alpaca instruction / response blocks
#include "tokenizer/chat/ChatTemplate.h"

#include "core/Error.h"

#include <map>

namespace lathe {

namespace {

const std::map<std::string, std::string> &sources()
{
    static const std::map<std::string, std::string> table = {
        {"chatml",
         "{% for message in messages %}"
         "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
         "{% endfor %}"
         "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"},
        {"llama2",
         "{% if messages and messages[0]['role'] == 'system' %}"
         "{% set system_message = messages[0]['content'] %}{% set loop_messages = messages[1:] %}"
         "{% else %}{% set system_message = none %}{% set loop_messages = messages %}{% endif %}"
         "{% for message in loop_messages %}"
         "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
         "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
         "{% if loop.first and system_message is not none %}"
         "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
         "{% else %}{% set content = message['content'] %}{% endif %}"
         "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
         "{% else %}{{ ' ' + content.strip() + ' ' + eos_token }}{% endif %}"
         "{% endfor %}"},
        {"llama3",
         "{{ bos_token }}"
         "{% for message in messages %}"
         "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}"
         "{% endfor %}"
         "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"},
        {"mistral",
         "{% if messages and messages[0]['role'] == 'system' %}"
         "{% set system_message = messages[0]['content'] %}{% set loop_messages = messages[1:] %}"
         "{% else %}{% set system_message = none %}{% set loop_messages = messages %}{% endif %}"
         "{{ bos_token }}"
         "{% for message in loop_messages %}"
         "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
         "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
         "{% if message['role'] == 'user' %}"
         "{% if loop.first and system_message is not none %}"
         "{{ '[INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}"
         "{% else %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% endif %}"
         "{% else %}{{ message['content'] + eos_token }}{% endif %}"
         "{% endfor %}"},
        {"zephyr",
         "{% for message in messages %}"
         "{{ '<|' + message['role'] + '|>\\n' + message['content'] + eos_token + '\\n' }}"
         "{% endfor %}"
         "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}"},
        {"alpaca",
         "{% if messages and messages[0]['role'] == 'system' %}"
         "{% set system_message = messages[0]['content'] %}{% set loop_messages = messages[1:] %}"
         "{% else %}{% set system_message = 'Below is an instruction that describes a task. "
         "Write a response that appropriately completes the request.' %}"
         "{% set loop_messages = messages %}{% endif %}"
         "{{ bos_token + system_message + '\\n\\n' }}"
         "{% for message in loop_messages %}"
         "{% if message['role'] == 'user' %}{{ '### Instruction:\\n' + message['content'] + '\\n\\n' }}"
         "{% elif message['role'] == 'assistant' %}{{ '### Response:\\n' + message['content'] + eos_token + '\\n\\n' }}"
         "{% else %}{{ raise_exception('alpaca supports system, user and assistant roles') }}{% endif %}"
         "{% endfor %}"
         "{% if add_generation_prompt %}{{ '### Response:\\n' }}{% endif %}"},
    };
    return table;
}

} // namespace

std::vector<std::string> ChatTemplate::builtinNames()
{
    std::vector<std::string> names;
    for (const auto &[name, src] : sources())
        names.push_back(name);
    return names;
}

std::string ChatTemplate::builtinSource(const std::string &name)
{
    auto it = sources().find(name);
    if (it == sources().end())
        fail("unknown built-in chat template '" + name + "' (known: alpaca, chatml, llama2, llama3, mistral, zephyr)");
    return it->second;
}

ChatTemplate ChatTemplate::builtin(const std::string &name)
{
    return ChatTemplate(builtinSource(name));
}

} // namespace lathe
