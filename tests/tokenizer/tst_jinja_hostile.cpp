// Hostile templates: malformed syntax, unbounded nesting, infinite recursion and
// runaway loops must end in a lathe::Error with a clear message, never a crash, a hang
// or an exhausted memory. Limits are lowered where the default would only make the
// test slower, not different.
#include "tokenizer/chat/ChatTemplate.h"
#include "tokenizer/jinja/Template.h"

#include "core/Error.h"

#include <QtTest>

using lathe::jinja::Limits;
using lathe::jinja::Template;
using lathe::jinja::Value;

namespace {

// Returns the error message, or fails the test when the template renders.
std::string errorOf(const std::string &src, const Limits &limits = {})
{
    try {
        Template t(src);
        std::unordered_map<std::string, Value> vars{{"messages", Value::list({})}};
        std::string out = t.render(vars, std::tm{}, limits);
        return "NO ERROR, rendered " + std::to_string(out.size()) + " bytes";
    } catch (const lathe::Error &e) {
        return e.what();
    }
}

bool has(const std::string &s, const std::string &part)
{
    return s.find(part) != std::string::npos;
}

std::string repeat(const std::string &s, int n)
{
    std::string out;
    for (int i = 0; i < n; ++i)
        out += s;
    return out;
}

} // namespace

class TestJinjaHostile : public QObject
{
    Q_OBJECT

private slots:
    void malformedSyntax_data()
    {
        QTest::addColumn<QString>("source");
        QTest::addColumn<QString>("message");
        QTest::newRow("unclosed if") << "a\n{% if true %}b" << "line 2: unexpected end of template: unclosed 'if'";
        QTest::newRow("unclosed for in if") << "{% if 1 %}{% for x in y %}{% endif %}" << "unexpected 'endif' tag";
        QTest::newRow("unclosed macro") << "{% macro m() %}x" << "unclosed 'macro'";
        QTest::newRow("stray endfor") << "{% endfor %}" << "unexpected 'endfor'";
        QTest::newRow("unknown tag") << "\n\n{% frobnicate %}" << "line 3: unsupported tag 'frobnicate'";
        QTest::newRow("include") << "{% include 'other.j2' %}" << "unsupported tag 'include'";
        QTest::newRow("extends") << "{% extends 'base' %}" << "unsupported tag 'extends'";
        QTest::newRow("unterminated print") << "{{ x" << "expected '}}'";
        QTest::newRow("unterminated block") << "{% if x" << "expected '%}'";
        QTest::newRow("unterminated string") << "{{ 'abc }}" << "unterminated string literal";
        QTest::newRow("unterminated comment") << "{# note" << "missing end of comment tag";
        QTest::newRow("unterminated raw") << "{% raw %}x" << "missing end of raw directive";
        QTest::newRow("bad char") << "{{ a $ b }}" << "unexpected char '$'";
        QTest::newRow("unbalanced bracket") << "{{ (a] }}" << "unexpected ']'";
        QTest::newRow("break outside loop") << "{% break %}" << "'break' outside of a loop";
        QTest::newRow("empty expression") << "{{ }}" << "expected an expression";
        QTest::newRow("dangling operator") << "{{ 1 + }}" << "expected an expression";
    }

    void malformedSyntax()
    {
        QFETCH(QString, source);
        QFETCH(QString, message);
        std::string err = errorOf(source.toStdString());
        QVERIFY2(has(err, message.toStdString()), err.c_str());
        QVERIFY2(has(err, "chat template line "), err.c_str());
    }

    void deepNesting_data()
    {
        QTest::addColumn<QString>("source");
        QTest::newRow("parentheses") << QString::fromStdString("{{ " + repeat("(", 100000) + "1" + repeat(")", 100000) + " }}");
        QTest::newRow("lists") << QString::fromStdString("{{ " + repeat("[", 100000) + repeat("]", 100000) + " }}");
        QTest::newRow("if blocks") << QString::fromStdString(repeat("{% if true %}", 100000) + repeat("{% endif %}", 100000));
        QTest::newRow("not chain") << QString::fromStdString("{{ " + repeat("not ", 100000) + "x }}");
        QTest::newRow("unary minus") << QString::fromStdString("{{ " + repeat("-", 100000) + "1 }}");
        QTest::newRow("attribute chain") << QString::fromStdString("{{ x" + repeat(".a", 100000) + " }}");
        QTest::newRow("plus chain") << QString::fromStdString("{{ 1" + repeat(" + 1", 100000) + " }}");
        QTest::newRow("filter chain") << QString::fromStdString("{{ 'x'" + repeat("|trim", 100000) + " }}");
        QTest::newRow("conditional chain") << QString::fromStdString("{{ 1" + repeat(" if x else 1", 100000) + " }}");
    }

    void deepNesting()
    {
        QFETCH(QString, source);
        std::string err = errorOf(source.toStdString());
        QVERIFY2(has(err, "nest") || has(err, "deeper"), err.substr(0, 300).c_str());
    }

    void infiniteMacroRecursion()
    {
        std::string err = errorOf("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
        QVERIFY2(has(err, "macro 'f' recursion deeper than"), err.c_str());
        err = errorOf("{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}{{ a() }}{% endmacro %}{{ a() }}");
        QVERIFY2(has(err, "recursion deeper than"), err.c_str());
    }

    void runawayLoops()
    {
        Limits limits;
        limits.maxSteps = 200000; // the default is larger; the behaviour is the same, only slower
        std::string err = errorOf("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}", limits);
        QVERIFY2(has(err, "steps"), err.c_str());
        err = errorOf("{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s + ns.s %}{% endfor %}");
        QVERIFY2(has(err, "size limit"), err.c_str());
        err = errorOf("{% for i in range(100000) %}{{ 'x' * 100000 }}{% endfor %}");
        QVERIFY2(has(err, "output exceeds"), err.c_str());
        err = errorOf("{{ 'x' * 1000000000000 }}");
        QVERIFY2(has(err, "size limit"), err.c_str());
        err = errorOf("{{ range(1000000000)|length }}");
        QVERIFY2(has(err, "Range too big"), err.c_str());
        err = errorOf("{{ 9223372036854775807 + 1 }}");
        QVERIFY2(has(err, "integer overflow"), err.c_str());
    }

    // Structures a template builds stay shallow enough to print, compare and free
    // without deep recursion, and namespaces cannot form cycles.
    void deepValuesAndCycles()
    {
        std::string err = errorOf("{% set ns = namespace(x=[]) %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}"
                                  "{% endfor %}{{ ns.x }}");
        QVERIFY2(has(err, "nested deeper than"), err.c_str());
        err = errorOf("{% set ns = namespace(x=none) %}{% for i in range(100000) %}{% set ns.x = {'a': ns.x} %}"
                      "{% endfor %}");
        QVERIFY2(has(err, "nested deeper than"), err.c_str());
        err = errorOf("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}");
        QVERIFY2(has(err, "namespace inside a namespace"), err.c_str());
        err = errorOf("{% set ns = namespace() %}{% set ns.l = [1, ns] %}");
        QVERIFY2(has(err, "namespace inside a namespace"), err.c_str());
    }

    // Bytes that are not UTF-8 pass through text and strings unchanged.
    void invalidUtf8RoundTrips()
    {
        const std::string src = std::string("a\xff\xfe{{ '\xc3(' ~ '\x80' }}") + std::string("\0z", 2);
        const std::string expected = std::string("a\xff\xfe\xc3(\x80") + std::string("\0z", 2);
        Template t(src);
        QCOMPARE(t.render({}, std::tm{}), expected);
    }

    void deeplyNestedJsonInput()
    {
        std::string text = repeat("[", 100000) + repeat("]", 100000);
        lathe::ChatRenderInput input;
        input.messages = nlohmann::ordered_json::array();
        input.extra = nlohmann::ordered_json::object();
        // nlohmann parses and destroys without recursion, so the depth reaches the renderer.
        input.extra["deep"] = nlohmann::ordered_json::parse(text);
        lathe::ChatTemplate tmpl("{{ deep }}");
        QVERIFY_THROWS_EXCEPTION(lathe::Error, tmpl.render(input));
    }
};

QTEST_GUILESS_MAIN(TestJinjaHostile)
#include "tst_jinja_hostile.moc"
