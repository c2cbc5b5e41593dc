#include "data/ChatRenderer.h"

#include "data/ConvertContext.h"

#include "core/Error.h"

#include <algorithm>

namespace lathe {

namespace {

using Json = nlohmann::ordered_json;

bool startsWith(const std::string &s, const std::string &prefix)
{
    return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

size_t spaceRun(const std::string &s, size_t pos)
{
    size_t n = 0;
    while (pos + n < s.size() && (s[pos + n] == '\n' || s[pos + n] == ' ' || s[pos + n] == '\r'))
        ++n;
    return n;
}

// A fixed date for strftime_now(): the same record must always render the same.
std::tm fixedDate()
{
    std::tm t{};
    t.tm_year = 2024 - 1900;
    t.tm_mon = 0;
    t.tm_mday = 1;
    t.tm_wday = 1;
    return t;
}

} // namespace

int64_t RenderedRecord::targetTokens() const
{
    int64_t n = 0;
    for (uint8_t m : mask)
        n += m;
    return n;
}

ChatRenderer::ChatRenderer(const Tokenizer &tokenizer, const std::string &templateSource, const std::string &trainOn,
                           bool appendEos)
    : m_tokenizer(tokenizer), m_source(templateSource), m_template(templateSource), m_trainOn(trainOn),
      m_appendEos(appendEos)
{
    if (trainOn != "assistant" && trainOn != "last" && trainOn != "all")
        fail("train_on must be 'assistant', 'last' or 'all', got '" + trainOn + "'");
    // Token texts only for real control tokens. The tokenizer honours an explicit
    // "bos_token": null, but a tokenizer.json loaded without its tokenizer_config.json
    // still guesses BOS/EOS by name, and Qwen's vocabulary has plain pieces "<s>" and
    // "</s>": those are not markers a template should print.
    auto specialText = [&](int32_t id) {
        return id >= 0 && tokenizer.isSpecial(id) ? tokenizer.pieceBytes(id) : std::string();
    };
    m_bos = specialText(tokenizer.bosId());
    m_eos = specialText(tokenizer.eosId());
    for (int32_t id : {tokenizer.eotId(), tokenizer.eosId()})
        if (const std::string t = specialText(id); !t.empty() && std::find(m_markers.begin(), m_markers.end(), t) == m_markers.end())
            m_markers.push_back(t);
    // Probe what the template does with tool calls and tool definitions.
    const Json probe = Json::parse(R"([{"role":"user","content":"x"},{"role":"assistant","content":"",
        "tool_calls":[{"type":"function","function":{"name":"lathe_probe_call","arguments":{}}}]}])");
    try {
        m_toolCalls = render(probe, 2, false, nullptr).find("lathe_probe_call") != std::string::npos;
    } catch (const Error &) {
    }
    try {
        const Json tools = Json::parse(R"([{"name":"lathe_probe_tool","description":"","parameters":{}}])");
        m_tools = render(probe, 1, true, tools).find("lathe_probe_tool") != std::string::npos;
    } catch (const Error &) {
    }
}

std::string ChatRenderer::render(const Json &messages, size_t count, bool generationPrompt, const Json &tools) const
{
    ChatRenderInput in;
    in.messages = Json::array();
    for (size_t i = 0; i < count; ++i)
        in.messages.push_back(messages[i]);
    in.addGenerationPrompt = generationPrompt;
    in.bosToken = m_bos;
    in.eosToken = m_eos;
    in.tools = tools;
    in.now = fixedDate();
    return m_template.render(in);
}

RenderedRecord ChatRenderer::renderChat(const Conversation &conversation, size_t firstTrainable) const
{
    const auto &turns = conversation.turns;
    Json messages = Json::array();
    for (const Turn &t : turns) {
        Json m = {{"role", t.role}, {"content", t.content}};
        if (!t.toolCalls.is_null()) {
            if (m_toolCalls) {
                m["tool_calls"] = t.toolCalls;
            } else {
                // The template cannot show calls: the call JSON becomes the turn's text.
                Json calls = Json::array();
                for (const Json &c : t.toolCalls)
                    calls.push_back({{"name", c["function"]["name"]}, {"arguments", c["function"]["arguments"]}});
                const std::string text = dataimpl::pythonJson(calls.size() == 1 ? calls[0] : calls);
                m["content"] = t.content.empty() ? text : t.content + "\n" + text;
            }
        }
        messages.push_back(std::move(m));
    }
    const Json tools = m_tools ? conversation.tools : Json();
    RenderedRecord r;
    r.toolsDropped = !m_tools && !conversation.tools.is_null();
    r.text = render(messages, turns.size(), false, tools);

    if (m_trainOn == "all") {
        r.targetSpans.emplace_back(0, r.text.size());
        tokenize(r);
        return r;
    }
    size_t last = turns.size();
    for (size_t k = firstTrainable; k < turns.size(); ++k)
        if (turns[k].role == "assistant")
            last = k;
    for (size_t k = std::max<size_t>(firstTrainable, 1); k < turns.size(); ++k) {
        const Turn &t = turns[k];
        if (t.role != "assistant")
            continue;
        const bool wanted = t.train ? *t.train : (m_trainOn == "assistant" || k == last);
        if (!wanted)
            continue;
        const std::string before = render(messages, k, true, tools);
        if (!startsWith(r.text, before))
            fail("the chat template is not prefix-stable: the conversation up to turn " + std::to_string(k + 1) +
                 " with the generation prompt is not a prefix of the whole conversation, so the loss mask of "
                 "that turn cannot be found");
        const size_t start = before.size();
        const std::string upTo = render(messages, k + 1, false, tools);
        const bool clean = startsWith(r.text, upTo);
        const size_t limit = clean ? upTo.size() : r.text.size();
        size_t marker = std::string::npos, markerLen = 0;
        for (const std::string &m : m_markers)
            if (const size_t at = r.text.find(m, start); at != std::string::npos && at < limit && at < marker) {
                marker = at;
                markerLen = m.size();
            }
        size_t end = 0;
        if (marker != std::string::npos) {
            end = marker + markerLen;
            // The whitespace after the marker belongs to the turn when this turn's own
            // rendering has it too (chatml's "<|im_end|>\n").
            const size_t own = upTo.find(r.text.substr(marker, markerLen), start);
            if (own != std::string::npos)
                end += std::min(spaceRun(r.text, end), spaceRun(upTo, own + markerLen));
            if (clean)
                end = std::min(end, upTo.size());
        } else if (clean) {
            end = upTo.size();
        } else {
            fail("the chat template is not prefix-stable: turn " + std::to_string(k + 1) +
                 " renders differently when later turns follow, and it has no end-of-turn marker to end its "
                 "loss mask at");
        }
        if (end > start)
            r.targetSpans.emplace_back(start, end);
    }
    tokenize(r);
    return r;
}

void ChatRenderer::tokenize(RenderedRecord &r) const
{
    EncodeOptions opt;
    opt.addSpecial = false;
    opt.parseSpecial = true;
    r.ids = m_tokenizer.encode(r.text, opt);
    // Recover where each token starts. SentencePiece models add a dummy-prefix space at
    // the start and after control tokens that is not in the text.
    std::vector<size_t> starts(r.ids.size());
    size_t pos = 0;
    bool aligned = true;
    for (size_t i = 0; i < r.ids.size() && aligned; ++i) {
        const std::string &b = m_tokenizer.pieceBytes(r.ids[i]);
        starts[i] = pos;
        if (r.text.compare(pos, b.size(), b) == 0)
            pos += b.size();
        else if (!b.empty() && b[0] == ' ' && r.text.compare(pos, b.size() - 1, b, 1, std::string::npos) == 0)
            pos += b.size() - 1;
        else
            aligned = false;
    }
    aligned = aligned && pos == r.text.size();
    r.mask.assign(r.ids.size(), 0);
    if (aligned) {
        for (size_t i = 0; i < r.ids.size(); ++i)
            for (const auto &[s, e] : r.targetSpans)
                if (starts[i] >= s && starts[i] < e) {
                    r.mask[i] = 1;
                    break;
                }
    } else {
        // The tokenizer normalised the text (offsets lost): tokenise span by span instead.
        r.segmented = true;
        r.ids.clear();
        r.mask.clear();
        size_t at = 0;
        auto add = [&](size_t from, size_t to, uint8_t m) {
            if (to <= from)
                return;
            const auto ids = m_tokenizer.encode(std::string_view(r.text).substr(from, to - from), opt);
            r.ids.insert(r.ids.end(), ids.begin(), ids.end());
            r.mask.insert(r.mask.end(), ids.size(), m);
        };
        for (const auto &[s, e] : r.targetSpans) {
            add(at, s, 0);
            add(s, e, 1);
            at = e;
        }
        add(at, r.text.size(), 0);
    }
    if (!r.mask.empty())
        r.mask[0] = 0;
}

RenderedRecord ChatRenderer::renderText(const std::string &text) const
{
    RenderedRecord r;
    r.text = text;
    EncodeOptions opt;
    opt.addSpecial = false;
    opt.parseSpecial = false; // raw text: "<|im_end|>" in a web page is just text
    if (m_tokenizer.addsBos())
        r.ids.push_back(m_tokenizer.bosId());
    const auto ids = m_tokenizer.encode(text, opt);
    r.ids.insert(r.ids.end(), ids.begin(), ids.end());
    if (m_appendEos && m_tokenizer.eosId() >= 0)
        r.ids.push_back(m_tokenizer.eosId());
    r.targetSpans.emplace_back(0, text.size());
    r.mask.assign(r.ids.size(), 1);
    if (!r.mask.empty())
        r.mask[0] = 0;
    return r;
}

} // namespace lathe
