// ChatRenderer: turns a canonical record into token ids and a loss mask, through the
// model's chat template (or a built-in one).
//
// Where each assistant turn starts and ends in the rendered text is found by rendering
// prefixes of the conversation: the text of turns[:k] with the generation prompt ends
// exactly where turn k's content starts (this must be a prefix of the whole rendering;
// a template for which it is not is refused as not prefix-stable), and the turn ends
// after its end-of-turn marker (the tokenizer's EOT/EOS text, plus the whitespace the
// template puts after it), or where the rendering of turns[:k+1] ends. The whole text is
// tokenised once; each token's byte offset is recovered from its piece bytes, and a
// token carries loss when it starts inside a trained span.
//
// Raw text becomes BOS (when the tokenizer adds one) + the text's tokens + EOS.
// Token 0 never carries loss: nothing comes before it to predict it from.
#pragma once

#include "data/Conversation.h"
#include "tokenizer/Tokenizer.h"
#include "tokenizer/chat/ChatTemplate.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace lathe {

struct RenderedRecord
{
    std::string text;
    std::vector<std::pair<size_t, size_t>> targetSpans; // byte ranges of text that carry loss
    std::vector<int32_t> ids;
    std::vector<uint8_t> mask;
    bool segmented = false;    // offsets could not be recovered; segments were tokenised apart
    bool toolsDropped = false; // the record had tool definitions the template ignores

    int64_t targetTokens() const;
};

class ChatRenderer
{
public:
    // trainOn: "assistant" (every assistant turn), "last" (the last one) or "all" (every
    // token). appendEos: end raw-text records with EOS. Throws Error for a bad trainOn or
    // a template that does not compile.
    ChatRenderer(const Tokenizer &tokenizer, const std::string &templateSource, const std::string &trainOn,
                 bool appendEos = true);

    // Renders and tokenises a conversation. Only assistant turns at index >= firstTrainable
    // may carry loss (preference pairs train on the response only). Throws Error when the
    // template raises or is not prefix-stable for this conversation.
    RenderedRecord renderChat(const Conversation &conversation, size_t firstTrainable = 0) const;
    RenderedRecord renderText(const std::string &text) const;

    bool supportsToolCalls() const { return m_toolCalls; }
    bool supportsTools() const { return m_tools; }
    const std::string &templateSource() const { return m_source; }

private:
    std::string render(const nlohmann::ordered_json &messages, size_t count, bool generationPrompt,
                       const nlohmann::ordered_json &tools) const;
    void tokenize(RenderedRecord &r) const;

    const Tokenizer &m_tokenizer;
    std::string m_source;
    ChatTemplate m_template;
    std::string m_trainOn;
    bool m_appendEos;
    std::string m_bos, m_eos;
    std::vector<std::string> m_markers; // end-of-turn texts, longest first
    bool m_toolCalls = false, m_tools = false;
};

} // namespace lathe
