// Acceptance 1 (rendering): chosen records of LLaMA-Factory's demo data rendered through
// the Llama 3 (built-in, and the tokenizer_config template that always appends an
// assistant header), Qwen 3 (tokenizer_config) and Mistral (built-in) templates, with the
// real tokenizers. Expected texts and trained spans are written from each template's
// semantics (Qwen 3 puts an empty <think> block before the answer after the last user
// turn; Llama 3 trims contents; Mistral puts the answer right after [/INST] and the
// system prompt before the first user text), not from our output. Each case checks the
// exact text, the exact spans, that the ids are the tokenisation of that text, that the
// tokens carrying loss decode to exactly the spans, and that token 0 carries none.
#include "DataTestUtil.h"

#include "data/ChatRenderer.h"

using namespace lathe;
using namespace lathe::test;
using nlohmann::json;

namespace {

const char *kIdentityAnswer =
    "Hello! I am {{name}}, an AI assistant developed by {{author}}. How can I assist you today?";

std::string join(const std::vector<std::string> &parts)
{
    std::string out;
    for (const auto &p : parts)
        out += p;
    return out;
}

// Everything a rendered record must satisfy for the given expected text and spans.
void checkRendered(const Tokenizer &t, const RenderedRecord &r, const std::string &text,
                   const std::vector<std::string> &spans, bool byteLevel)
{
    QCOMPARE(r.text, text);
    QCOMPARE(spanTexts(r), spans);
    EncodeOptions plain;
    plain.addSpecial = false;
    QCOMPARE(r.ids, t.encode(text, plain));
    QCOMPARE(r.mask.size(), r.ids.size());
    QVERIFY(!r.segmented);
    QCOMPARE(int(r.mask[0]), 0);
    QCOMPARE(targetText(t, r), join(spans));
    if (byteLevel) {
        // Spans start and end at token boundaries here, so the trained ids are exactly the
        // spans' own tokens, and the untrained ones decode to the text around them.
        std::vector<int32_t> expected;
        for (const auto &s : spans) {
            const auto ids = t.encode(s, plain);
            expected.insert(expected.end(), ids.begin(), ids.end());
        }
        std::vector<int32_t> trained;
        for (size_t i = 0; i < r.ids.size(); ++i)
            if (r.mask[i])
                trained.push_back(r.ids[i]);
        QCOMPARE(trained, expected);
        std::string rest = text;
        for (const auto &s : spans)
            rest.erase(rest.find(s), s.size());
        QCOMPARE(targetText(t, r, 0), rest);
    }
}

struct Turns
{
    std::vector<std::pair<std::string, std::string>> turns; // role, content
};

// The expected renderings, one per template, from the templates' definitions.
std::string qwen(const Turns &c, std::vector<std::string> &spans)
{
    size_t lastUser = 0;
    for (size_t i = 0; i < c.turns.size(); ++i)
        if (c.turns[i].first == "user")
            lastUser = i;
    std::string out;
    for (size_t i = 0; i < c.turns.size(); ++i) {
        const auto &[role, content] = c.turns[i];
        if (role != "assistant") {
            out += "<|im_start|>" + role + "\n" + content + "<|im_end|>\n";
            continue;
        }
        const bool last = i + 1 == c.turns.size() && i > lastUser;
        const std::string span = (last ? "<think>\n\n</think>\n\n" : "") + content + "<|im_end|>\n";
        out += "<|im_start|>assistant\n" + span;
        spans.push_back(span);
    }
    return out;
}

std::string trim(const std::string &s)
{
    const size_t b = s.find_first_not_of(" \t\n\r");
    const size_t e = s.find_last_not_of(" \t\n\r");
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string llama3(const Turns &c, std::vector<std::string> &spans, bool modelTemplate)
{
    std::string out = "<|begin_of_text|>";
    for (const auto &[role, content] : c.turns) {
        out += "<|start_header_id|>" + role + "<|end_header_id|>\n\n";
        const std::string body = trim(content) + "<|eot_id|>";
        out += body;
        if (role == "assistant")
            spans.push_back(body);
    }
    // Meta's first Llama 3 template adds the assistant header whatever add_generation_prompt says.
    return modelTemplate ? out + "<|start_header_id|>assistant<|end_header_id|>\n\n" : out;
}

std::string mistral(const Turns &c, std::vector<std::string> &spans)
{
    std::string out = "<s>";
    std::string system;
    bool first = true;
    for (const auto &[role, content] : c.turns) {
        if (role == "system") {
            system = content;
        } else if (role == "user") {
            out += "[INST] " + (first && !system.empty() ? system + "\n\n" : std::string()) + content + " [/INST]";
            first = false;
        } else {
            out += content + "</s>";
            spans.push_back(content + "</s>");
        }
    }
    return out;
}

Turns alpacaTurns(const json &r)
{
    std::string prompt = r["instruction"].get<std::string>();
    if (!r["input"].get<std::string>().empty())
        prompt += "\n" + r["input"].get<std::string>();
    return {{{"user", prompt}, {"assistant", r["output"].get<std::string>()}}};
}

Turns sharegptTurns(const json &conversations)
{
    Turns t;
    for (const auto &m : conversations) {
        const std::string from = m["from"];
        t.turns.emplace_back(from == "human" ? "user" : from == "gpt" ? "assistant" : from, m["value"]);
    }
    return t;
}

} // namespace

class TestRender : public QObject
{
    Q_OBJECT
    Tokenizer m_qwen = fixtureTokenizer("qwen");
    Tokenizer m_llama3 = fixtureTokenizer("llama3");
    Tokenizer m_mistral = fixtureTokenizer("mistral");
    std::string m_qwenTemplate = fixtureTemplate("qwen");
    std::string m_llama3Template = fixtureTemplate("llama3");

    // The records at `indices` of a fixture file, rendered through one template.
    std::vector<PipelineRecord> render(const std::string &file, const Tokenizer &t, const std::string &templateName,
                                       const std::string &modelTemplate, const std::set<size_t> &indices,
                                       const std::string &trainOn = "assistant")
    {
        DatasetSpec spec;
        spec.path = llamaFactory(file);
        spec.chatTemplate = templateName;
        spec.trainOn = trainOn;
        PipelineResult res;
        auto out = pickRecords(spec, &t, modelTemplate, indices, &res);
        if (out.size() != indices.size())
            for (const auto &i : issueTexts(res.issues))
                qWarning("%s", i.c_str());
        return out;
    }

private slots:
    void identityThroughEveryTemplate()
    {
        const std::string answer = kIdentityAnswer;
        auto q = render("identity.json", m_qwen, "model", m_qwenTemplate, {0});
        QCOMPARE(q.size(), size_t(1));
        checkRendered(m_qwen, q[0].chosen,
                      "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n" + answer +
                          "<|im_end|>\n",
                      {"<think>\n\n</think>\n\n" + answer + "<|im_end|>\n"}, true);

        const std::string llamaText = "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>"
                                      "<|start_header_id|>assistant<|end_header_id|>\n\n" +
                                      answer + "<|eot_id|>";
        auto l = render("identity.json", m_llama3, "llama3", "", {0});
        QCOMPARE(l.size(), size_t(1));
        checkRendered(m_llama3, l[0].chosen, llamaText, {answer + "<|eot_id|>"}, true);
        // The tokenizer's own template: the trailing header is not part of the answer.
        auto lm = render("identity.json", m_llama3, "model", m_llama3Template, {0});
        QCOMPARE(lm.size(), size_t(1));
        checkRendered(m_llama3, lm[0].chosen, llamaText + "<|start_header_id|>assistant<|end_header_id|>\n\n",
                      {answer + "<|eot_id|>"}, true);

        auto m = render("identity.json", m_mistral, "mistral", "", {0});
        QCOMPARE(m.size(), size_t(1));
        checkRendered(m_mistral, m[0].chosen, "<s>[INST] hi [/INST]" + answer + "</s>", {answer + "</s>"}, false);
    }

    void alpacaRecords()
    {
        const json data = readJson(llamaFactory("alpaca_en_demo.json"));
        const std::set<size_t> picks = {0, 5}; // 5 is the first record with an input
        QVERIFY(data[5]["input"].get<std::string>() != "");
        auto q = render("alpaca_en_demo.json", m_qwen, "model", m_qwenTemplate, picks);
        auto l = render("alpaca_en_demo.json", m_llama3, "llama3", "", picks);
        auto m = render("alpaca_en_demo.json", m_mistral, "mistral", "", picks);
        QCOMPARE(q.size(), size_t(2));
        QCOMPARE(l.size(), size_t(2));
        QCOMPARE(m.size(), size_t(2));
        size_t k = 0;
        for (size_t index : picks) {
            const Turns turns = alpacaTurns(data[index]);
            std::vector<std::string> sq, sl, sm;
            const std::string tq = qwen(turns, sq), tl = llama3(turns, sl, false), tm = mistral(turns, sm);
            checkRendered(m_qwen, q[k].chosen, tq, sq, true);
            checkRendered(m_llama3, l[k].chosen, tl, sl, true);
            checkRendered(m_mistral, m[k].chosen, tm, sm, false);
            ++k;
        }
    }

    void messagesWithContentParts()
    {
        // v1_sft_demo: content is a list of text parts, loss_weight 0 on user turns.
        auto q = render("v1_sft_demo.jsonl", m_qwen, "model", m_qwenTemplate, {0});
        QCOMPARE(q.size(), size_t(1));
        const std::string answer = kIdentityAnswer;
        checkRendered(m_qwen, q[0].chosen,
                      "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n" + answer +
                          "<|im_end|>\n",
                      {"<think>\n\n</think>\n\n" + answer + "<|im_end|>\n"}, true);
    }

    void multiTurnConversation()
    {
        // glaive record 123: five question/answer pairs, the first answer "Yellow\n ." (Llama 3 trims).
        const json data = readJson(llamaFactory("glaive_toolcall_en_demo.json"));
        const Turns turns = sharegptTurns(data[123]["conversations"]);
        QCOMPARE(turns.turns.size(), size_t(10));
        std::vector<std::string> sq, sl, slm, sm;
        const std::string tq = qwen(turns, sq), tl = llama3(turns, sl, false), tlm = llama3(turns, slm, true),
                          tm = mistral(turns, sm);
        QCOMPARE(sq.size(), size_t(5));
        auto q = render("glaive_toolcall_en_demo.json", m_qwen, "model", m_qwenTemplate, {123});
        auto l = render("glaive_toolcall_en_demo.json", m_llama3, "llama3", "", {123});
        auto lm = render("glaive_toolcall_en_demo.json", m_llama3, "model", m_llama3Template, {123});
        // Other glaive records have tool turns Mistral's template refuses: pick by line.
        DatasetSpec spec;
        spec.path = llamaFactory("glaive_toolcall_en_demo.json");
        spec.chatTemplate = "mistral";
        auto m = recordsAtLines(spec, &m_mistral, "", {3993});
        QCOMPARE(q.size() + l.size() + lm.size() + m.size(), size_t(4));
        QCOMPARE(q[0].record.line, int64_t(3993));
        checkRendered(m_qwen, q[0].chosen, tq, sq, true);
        checkRendered(m_llama3, l[0].chosen, tl, sl, true);
        checkRendered(m_llama3, lm[0].chosen, tlm, slm, true);
        checkRendered(m_mistral, m[0].chosen, tm, sm, false);

        // train_on last: only the final answer; all: every token but the first.
        auto last = render("glaive_toolcall_en_demo.json", m_qwen, "model", m_qwenTemplate, {123}, "last");
        QCOMPARE(last.size(), size_t(1));
        checkRendered(m_qwen, last[0].chosen, tq, {sq.back()}, true);
        auto all = render("glaive_toolcall_en_demo.json", m_qwen, "model", m_qwenTemplate, {123}, "all");
        QCOMPARE(all.size(), size_t(1));
        QCOMPARE(all[0].chosen.targetTokens(), int64_t(all[0].chosen.ids.size()) - 1);
    }

    void toolCalls()
    {
        // glaive record 203: a function call, its observation and the answer.
        const std::string tool =
            "{\"name\": \"calculate_age\", \"description\": \"Calculate the age based on birthdate\", \"parameters\": "
            "{\"type\": \"object\", \"properties\": {\"birthdate\": {\"type\": \"string\", \"description\": \"The "
            "birthdate in YYYY-MM-DD format\"}}, \"required\": [\"birthdate\"]}}";
        const std::string call = "{\"name\": \"calculate_age\", \"arguments\": {\"birthdate\": \"1990-05-15\"}}";
        const std::string question = "Hi, I was born on 1990-05-15. Can you tell me how old I am today?";
        const std::string answer = "Based on the birthdate you provided, you are 31 years old today.";
        auto q = render("glaive_toolcall_en_demo.json", m_qwen, "model", m_qwenTemplate, {203});
        QCOMPARE(q.size(), size_t(1));
        QCOMPARE(q[0].record.line, int64_t(6409));
        const std::string qText =
            "<|im_start|>system\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
            "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n" +
            tool +
            "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
            "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
            "<args-json-object>}\n</tool_call><|im_end|>\n<|im_start|>user\n" +
            question + "<|im_end|>\n<|im_start|>assistant\n<tool_call>\n" + call +
            "\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n{\"age\": 31}\n</tool_response><|im_end|>\n"
            "<|im_start|>assistant\n<think>\n\n</think>\n\n" +
            answer + "<|im_end|>\n";
        checkRendered(m_qwen, q[0].chosen, qText,
                      {"<tool_call>\n" + call + "\n</tool_call><|im_end|>\n",
                       "<think>\n\n</think>\n\n" + answer + "<|im_end|>\n"},
                      true);
        QVERIFY(!q[0].chosen.toolsDropped);

        // Llama 3's built-in template shows neither tool definitions nor calls: the call
        // becomes the turn's text, the observation a "tool" turn.
        auto l = render("glaive_toolcall_en_demo.json", m_llama3, "llama3", "", {203});
        QCOMPARE(l.size(), size_t(1));
        const std::string lText = "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n" + question +
                                  "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n" + call +
                                  "<|eot_id|><|start_header_id|>tool<|end_header_id|>\n\n{\"age\": 31}<|eot_id|>"
                                  "<|start_header_id|>assistant<|end_header_id|>\n\n" +
                                  answer + "<|eot_id|>";
        checkRendered(m_llama3, l[0].chosen, lText, {call + "<|eot_id|>", answer + "<|eot_id|>"}, true);
        QVERIFY(l[0].chosen.toolsDropped);

        // Mistral's template knows no tool role: a clear error at the record's line.
        DatasetSpec spec;
        spec.path = llamaFactory("glaive_toolcall_en_demo.json");
        spec.chatTemplate = "mistral";
        PipelineResult res;
        pickRecords(spec, &m_mistral, "", {}, &res);
        bool found = false;
        for (const Issue &i : res.issues.items())
            if (i.line == 6409) {
                QCOMPARE(i.text(), spec.path + ":6409: error: chat template line 1: Conversation roles must alternate "
                                               "user/assistant/user/assistant/...");
                found = true;
            }
        QVERIFY(found);
    }

    void preferencePairs()
    {
        const json data = readJson(llamaFactory("dpo_en_demo.json"));
        for (size_t index : {size_t(134), size_t(43)}) { // 43 opens with a system prompt
            const json &r = data[index];
            Turns chosen = sharegptTurns(r["conversations"]), rejected = chosen;
            chosen.turns.emplace_back("assistant", r["chosen"]["value"]);
            rejected.turns.emplace_back("assistant", r["rejected"]["value"]);
            auto q = render("dpo_en_demo.json", m_qwen, "model", m_qwenTemplate, {index});
            auto l = render("dpo_en_demo.json", m_llama3, "llama3", "", {index});
            auto m = render("dpo_en_demo.json", m_mistral, "mistral", "", {index});
            QCOMPARE(q.size() + l.size() + m.size(), size_t(3));
            QCOMPARE(q[0].record.kind, RecordKind::Preference);
            QCOMPARE(q[0].record.line, int64_t(index == 134 ? 3274 : 1050));
            for (const Turns *c : {&chosen, &rejected}) {
                const bool isChosen = c == &chosen;
                std::vector<std::string> sq, sl, sm;
                const std::string tq = qwen(*c, sq), tl = llama3(*c, sl, false), tm = mistral(*c, sm);
                checkRendered(m_qwen, isChosen ? q[0].chosen : q[0].rejected, tq, sq, true);
                checkRendered(m_llama3, isChosen ? l[0].chosen : l[0].rejected, tl, sl, true);
                checkRendered(m_mistral, isChosen ? m[0].chosen : m[0].rejected, tm, sm, false);
            }
        }
        // The shortest pair, written out in full.
        auto q = render("dpo_en_demo.json", m_qwen, "model", m_qwenTemplate, {134});
        QCOMPARE(q[0].chosen.text, std::string("<|im_start|>user\nObtain the result by calculating 6778576-84834150134. "
                                               "Only respond with math and no words.<|im_end|>\n<|im_start|>assistant\n"
                                               "<think>\n\n</think>\n\n6778576 - 84834150134 = -84827371558<|im_end|>\n"));
        QCOMPARE(targetText(m_qwen, q[0].rejected),
                 std::string("<think>\n\n</think>\n\n84834150134 - 6778576 = -16666579378<|im_end|>\n"));
    }

    void rawText()
    {
        // Pre-training text: BOS when the tokenizer adds one, the text, EOS; loss on all but token 0.
        std::string first;
        {
            std::ifstream in(llamaFactory("c4_demo.jsonl"));
            std::string line;
            std::getline(in, line);
            first = json::parse(line)["text"];
        }
        EncodeOptions raw;
        raw.addSpecial = false;
        raw.parseSpecial = false;
        for (const Tokenizer *t : {&m_qwen, &m_llama3, &m_mistral}) {
            auto r = render("c4_demo.jsonl", *t, "model", "", {0});
            QCOMPARE(r.size(), size_t(1));
            std::vector<int32_t> expected;
            if (t == &m_mistral)
                expected.push_back(1); // <s>: Mistral's tokenizer adds BOS, Llama 3's file and Qwen's do not
            const auto ids = t->encode(first, raw);
            expected.insert(expected.end(), ids.begin(), ids.end());
            expected.push_back(t == &m_qwen ? 151645 : t == &m_llama3 ? 128001 : 2); // eos_token
            QCOMPARE(r[0].chosen.ids, expected);
            QCOMPARE(r[0].chosen.targetTokens(), int64_t(expected.size()) - 1);
            QCOMPARE(int(r[0].chosen.mask[0]), 0);
        }
    }

    void bosTokenOnlyWhenTheModelHasOne()
    {
        // Qwen's config says "bos_token": null: a template printing bos_token prints
        // nothing. Without the config the tokenizer guesses the plain vocabulary piece
        // "<s>" by name, which the renderer must not print either.
        const std::string tmpl = "{{ bos_token }}{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}"
                                 "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
        const Tokenizer bare = Tokenizer::fromTokenizerJson(readText(fixture("tokenizers/qwen/tokenizer.json")));
        QVERIFY(bare.bosId() >= 0 && !bare.isSpecial(bare.bosId())); // the premise: a guessed plain piece
        QCOMPARE(m_qwen.bosId(), -1);
        Conversation c;
        c.turns = {Turn{"user", "a", nullptr, {}}, Turn{"assistant", "b", nullptr, {}}};
        for (const Tokenizer *t : {static_cast<const Tokenizer *>(&m_qwen), &bare}) {
            const RenderedRecord r = ChatRenderer(*t, tmpl, "assistant").renderChat(c);
            QCOMPARE(r.text, std::string("<|im_start|>user\na<|im_end|>\n<|im_start|>assistant\nb<|im_end|>\n"));
        }
    }

    void templateThatIsNotPrefixStable()
    {
        // A template that prints the turns in reverse: the prefix rendering is not a prefix.
        const Tokenizer &t = m_qwen;
        ChatRenderer r(t,
                       "{% for m in messages|reverse %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
                       "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}",
                       "assistant");
        Conversation c;
        c.turns = {Turn{"user", "a", nullptr, {}}, Turn{"assistant", "b", nullptr, {}}};
        try {
            r.renderChat(c);
            QFAIL("no error for a template that is not prefix-stable");
        } catch (const Error &e) {
            QVERIFY2(std::string(e.what()).find("not prefix-stable") != std::string::npos, e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestRender)
#include "tst_render.moc"
