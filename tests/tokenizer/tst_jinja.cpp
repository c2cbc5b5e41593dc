// The Jinja interpreter against Python Jinja2 3.1 as Hugging Face configures it
// (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, HF's tojson
// and raise_exception). Every expected string below is what Python Jinja2 rendered for
// the template beside it, with messages = [user "hi", assistant "yo"]; "error" rows are
// templates Python refused, with Python's message, which ours must contain. Exact text,
// no tolerance: any byte of difference changes the tokenized prompt.
#include "tokenizer/jinja/Template.h"

#include "core/Error.h"

#include <QtTest>
#include <nlohmann/json.hpp>

using lathe::jinja::Template;
using lathe::jinja::Value;

namespace {

struct Row
{
    const char *source;
    const char *expected; // rendered text, or Python's error message
    bool error;
};

const Row kRows[] = {
    {"{% for m in messages %}{{ loop.previtem.role if loop.previtem is defined else '-' }}{{ loop.nextitem.role if loop.nextitem else '-' }} {% endfor %}",
     "-assistant user- ", false},
    {"{{ messages|tojson }} {{ messages[0]|tojson(indent=4) }} {{ messages|length }} {{ messages[0]|length }}",
     "[{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"yo\"}] {\n    \"role\": \"user\",\n    \"content\": \"hi\"\n} 2 2", false},
    {"{{ x|items|list }} {% for k, v in messages[0]|items %}{{ k }}={{ v }};{% endfor %} {% for k in messages[0] %}{{ k }}{% endfor %}",
     "[] role=user;content=hi; rolecontent", false},
    {"{{ x.y }}",
     "'x' is undefined", true},
    {"{{ x[0] }}",
     "'x' is undefined", true},
    {"{{ 'a' in x }} {{ x is none }} {{ x is not none }} {{ x == x }} {{ x != 1 }} {{ not x }}",
     "False False True True True True", false},
    {"{{ messages[5] }}|{{ messages[5] is defined }}",
     "|False", false},
    {"{{ messages[5].role }}",
     "list object has no element 5", true},
    {"{{ 'abc' < 'abd' }} {{ [1,2] < [1,3] }} {{ 'b' > 'a' }} {{ 2 >= 2.0 }}",
     "True True True True", false},
    {"{{ 1 < 'a' }}",
     "'<' not supported between instances of 'int' and 'str'", true},
    {"{{ none + 1 }}",
     "unsupported operand type(s) for +: 'NoneType' and 'int'", true},
    {"{{ [1,2] + (3,) }}",
     "can only concatenate list (not \"tuple\") to list", true},
    {"{{ 1 / 0 }}",
     "division by zero", true},
    {"{{ ns.x }}",
     "'ns' is undefined", true},
    {"{% set ns = namespace() %}{% set ns.items = [1] %}{{ ns.items }}",
     "[1]", false},
    {"{{ \"%s\" % 1 }}",
     "1", false},
    {"{{ messages[0].content.upper() }} {{ messages[0].content[0:1]|upper }}{{ messages[0].content[1:] }}",
     "HI Hi", false},
    {"{{ messages | selectattr('role', 'in', ['user']) | list | length }} {{ messages|rejectattr('content')|list }} {{ [none, 1, 0]|select|list }}",
     "1 [] [1]", false},
    {"{{ raise_exception('boom') }}",
     "boom", true},
    {"{% set content = messages[0]['content'] %}{% if '</think>' in content %}{{ content.split('</think>')[-1] }}{% else %}{{ content }}{% endif %}",
     "hi", false},
    {"{{ messages[0].get('content') }} {{ messages[0].get('missing', 'dflt') }} {{ messages[0]['missing'] is defined }}",
     "hi dflt False", false},
    {"{{ [1,2,3]|join }} {{ [1,2,3]|join('-') }} {{ messages|join(', ', attribute='role') }}",
     "123 1-2-3 user, assistant", false},
    {"{{ 'ab'|center(6) }}|{{ 'ab'|center(7) }}|",
     "  ab  |   ab  |", false},
    {"{{ true }} {{ True }} {{ none }} {{ None }} {{ [true, none] }}",
     "True True None None [True, None]", false},
    {"{{ 0.1 + 0.2 }} {{ 1e100 }} {{ 1.0e-5 }} {{ 123456789012345678.0 }} {{ 0.5 }} {{ -0.0 }} {{ 100.0 }} {{ 1e16 }} {{ 1.5e15 }}",
     "0.30000000000000004 1e+100 1e-05 1.2345678901234568e+17 0.5 -0.0 100.0 1e+16 1500000000000000.0", false},
    {"{% for i in range(3) %}{{ loop.index0 }}{% if loop.last %}!{% endif %}{% endfor %}{{ i }}",
     "012!", false},
    {"{% set x = [1,2,3] %}{{ x[1:] }}{{ x[:-1] }}{{ x[-2:] }}{{ x[::-1] }}{{ x[10] }}{{ x[-10] }}",
     "[2, 3][1, 2][2, 3][3, 2, 1]", false},
    {"{{ range(100001)|length }}",
     "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).", true},
    {"{{ {1: 'a', 'b': 2} }} {{ {1:'a'}[1] }} {{ {(1,2): 3} }}",
     "{1: 'a', 'b': 2} a {(1, 2): 3}", false},
    {"{{ 'abc'|replace('b', 'x', 1) }} {{ 'aaa'|replace('a', 'b', 2) }} {{ 'abc'|replace('', '-') }}",
     "axc bba -a-b-c-", false},
    {"{{ ' '.join(['a']) }} {{ 'a'.join('bcd') }}",
     "a bacad", false},
    {"{{ [1,2,3]|map('abs')|list }} {{ ['a','b']|map('upper')|list }} {{ [[1,2]]|map('first')|list }}",
     "[1, 2, 3] ['A', 'B'] [1]", false},
    {"{{ '\\u00a0x\\u3000'|trim }}| {{ 'x\\u00a0y'.split() }}",
     "x| ['x', 'y']", false},
    {"{{ tools is not defined }} {{ tools|length }} {% if tools %}t{% else %}nt{% endif %}",
     "True 0 nt", false},
    {"{{ 3 is odd }} {{ 3.0 is integer }} {{ '3' is number }} {{ [] is sequence }} {{ 'x' is mapping }} {{ none is iterable }} {{ 1 is sameas 1 }} {{ true is sameas true }} {{ 'x' is lower }}",
     "True False False True False False True True True", false},
    {"{{ 1.0 }} {{ 1e20 }} {{ 0.0001 }} {{ 1/3 }} {{ 10/2 }} {{ 7//2 }} {{ -7 % 3 }} {{ 2**-1 }} {{ 2**10 }} {{ -7 // 2 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }}",
     "1.0 1e+20 0.0001 0.3333333333333333 5.0 3 2 0.5 1024 -4 3.0 0.5", false},
    {"{{ {'a':[1,'x',none,true]} }} {{ ('a',) }} {{ 'it\\'s' }} {{ ['it\\'s', 'a\"b'] }} {{ [1.5, -0.0, 1e-7] }}",
     "{'a': [1, 'x', None, True]} ('a',) it's [\"it's\", 'a\"b'] [1.5, -0.0, 1e-07]", false},
    {"{{ 'a b  c'.split() }} {{ 'a,b'.split(',',1) }} {{ 'hello world'|title }} {{ 'x'.title() }} {{ ' a b '.rsplit(None, 1) }} {{ 'a,b,c'.rsplit(',', 1) }}",
     "['a', 'b', 'c'] ['a', 'b'] Hello World X [' a', 'b'] ['a,b', 'c']", false},
    {"{{ {'b':1,'a':'é'}|tojson(indent=2) }} {{ [1,[2,{}],[]]|tojson(indent=2) }} {{ {'b':1,'a':2}|tojson(sort_keys=true) }} {{ 'x\\n\"\\u0001'|tojson }} {{ {'a': 1.0}|tojson(separators=(',', ':')) }}",
     "{\n  \"b\": 1,\n  \"a\": \"é\"\n} [\n  1,\n  [\n    2,\n    {}\n  ],\n  []\n] {\"a\": 2, \"b\": 1} \"x\\n\\\"\\u0001\" {\"a\":1.0}", false},
    {"{% for a, b in [(1,2),(3,4)] %}{{ a }}{{ b }}{{ loop.index }}{{ loop.revindex }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.cycle('x','y') }}{% endfor %}",
     "1212TrueFalse2x3421FalseTrue2y", false},
    {"{% for x in [1,2,3,4] if x is odd %}{{ x }}{{ loop.index }}/{{ loop.length }} {% else %}none{% endfor %}{% for x in [] %}a{% else %}empty{% endfor %}",
     "11/2 32/2 empty", false},
    {"{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x > 5 %}{% break %}{% endif %}{{ x }}{% endfor %}",
     "01345", false},
    {"{% set ns = namespace(a=1, b=[]) %}{% for i in range(3) %}{% set ns.a = ns.a + i %}{% set ns.b = ns.b + [i] %}{% endfor %}{{ ns.a }} {{ ns.b }}",
     "4 [0, 1, 2]", false},
    {"{% macro m(a, b=2, c='x') %}[{{ a }}|{{ b }}|{{ c }}]{% endmacro %}{{ m(1) }}{{ m(1, 3) }}{{ m(1, c='y') }}",
     "[1|2|x][1|3|x][1|2|y]", false},
    {"{{ [3,1,2]|sort }} {{ ['b','A','a']|sort }} {{ ['b','A','a']|sort(case_sensitive=true) }} {{ [3,1,2]|sort(reverse=true) }} {{ ['A','a','b']|unique|list }}",
     "[1, 2, 3] ['A', 'a', 'b'] ['A', 'a', 'b'] [3, 2, 1] ['A', 'b']", false},
    {"{{ [{'n':'x','v':1},{'n':'y'}]|selectattr('v','defined')|map(attribute='n')|list }} {{ [1,2,3]|select('odd')|list }} {{ [1,2,3]|reject('odd')|list }} {{ [1,2,3]|map('string')|join(',') }}",
     "['x'] [1, 3] [2] 1,2,3", false},
    {"{{ 'abc'[1:] }} {{ 'abc'[::-1] }} {{ [1,2,3,4][1:3] }} {{ [1,2,3][-1] }} {{ 'héllo'[1] }} {{ 'héllo'|length }} {{ [1,2,3][::2] }} {{ [1,2,3][5:] }}",
     "bc cba [2, 3] 3 é 5 [1, 3] []", false},
    {"{{ '  x  '|trim }} {{ 'xxaxx'|trim('x') }} {{ 'ab'.strip('a') }} {{ '\\n\\nab\\n'.lstrip('\\n') }} {{ 'Hello'|lower }} {{ 'hello'|upper }} {{ 'hello wORLD'|capitalize }}",
     "x a b ab\n hello HELLO Hello world", false},
    {"{{ 'a' ~ 1 ~ none ~ true }} {{ 1 ~ 2 }} {{ x ~ 'y' }} {{ 'ab' * 3 }} {{ [1] * 3 }} {{ 3 * 'x' }}",
     "a1NoneTrue 12 y ababab [1, 1, 1] xxx", false},
    {"{{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ 'a' in 'abc' }} {{ 1 in [1,2] }} {{ 'k' in {'k':1} }} {{ 2 not in [1] }} {{ not 1 == 2 }} {{ none is none }} {{ 1 == 1.0 }} {{ true == 1 }}",
     "True False True True True True True True True True", false},
    {"{{ 1 if true }}|{{ 1 if false }}|{{ 1 if false else 2 }} {{ none or 'x' }} {{ 0 and 1 }} {{ [] or [1] }}",
     "1||2 x 0 [1]", false},
    {"{{ x|default('d') }} {{ ''|default('d') }} {{ ''|default('d', true) }} {{ none|default('d') }} {{ x|d('z') }}",
     "d  d None z", false},
    {"{{ {'a':1,'b':2}|items|list }} {{ {'a':1}.items()|list }} {{ {'a':1}.get('a') }} {{ {'a':1}.get('b') }} {{ {'a':1}.get('b', 5) }} {{ {'a':1}.keys()|list }} {{ {'a':1,'b':2}|dictsort(reverse=true) }}",
     "[('a', 1), ('b', 2)] [('a', 1)] 1 None 5 ['a'] [('b', 2), ('a', 1)]", false},
    {"{{ 'abc'|list }} {{ {'a':1}|list }} {{ [1,2]|first }} {{ [1,2]|last }} {{ 'x'|string }} {{ 3|string }} {{ '42'|int + 1 }} {{ '4.5'|float }} {{ 'x'|int }} {{ 3.7|int }} {{ -3|abs }} {{ 2.5|round }} {{ 3.14159|round(2) }} {{ 3.5|round }}",
     "['a', 'b', 'c'] ['a'] 1 2 x 3 43 4.5 0 3 3 2.0 3.14 4.0", false},
    {"{{ 'a\\nb\\nc'|indent(2) }}|{{ 'a\\n\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}",
     "a\n  b\n  c|  a\n\n  b|a\n  \n  b", false},
    {"{{ [1,2,3,4,5]|batch(2)|list }} {{ [1,2,3]|sum }} {{ [3,1,2]|min }} {{ [3,1,2]|max }} {{ 'a b c'|wordcount }} {{ [1,2]|reverse|list }} {{ '<a>'|e }}",
     "[[1, 2], [3, 4], [5]] 6 1 3 3 [2, 1] &lt;a&gt;", false},
    {"{{ 'abc'.startswith('a') }} {{ 'abc'.endswith(('x','c')) }} {{ 'abcb'.find('b') }} {{ 'abcb'.rfind('b') }} {{ 'abcb'.count('b') }} {{ 'a-b'.replace('-', '+') }} {{ ','.join(['a','b']) }} {{ 'a\\nb\\r\\nc'.splitlines() }} {{ '12'.isdigit() }}",
     "True True 1 3 2 a+b a,b ['a', 'b', 'c'] True", false},
    {"{{ 1 is number }} {{ true is number }} {{ true is integer }} {{ 1.0 is float }} {{ 'a' is string }} {{ x is iterable }} {{ x is sequence }} {{ {} is mapping }} {{ [] is iterable }} {{ 3 is divisibleby 3 }} {{ 4 is even }} {{ 1 is eq 1 }} {{ range is callable }} {{ 1 is in [1] }}",
     "True True False True True True True True True True True True True True", false},
    {"{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set t %}in {{ a }}{% endset %}[{{ t }}]{% set u | upper %}up{% endset %}{{ u }}{% filter upper %}abc{% endfilter %}",
     "12[in 1]UPABC", false},
    {"{{ \"a\" \"b\" }} {{ 'a\\tb\\x41\\u00e9' }} {{ 1_000 }} {{ 1.5e3 }} {{ [1,2,] }} {{ {'a':1,} }} {{ () }} {{ (1,) }}",
     "ab a\tbAé 1000 1500.0 [1, 2] {'a': 1} () (1,)", false},
    {"{{ messages[0].role }} {{ messages[0]['content'] }} {{ messages|length }} {{ messages[0].foo }}x {{ messages[0].foo is defined }}",
     "user hi 2 x False", false},
    {"{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(5) }}",
     "54321", false},
    {"{% macro outer() %}<{{ caller() }}>{% endmacro %}{% call outer() %}inner{% endcall %}",
     "<inner>", false},
    {"{{ range(3)|list }} {{ range(1, 10, 3)|list }} {{ range(5, 0, -2)|list }} {{ dict(a=1) }} {{ namespace(a=1).a }}",
     "[0, 1, 2] [1, 4, 7] [5, 3, 1] {'a': 1} 1", false},
    {"{{ 'x' if 1 else 'y' }}{{ -2 ** 2 }} {{ (-2) ** 2 }} {{ 2 + 3 * 4 }} {{ 10 - 2 - 3 }} {{ 2 ** 3 ** 2 }} {{ -1|abs }} {{ 1 + 2 ~ 3 }}",
     "unsupported operand type(s) for +: 'int' and 'str'", true},
    {"{{ [1, 'a', [2]]|string }} {{ {'a': none}|string }} {{ 'x\\'y\"z'|string }} {{ ['x\\'y\"z'] }} {{ ['\\n'] }} {{ [1e16, 1e15, 123456789.123] }}",
     "[1, 'a', [2]] {'a': None} x'y\"z ['x\\'y\"z'] ['\\n'] [1e+16, 1000000000000000.0, 123456789.123]", false},
    {"{{ 'Hello World'.lower().split() }} {{ messages|map(attribute='role')|join(', ') }} {{ messages|selectattr('role', 'equalto', 'user')|list|length }}",
     "['hello', 'world'] user, assistant 1", false},
    {"{%- set x = 1 -%}  {{ x }}  {%+ if true %} y {% endif +%}  z\n  {% if true %}\n  a\n  {% endif %}\n  {# comment #}\n  b {{- ' c ' -}} d\n{% raw %}{{ not rendered }}{% endraw %} {%- raw -%}  x  {%- endraw %}\n    {% raw %}\n    r\n    {% endraw %}\n\t{%- for m in messages %}\n\t  {{ m.role }}\n\t{% endfor %}\n{{ 'end' }}   \n",
     "1   y   z\n  a\n  b c d\n{{ not rendered }}x\n    r\n\t  user\n\t  assistant\nend   ", false},
    {"{% if true %}\r\nA\r\n{% endif %}\r\nB\n\n",
     "A\nB\n", false},
    {"  {% for i in [1,2] %}\n    {{ i }}\n  {% endfor %}\n{#- c -#}  \n x\n{% macro q() -%}\n  body\n{%- endmacro %}\n[{{ q() }}]\n",
     "    1\n    2\nx\n[body]", false},
    {"{{ \"x\" }}\n{% set a = 1 %}\n  {{ a }} {# c #}\n  {#- c2 #}\n{% if a %}yes{% else %}no{% endif %}\n\n",
     "x\n  1 yes", false},
};

std::unordered_map<std::string, Value> variables()
{
    auto messages = nlohmann::ordered_json::parse(
        R"([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}])");
    return {{"messages", Value::fromJson(messages)},
            {"add_generation_prompt", Value(true)},
            {"bos_token", Value("<s>")},
            {"eos_token", Value("</s>")}};
}

std::tm someDate()
{
    std::tm t{};
    t.tm_year = 2026 - 1900;
    t.tm_mon = 10;
    t.tm_mday = 22;
    time_t e = timegm(&t);
    gmtime_r(&e, &t);
    return t;
}

std::string render(const std::string &src)
{
    return Template(src).render(variables(), someDate());
}

} // namespace

class TestJinja : public QObject
{
    Q_OBJECT

private slots:
    void matchesPythonJinja2_data()
    {
        QTest::addColumn<int>("row");
        for (int i = 0; i < int(std::size(kRows)); ++i)
            QTest::newRow(QByteArray::number(i).constData()) << i;
    }

    void matchesPythonJinja2()
    {
        QFETCH(int, row);
        const Row &r = kRows[row];
        std::string got, error;
        try {
            got = render(r.source);
        } catch (const lathe::Error &e) {
            error = e.what();
        }
        if (r.error) {
            QVERIFY2(!error.empty(), ("expected an error, got text: " + got).c_str());
            QVERIFY2(error.find(r.expected) != std::string::npos,
                     ("error '" + error + "' lacks Python's message '" + r.expected + "'").c_str());
        } else {
            QVERIFY2(error.empty(), ("unexpected error: " + error).c_str());
            QCOMPARE(QString::fromStdString(got), QString::fromUtf8(r.expected));
        }
    }

    // strftime_now reports the injected date, not the clock.
    void strftimeNowUsesInjectedDate()
    {
        QCOMPARE(QString::fromStdString(render("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%A') }}")),
                 QStringLiteral("22 Nov 2026|Sunday"));
    }

    // Errors name the template line the failing construct is on.
    void errorsNameTheLine()
    {
        try {
            render("line one\n{% if true %}\n  {{ 'a' + 1 }}\n{% endif %}");
            QFAIL("expected an error");
        } catch (const lathe::Error &e) {
            QVERIFY2(std::string(e.what()).find("chat template line 3:") != std::string::npos, e.what());
        }
        try {
            render("a\n\n{{ x|wordwrap }}");
            QFAIL("expected an error");
        } catch (const lathe::Error &e) {
            QVERIFY2(std::string(e.what()) == "chat template line 3: unsupported filter 'wordwrap'", e.what());
        }
    }

    // Python semantics the table does not reach: repr quoting and escapes, float repr,
    // code point indexing of UTF-8 text, the sandbox refusing to mutate lists.
    void pythonFormatting()
    {
        QCOMPARE(QString::fromStdString(render("{{ ['a\\'b', \"c\\\"d\", 'e\\'f\"g', '\\x01\\u00a0é'] }}")),
                 QString::fromUtf8("[\"a'b\", 'c\"d', 'e\\'f\"g', '\\x01\\xa0é']"));
        QCOMPARE(QString::fromStdString(render("{{ [0.1, 1e22, 1e-5, 2.5e-4, 123.0, -1.5] }}")),
                 QStringLiteral("[0.1, 1e+22, 1e-05, 0.00025, 123.0, -1.5]"));
        QCOMPARE(QString::fromStdString(render("{{ '日本語'[1] }}{{ '日本語'[-1:] }}{{ '日本語'|length }}")),
                 QString::fromUtf8("本語3"));
        QVERIFY_THROWS_EXCEPTION(lathe::Error, render("{% set l = [] %}{{ l.append(1) }}"));
    }
};

QTEST_GUILESS_MAIN(TestJinja)
#include "tst_jinja.moc"
