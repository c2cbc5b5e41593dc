// fuzz_jinja: compiles arbitrary bytes as a chat template and renders it with a small
// fixed conversation. Any lathe::Error is an acceptable outcome; a crash, a sanitizer
// report, a hang or unbounded memory is a bug. Limits are lowered so each input stays fast.
#include "tokenizer/chat/ChatTemplate.h"

#include "core/Error.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const nlohmann::ordered_json messages = nlohmann::ordered_json::parse(
        R"([{"role": "system", "content": "sys"}, {"role": "user", "content": "hi é"},
            {"role": "assistant", "content": "<think>x</think>yo", "tool_calls": [{"type": "function",
             "function": {"name": "f", "arguments": {"a": 1, "b": [true, null, 1.5]}}}]},
            {"role": "tool", "content": "{\"r\": 2}"}])");
    try {
        lathe::ChatTemplate tmpl(std::string(reinterpret_cast<const char *>(data), size));
        lathe::jinja::Limits limits;
        limits.maxOutputBytes = 1u << 20;
        limits.maxSteps = 100000;
        tmpl.setLimits(limits);
        lathe::ChatRenderInput input;
        input.messages = messages;
        input.addGenerationPrompt = (size & 1) != 0;
        input.bosToken = "<s>";
        input.eosToken = "</s>";
        input.tools = nlohmann::ordered_json::parse(R"([{"type": "function", "function": {"name": "f",
            "description": "d", "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}}}}])");
        (void)tmpl.render(input);
    } catch (const lathe::Error &) {
    }
    return 0;
}
