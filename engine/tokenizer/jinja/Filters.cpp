// Filters: Jinja2's built-in filters on scalars and strings (trim, tojson, default,
// int, round, indent, ...); the sequence filters live in FiltersSequence.cpp. tojson
// is Hugging Face's: json.dumps(ensure_ascii=False) with indent, separators, sort_keys.
#include "tokenizer/jinja/Filters.h"
#include "tokenizer/jinja/Globals.h"

#include "tokenizer/jinja/Interpreter.h"
#include "tokenizer/jinja/Ops.h"
#include "tokenizer/jinja/PyString.h"
#include "tokenizer/jinja/Utf8.h"

#include "core/Error.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace lathe::jinja {

const Value *filterArg(const CallArgs &a, size_t pos, const std::string &name)
{
    return a.get(pos, name);
}

namespace {

std::string asciiEscape(const std::string &json)
{
    std::string out;
    char buf[16];
    for (char32_t c : utf8::decode(json)) {
        if (c < 0x80) {
            out += char(c);
            continue;
        }
        auto unit = [&](unsigned u) {
            std::snprintf(buf, sizeof buf, "\\u%04x", u);
            out += buf;
        };
        if (c >= 0x10000) {
            c -= 0x10000;
            unit(0xd800 + unsigned(c >> 10));
            unit(0xdc00 + unsigned(c & 0x3ff));
        } else {
            unit(unsigned(c));
        }
    }
    return out;
}

Value tojson(const Value &v, const CallArgs &a)
{
    // Hugging Face's signature: tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
    JsonStyle style;
    const Value *ascii = filterArg(a, 0, "ensure_ascii");
    const Value *indent = filterArg(a, 1, "indent");
    const Value *seps = filterArg(a, 2, "separators");
    const Value *sortKeys = filterArg(a, 3, "sort_keys");
    std::string indentText;
    if (indent && !indent->isNone()) {
        if (indent->isString()) {
            fail("tojson: a string indent is not supported");
        }
        if (!indent->isNumber() || indent->isFloat())
            fail("tojson: indent must be an integer");
        style.indent = int(std::max<int64_t>(0, std::min<int64_t>(indent->asInt(), 64)));
        style.itemSep.assign(1, ','); // Python drops the space after ',' once indent is set
    }
    if (seps && !seps->isNone()) {
        if (!seps->isSequence() || seps->items().size() != 2 || !seps->items()[0].isString()
            || !seps->items()[1].isString())
            fail("tojson: separators must be a pair of strings");
        style.itemSep = seps->items()[0].str();
        style.keySep = seps->items()[1].str();
    }
    style.sortKeys = sortKeys && sortKeys->truthy();
    if (v.isUndefined())
        fail("Object of type Undefined is not JSON serializable");
    std::string out = toJson(v, style);
    if (ascii && ascii->truthy())
        out = asciiEscape(out);
    return Value(std::move(out));
}

Value toInt(const Value &v, const CallArgs &a)
{
    const Value *dflt = filterArg(a, 0, "default");
    Value fallback = dflt ? *dflt : Value(0);
    if (v.isBool() || v.kind() == Value::Kind::Int)
        return Value(v.asInt());
    if (v.isFloat()) {
        double d = std::trunc(v.asDouble());
        if (!std::isfinite(d) || std::fabs(d) > 9.2e18)
            return fallback;
        return Value(int64_t(d));
    }
    if (v.isString()) {
        std::string s = pystr::strip(v.str(), std::nullopt, true, true);
        std::string digits;
        for (char c : s)
            if (c != '_')
                digits += c;
        if (!digits.empty()) {
            errno = 0;
            char *end = nullptr;
            long long r = std::strtoll(digits.c_str(), &end, 10);
            if (end && *end == '\0' && errno == 0)
                return Value(int64_t(r));
            double d = std::strtod(digits.c_str(), &end); // Jinja falls back to int(float(s))
            if (end && *end == '\0' && std::isfinite(d) && std::fabs(d) < 9.2e18)
                return Value(int64_t(std::trunc(d)));
        }
    }
    return fallback;
}

Value toFloat(const Value &v, const CallArgs &a)
{
    const Value *dflt = filterArg(a, 0, "default");
    Value fallback = dflt ? *dflt : Value(0.0);
    if (v.isNumber())
        return Value(v.asDouble());
    if (v.isString()) {
        std::string s = pystr::strip(v.str(), std::nullopt, true, true);
        char *end = nullptr;
        double d = std::strtod(s.c_str(), &end);
        if (!s.empty() && end && *end == '\0')
            return Value(d);
    }
    return fallback;
}

Value roundFilter(const Value &v, const CallArgs &a)
{
    requireDefined(v);
    if (!v.isNumber())
        fail("round: '" + pyTypeName(v) + "' is not a number");
    const Value *p = filterArg(a, 0, "precision");
    const Value *m = filterArg(a, 1, "method");
    int64_t precision = p ? p->asInt() : 0;
    std::string method = m && m->isString() ? m->str() : "common";
    double scale = std::pow(10.0, double(precision));
    double x = v.asDouble() * scale;
    double r;
    if (method == "common")
        r = std::nearbyint(x); // Python's round(): ties to even
    else if (method == "ceil")
        r = std::ceil(x);
    else if (method == "floor")
        r = std::floor(x);
    else
        fail("round: method must be common, ceil or floor");
    return Value(r / scale);
}

Value indent(const Value &v, const CallArgs &a)
{
    const Value *w = filterArg(a, 0, "width");
    const Value *first = filterArg(a, 1, "first");
    const Value *blank = filterArg(a, 2, "blank");
    std::string pad = !w ? std::string(4, ' ') : w->isString() ? w->str() : std::string(size_t(std::max<int64_t>(0, std::min<int64_t>(w->asInt(), 1024))), ' ');
    std::string s = toPyStr(v) + "\n"; // Jinja appends a newline so splitlines() sees the last line
    auto lines = pystr::splitlines(s, false);
    std::string out;
    if (blank && blank->truthy()) {
        for (size_t i = 0; i < lines.size(); ++i)
            out += (i ? "\n" + pad : std::string()) + lines[i];
    } else {
        out = lines.empty() ? std::string() : lines[0];
        for (size_t i = 1; i < lines.size(); ++i) {
            out += '\n';
            if (!lines[i].empty())
                out += pad;
            out += lines[i];
        }
    }
    if (first && first->truthy())
        out = pad + out;
    return Value(std::move(out));
}

std::string htmlEscape(const std::string &s)
{
    std::string out;
    for (char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&#34;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

// Jinja's title filter capitalizes after spaces, '-', and opening brackets.
std::string jinjaTitle(const std::string &s)
{
    std::u32string u = utf8::decode(s);
    bool start = true;
    for (auto &c : u) {
        bool sep = utf8::isSpace(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<';
        if (sep) {
            start = true;
            continue;
        }
        c = start ? utf8::toUpper(c) : utf8::toLower(c);
        start = false;
    }
    return utf8::encode(u);
}

} // namespace

Value applyFilter(Interpreter &interp, const std::string &name, const Value &v, const CallArgs &a)
{
    if (auto r = applySequenceFilter(interp, name, v, a))
        return *r;
    if (name == "default" || name == "d") {
        const Value *dflt = filterArg(a, 0, "default_value");
        const Value *boolean = filterArg(a, 1, "boolean");
        bool useDefault = v.isUndefined() || (boolean && boolean->truthy() && !v.truthy());
        return useDefault ? (dflt ? *dflt : Value(std::string())) : v;
    }
    if (name == "tojson")
        return tojson(v, a);
    if (name == "string")
        return Value(toPyStr(v));
    if (name == "safe")
        return v; // autoescape is off, so Markup and str render alike
    if (name == "e" || name == "escape" || name == "forceescape")
        return Value(htmlEscape(toPyStr(v)));
    if (name == "int")
        return toInt(v, a);
    if (name == "float")
        return toFloat(v, a);
    if (name == "abs") {
        requireDefined(v);
        if (v.isFloat())
            return Value(std::fabs(v.asDouble()));
        if (v.isNumber())
            return v.asInt() < 0 ? unaryMinus(v) : Value(v.asInt());
        fail("bad operand type for abs(): '" + pyTypeName(v) + "'");
    }
    if (name == "round")
        return roundFilter(v, a);
    if (name == "indent")
        return indent(v, a);
    if (name == "attr") {
        const Value *n = filterArg(a, 0, "name");
        if (!n || !n->isString())
            fail("attr filter needs an attribute name");
        return getAttr(v, n->str());
    }
    // String filters: Jinja converts the operand with str() first (Undefined -> "").
    std::string s = toPyStr(v);
    if (name == "trim") {
        const Value *chars = filterArg(a, 0, "chars");
        return Value(pystr::strip(s, chars && chars->isString() ? std::optional<std::string>(chars->str()) : std::nullopt,
                                  true, true));
    }
    if (name == "lower")
        return Value(pystr::lower(s));
    if (name == "upper")
        return Value(pystr::upper(s));
    if (name == "capitalize")
        return Value(pystr::capitalize(s));
    if (name == "title")
        return Value(jinjaTitle(s));
    if (name == "replace") {
        const Value *from = filterArg(a, 0, "old");
        const Value *to = filterArg(a, 1, "new");
        const Value *count = filterArg(a, 2, "count");
        if (!from || !to)
            fail("replace filter needs old and new");
        std::string r = pystr::replace(s, toPyStr(*from), toPyStr(*to),
                                       count && !count->isNone() ? count->asInt() : -1, 1u << 26);
        interp.checkSize(r.size());
        return Value(std::move(r));
    }
    if (name == "center") {
        const Value *w = filterArg(a, 0, "width");
        int64_t width = w ? std::min<int64_t>(w->asInt(), 1 << 20) : 80;
        int64_t len = int64_t(utf8::length(s));
        if (width <= len)
            return Value(s);
        int64_t total = width - len, left = total / 2 + (total & width & 1);
        return Value(std::string(size_t(left), ' ') + s + std::string(size_t(total - left), ' '));
    }
    if (name == "wordcount") {
        int64_t n = 0;
        bool in = false;
        for (char32_t c : utf8::decode(s)) {
            bool word = utf8::isAlpha(c) || utf8::isDigit(c) || c == '_';
            n += word && !in;
            in = word;
        }
        return Value(n);
    }
    fail("unsupported filter '" + name + "'");
}

} // namespace lathe::jinja
