// Renders every case of the shared chat-template fixture (304 real templates x
// conversations, rendered by Python Jinja2 exactly as Hugging Face does) and requires
// byte-identical text, or an error containing the expected message. No tolerance:
// prompts are tokenized, so one differing byte is a different prompt.
#include "tokenizer/chat/ChatTemplate.h"

#include "core/Error.h"

#include "Fixtures.h"

#include <QtTest>

using lathe::ChatRenderInput;
using lathe::ChatTemplate;

namespace {

// The fixture was rendered with strftime_now fixed at 2026-11-22.
std::tm fixtureDate()
{
    std::tm t{};
    t.tm_year = 2026 - 1900;
    t.tm_mon = 10;
    t.tm_mday = 22;
    time_t epoch = timegm(&t); // fills in weekday and day of year
    gmtime_r(&epoch, &t);
    return t;
}

std::string escaped(const std::string &s)
{
    std::string out;
    for (char c : s) {
        if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else
            out += c;
    }
    return out;
}

// A diff-friendly description: where the texts first differ, with context.
std::string describeDiff(const std::string &expected, const std::string &actual)
{
    size_t i = 0;
    while (i < expected.size() && i < actual.size() && expected[i] == actual[i])
        ++i;
    size_t from = i > 40 ? i - 40 : 0;
    return "first difference at byte " + std::to_string(i) + " (expected " + std::to_string(expected.size())
        + " bytes, got " + std::to_string(actual.size()) + ")\n    expected: ..." + escaped(expected.substr(from, 120))
        + "\n    actual:   ..." + escaped(actual.substr(from, 120));
}

} // namespace

class TestChatCases : public QObject
{
    Q_OBJECT

private slots:
    void allCasesRenderExactly()
    {
        // ordered_json: key order matters to templates that iterate dicts, as in Python.
        const auto cases = nlohmann::ordered_json::parse(lathe::test::readText(lathe::test::fixture("chat-templates/cases.json")));
        QCOMPARE(cases.size(), size_t(304));
        const std::tm date = fixtureDate();
        int passed = 0;
        std::string report;
        for (size_t i = 0; i < cases.size(); ++i) {
            const auto &c = cases[i];
            ChatRenderInput input;
            input.messages = c.at("messages");
            input.addGenerationPrompt = c.at("add_generation_prompt").get<bool>();
            input.bosToken = c.at("bos_token").get<std::string>();
            input.eosToken = c.at("eos_token").get<std::string>();
            if (c.contains("tools"))
                input.tools = c.at("tools");
            input.now = date;
            // Any other key beyond the known ones would be a template variable.
            static const char *const known[] = {"id", "template_name", "origin", "template", "messages",
                                                "add_generation_prompt", "bos_token", "eos_token", "expected",
                                                "expected_error", "tools"};
            for (auto it = c.begin(); it != c.end(); ++it)
                if (std::find(std::begin(known), std::end(known), it.key()) == std::end(known))
                    input.extra[it.key()] = it.value();
            const std::string id = c.value("id", std::to_string(i));
            std::string actual, error;
            try {
                ChatTemplate tmpl(c.at("template").get<std::string>());
                actual = tmpl.render(input);
            } catch (const lathe::Error &e) {
                error = e.what();
            }
            if (c.contains("expected_error")) {
                const std::string want = c.at("expected_error").get<std::string>();
                if (!error.empty() && error.find(want) != std::string::npos)
                    ++passed;
                else
                    report += "case " + std::to_string(i) + " (" + id + "): expected error containing '" + want
                        + "', got " + (error.empty() ? "text '" + escaped(actual.substr(0, 200)) + "'" : "error '" + error + "'")
                        + "\n";
                continue;
            }
            const std::string want = c.at("expected").get<std::string>();
            if (!error.empty())
                report += "case " + std::to_string(i) + " (" + id + "): error '" + error + "'\n";
            else if (actual != want)
                report += "case " + std::to_string(i) + " (" + id + "): " + describeDiff(want, actual) + "\n";
            else
                ++passed;
        }
        qInfo("chat template cases passing: %d / %d", passed, int(cases.size()));
        if (!report.empty())
            QFAIL(report.c_str());
    }
};

QTEST_GUILESS_MAIN(TestChatCases)
#include "tst_chat_cases.moc"
