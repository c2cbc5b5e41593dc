// ValueFormat: Python's str(), repr() and json.dumps(ensure_ascii=False) of a Value,
// byte for byte, because chat templates print values and their output is tokenized.
#include "tokenizer/jinja/Utf8.h"
#include "tokenizer/jinja/Value.h"

#include "core/Error.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace lathe::jinja {

namespace {

// Python's str.isprintable() for one code point, over the categories that matter:
// controls, format characters, separators other than the space, surrogates.
bool pyPrintable(char32_t c)
{
    if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0xa0) || c == 0xad)
        return false;
    if (c == 0x1680 || (c >= 0x2000 && c <= 0x200f) || (c >= 0x2028 && c <= 0x202f)
        || (c >= 0x205f && c <= 0x2064) || c == 0x3000 || c == 0xfeff || (c >= 0xd800 && c <= 0xdfff))
        return false;
    return true;
}

void appendHex(std::string &out, char32_t c, int digits)
{
    char buf[16];
    std::snprintf(buf, sizeof buf, "%0*x", digits, unsigned(c));
    out += buf;
}

std::string reprString(const std::string &s)
{
    bool hasSingle = s.find('\'') != std::string::npos;
    bool hasDouble = s.find('"') != std::string::npos;
    char quote = (hasSingle && !hasDouble) ? '"' : '\'';
    std::string out(1, quote);
    for (char32_t c : utf8::decode(s)) {
        if (c == char32_t(quote) || c == '\\') {
            out += '\\';
            out += char(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (!pyPrintable(c)) {
            if (c < 0x100) {
                out += "\\x";
                appendHex(out, c, 2);
            } else if (c < 0x10000) {
                out += "\\u";
                appendHex(out, c, 4);
            } else {
                out += "\\U";
                appendHex(out, c, 8);
            }
        } else {
            utf8::append(out, c);
        }
    }
    out += quote;
    return out;
}

std::string jsonString(const std::string &s)
{
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (c < 0x20) {
                out += "\\u";
                appendHex(out, c, 4);
            } else {
                out += char(c); // ensure_ascii=False: UTF-8 passes through
            }
        }
    }
    return out + "\"";
}

std::string jsonFloat(double d)
{
    if (std::isnan(d))
        return "NaN";
    if (std::isinf(d))
        return d > 0 ? "Infinity" : "-Infinity";
    return formatFloat(d);
}

void dumpJson(std::string &out, const Value &v, const JsonStyle &style, int depth)
{
    if (depth > 200)
        fail("tojson: nesting deeper than 200 levels");
    auto newline = [&](int level) {
        out += '\n';
        out.append(size_t(style.indent) * size_t(level), ' ');
    };
    // With an indent Python drops the space after ',' unless separators were given.
    switch (v.kind()) {
    case Value::Kind::None: out += "null"; return;
    case Value::Kind::Bool: out += v.asBool() ? "true" : "false"; return;
    case Value::Kind::Int: out += std::to_string(v.asInt()); return;
    case Value::Kind::Float: out += jsonFloat(v.asDouble()); return;
    case Value::Kind::String: out += jsonString(v.str()); return;
    case Value::Kind::List:
    case Value::Kind::Tuple: {
        const auto &items = v.items();
        if (items.empty()) {
            out += "[]";
            return;
        }
        out += '[';
        for (size_t i = 0; i < items.size(); ++i) {
            if (i)
                out += style.itemSep;
            if (style.indent >= 0)
                newline(depth + 1);
            dumpJson(out, items[i], style, depth + 1);
        }
        if (style.indent >= 0)
            newline(depth);
        out += ']';
        return;
    }
    case Value::Kind::Dict: {
        std::vector<const std::pair<Value, Value> *> entries;
        for (const auto &e : v.dictRef().entries)
            entries.push_back(&e);
        if (entries.empty()) {
            out += "{}";
            return;
        }
        if (style.sortKeys)
            std::stable_sort(entries.begin(), entries.end(),
                             [](auto *a, auto *b) { return compareValues(a->first, b->first) < 0; });
        out += '{';
        bool first = true;
        for (const auto *e : entries) {
            if (!first)
                out += style.itemSep;
            first = false;
            if (style.indent >= 0)
                newline(depth + 1);
            const Value &k = e->first;
            if (k.isString())
                out += jsonString(k.str());
            else if (k.isBool() || k.isNone() || k.isInt() || k.isFloat())
                out += '"' + (k.isNone() ? std::string("null") : k.isBool() ? std::string(k.asBool() ? "true" : "false") : k.isInt() ? std::to_string(k.asInt()) : jsonFloat(k.asDouble())) + '"';
            else
                fail("tojson: keys must be str, int, float, bool or None, not " + k.typeName());
            out += style.keySep;
            dumpJson(out, e->second, style, depth + 1);
        }
        if (style.indent >= 0)
            newline(depth);
        out += '}';
        return;
    }
    default:
        fail("Object of type " + v.typeName() + " is not JSON serializable");
    }
}

} // namespace

std::string formatFloat(double d)
{
    if (std::isnan(d))
        return "nan";
    if (std::isinf(d))
        return d > 0 ? "inf" : "-inf";
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string sci(buf, res.ptr);
    bool negative = sci[0] == '-';
    if (negative)
        sci.erase(0, 1);
    size_t epos = sci.find('e');
    int exp = std::stoi(sci.substr(epos + 1));
    std::string digits;
    for (size_t i = 0; i < epos; ++i)
        if (sci[i] != '.')
            digits += sci[i];
    std::string out = negative ? "-" : "";
    if (exp >= -4 && exp < 16) { // Python's repr switches to exponents outside this range
        if (exp >= 0) {
            if (digits.size() <= size_t(exp) + 1) {
                out += digits + std::string(size_t(exp) + 1 - digits.size(), '0') + ".0";
            } else {
                out += digits.substr(0, size_t(exp) + 1) + "." + digits.substr(size_t(exp) + 1);
            }
        } else {
            out += "0.";
            out.append(size_t(-exp - 1), '0');
            out += digits;
        }
        return out;
    }
    out += digits.substr(0, 1);
    if (digits.size() > 1) {
        out += '.';
        out += digits.substr(1);
    }
    char ebuf[16];
    std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    return out + ebuf;
}

std::string toPyStr(const Value &v)
{
    switch (v.kind()) {
    case Value::Kind::Undefined: return "";
    case Value::Kind::String: return v.str();
    default: return toPyRepr(v);
    }
}

std::string toPyRepr(const Value &v)
{
    switch (v.kind()) {
    case Value::Kind::Undefined: return "";
    case Value::Kind::None: return "None";
    case Value::Kind::Bool: return v.asBool() ? "True" : "False";
    case Value::Kind::Int: return std::to_string(v.asInt());
    case Value::Kind::Float: return formatFloat(v.asDouble());
    case Value::Kind::String: return reprString(v.str());
    case Value::Kind::List:
    case Value::Kind::Tuple: {
        bool tuple = v.kind() == Value::Kind::Tuple;
        std::string out = tuple ? "(" : "[";
        const auto &items = v.items();
        for (size_t i = 0; i < items.size(); ++i) {
            if (i)
                out += ", ";
            out += toPyRepr(items[i]);
        }
        if (tuple && items.size() == 1)
            out += ",";
        return out + (tuple ? ")" : "]");
    }
    case Value::Kind::Dict:
    case Value::Kind::Namespace: {
        std::string out = v.isNamespace() ? "<Namespace {" : "{";
        bool first = true;
        for (const auto &[k, val] : v.dictRef().entries) {
            if (!first)
                out += ", ";
            first = false;
            out += toPyRepr(k) + ": " + toPyRepr(val);
        }
        return out + (v.isNamespace() ? "}>" : "}");
    }
    case Value::Kind::Function: return "<function " + v.functionPtr()->name + ">";
    }
    return "";
}

std::string toJson(const Value &v, const JsonStyle &style)
{
    std::string out;
    dumpJson(out, v, style, 0);
    return out;
}

} // namespace lathe::jinja
