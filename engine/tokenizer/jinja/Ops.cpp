// Ops: arithmetic, membership, lookup, slicing and iteration with Python's semantics.
// Integers are 64-bit here (Python's are unbounded), so overflow is an Error rather
// than a silently wrong number.
#include "tokenizer/jinja/Ops.h"

#include "tokenizer/jinja/Utf8.h"

#include "core/Error.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace lathe::jinja {

std::string pyTypeName(const Value &v)
{
    switch (v.kind()) {
    case Value::Kind::Undefined: return "Undefined";
    case Value::Kind::None: return "NoneType";
    case Value::Kind::Bool: return "bool";
    case Value::Kind::Int: return "int";
    case Value::Kind::Float: return "float";
    case Value::Kind::String: return "str";
    case Value::Kind::List: return "list";
    case Value::Kind::Tuple: return "tuple";
    case Value::Kind::Dict: return "dict";
    case Value::Kind::Namespace: return "Namespace";
    case Value::Kind::Function: return "function";
    }
    return "object";
}

void requireDefined(const Value &v)
{
    if (v.isUndefined())
        fail(v.str().empty() ? std::string("value is undefined") : v.str());
}

namespace {

[[noreturn]] void unsupported(const std::string &op, const Value &a, const Value &b)
{
    fail("unsupported operand type(s) for " + op + ": '" + pyTypeName(a) + "' and '" + pyTypeName(b) + "'");
}

// Call as checked(__builtin_xxx_overflow(a, b, &r)), then use r.
void checked(bool overflow)
{
    if (overflow)
        fail("integer overflow (values beyond 64 bits are not supported)");
}

Value repeat(const Value &seq, int64_t n, size_t maxBytes)
{
    if (n <= 0)
        return seq.isString() ? Value(std::string()) : seq.isTuple() ? Value::tuple({}) : Value::list({});
    size_t unit = seq.isString() ? seq.str().size() : seq.items().size() * sizeof(Value);
    if (unit != 0 && uint64_t(n) > maxBytes / unit)
        fail("repetition result exceeds the size limit");
    if (seq.isString()) {
        std::string out;
        out.reserve(seq.str().size() * size_t(n));
        for (int64_t i = 0; i < n; ++i)
            out += seq.str();
        return Value(std::move(out));
    }
    ValueList out;
    for (int64_t i = 0; i < n; ++i)
        out.insert(out.end(), seq.items().begin(), seq.items().end());
    return seq.isTuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

// Python's "fmt % args" for the conversions templates use: %s %r %d %i %f %% with
// an optional precision (%.2f). Other conversions are an Error, never wrong text.
std::string printfFormat(const std::string &fmt, const Value &args, size_t maxBytes)
{
    ValueList list = args.isTuple() ? args.items() : ValueList{args};
    size_t next = 0;
    std::string out;
    for (size_t i = 0; i < fmt.size(); ++i) {
        if (fmt[i] != '%') {
            out += fmt[i];
            continue;
        }
        if (++i >= fmt.size())
            fail("incomplete format");
        int precision = -1;
        if (fmt[i] == '.') {
            precision = 0;
            while (++i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9')
                precision = std::min(precision * 10 + (fmt[i] - '0'), 100);
            if (i >= fmt.size())
                fail("incomplete format");
        }
        char c = fmt[i];
        if (c == '%') {
            out += '%';
            continue;
        }
        if (next >= list.size())
            fail("not enough arguments for format string");
        const Value &v = list[next++];
        if (c == 's') {
            out += toPyStr(v);
        } else if (c == 'r') {
            out += toPyRepr(v);
        } else if ((c == 'd' || c == 'i') && v.isNumber()) {
            out += std::to_string(v.isFloat() ? int64_t(std::trunc(v.asDouble())) : v.asInt());
        } else if (c == 'f' && v.isNumber()) {
            char buf[512];
            std::snprintf(buf, sizeof buf, "%.*f", precision < 0 ? 6 : precision, v.asDouble());
            out += buf;
        } else {
            fail(std::string("unsupported format conversion '%") + c + "' for " + pyTypeName(v));
        }
        if (out.size() > maxBytes)
            fail("formatted string exceeds the size limit");
    }
    if (next < list.size())
        fail("not all arguments converted during string formatting");
    return out;
}

double floorMod(double a, double b)
{
    double m = std::fmod(a, b);
    if (m != 0 && ((m < 0) != (b < 0)))
        m += b;
    return m;
}

} // namespace

Value binaryOp(const std::string &op, const Value &a, const Value &b, size_t maxBytes)
{
    requireDefined(a);
    requireDefined(b);
    const bool nums = a.isNumber() && b.isNumber();
    const bool ints = nums && !a.isFloat() && !b.isFloat();
    int64_t r = 0;
    if (op == "+") {
        if (ints) {
            checked(__builtin_add_overflow(a.asInt(), b.asInt(), &r));
            return Value(r);
        }
        if (nums)
            return Value(a.asDouble() + b.asDouble());
        if (a.isString() && b.isString()) {
            if (a.str().size() + b.str().size() > maxBytes)
                fail("string result exceeds the size limit");
            return Value(a.str() + b.str());
        }
        if (a.isSequence() && a.kind() == b.kind()) {
            if ((a.items().size() + b.items().size()) * sizeof(Value) > maxBytes)
                fail("list result exceeds the size limit");
            ValueList out = a.items();
            out.insert(out.end(), b.items().begin(), b.items().end());
            return a.isTuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
        }
        if (a.isString())
            fail("can only concatenate str (not \"" + pyTypeName(b) + "\") to str");
        if (a.isSequence())
            fail("can only concatenate " + pyTypeName(a) + " (not \"" + pyTypeName(b) + "\") to " + pyTypeName(a));
        unsupported("+", a, b);
    }
    if (op == "-") {
        if (ints) {
            checked(__builtin_sub_overflow(a.asInt(), b.asInt(), &r));
            return Value(r);
        }
        if (nums)
            return Value(a.asDouble() - b.asDouble());
        unsupported("-", a, b);
    }
    if (op == "*") {
        if (ints) {
            checked(__builtin_mul_overflow(a.asInt(), b.asInt(), &r));
            return Value(r);
        }
        if (nums)
            return Value(a.asDouble() * b.asDouble());
        if ((a.isString() || a.isSequence()) && b.isNumber() && !b.isFloat())
            return repeat(a, b.asInt(), maxBytes);
        if ((b.isString() || b.isSequence()) && a.isNumber() && !a.isFloat())
            return repeat(b, a.asInt(), maxBytes);
        fail("can't multiply sequence by non-int of type '" + pyTypeName(b) + "'");
    }
    if (op == "/") {
        if (!nums)
            unsupported("/", a, b);
        if (b.asDouble() == 0)
            fail("division by zero");
        return Value(a.asDouble() / b.asDouble());
    }
    if (op == "//" || op == "%") {
        if (a.isString() && op == "%")
            return Value(printfFormat(a.str(), b, maxBytes));
        if (!nums)
            unsupported(op, a, b);
        if (b.asDouble() == 0)
            fail(op == "//" ? "integer division or modulo by zero" : "modulo by zero");
        if (ints) {
            int64_t x = a.asInt(), y = b.asInt();
            if (x == INT64_MIN && y == -1)
                fail("integer overflow (values beyond 64 bits are not supported)");
            int64_t q = x / y, m = x % y;
            if (m != 0 && ((m < 0) != (y < 0))) {
                --q;
                m += y;
            }
            return op == "//" ? Value(q) : Value(m);
        }
        double x = a.asDouble(), y = b.asDouble();
        return op == "//" ? Value(std::floor(x / y)) : Value(floorMod(x, y));
    }
    if (op == "**") {
        if (!nums)
            unsupported("** or pow()", a, b);
        if (ints && b.asInt() >= 0) {
            int64_t base = a.asInt(), result = 1;
            for (int64_t e = b.asInt(); e > 0; --e) {
                if (base == 0 || base == 1 || result == 0)
                    break;
                if (base == -1) {
                    result = (e % 2) ? -result : result;
                    break;
                }
                checked(__builtin_mul_overflow(result, base, &result));
            }
            return Value(result);
        }
        return Value(std::pow(a.asDouble(), b.asDouble()));
    }
    fail("unsupported operator '" + op + "'");
}

Value unaryMinus(const Value &v)
{
    requireDefined(v);
    if (v.isFloat())
        return Value(-v.asDouble());
    if (v.isNumber()) {
        if (v.asInt() == INT64_MIN)
            fail("integer overflow (values beyond 64 bits are not supported)");
        return Value(-v.asInt());
    }
    fail("bad operand type for unary -: '" + pyTypeName(v) + "'");
}

bool contains(const Value &container, const Value &item)
{
    switch (container.kind()) {
    case Value::Kind::Undefined: return false; // Undefined iterates as empty
    case Value::Kind::String:
        if (!item.isString())
            fail("'in <string>' requires string as left operand, not " + pyTypeName(item));
        return container.str().find(item.str()) != std::string::npos;
    case Value::Kind::List:
    case Value::Kind::Tuple:
        for (const auto &v : container.items())
            if (valuesEqual(v, item))
                return true;
        return false;
    case Value::Kind::Dict: return container.dictRef().find(item) != nullptr;
    default: fail("argument of type '" + pyTypeName(container) + "' is not iterable");
    }
}

static Value noAttribute(const Value &obj, const std::string &name)
{
    std::string hint = "'";
    hint += obj.typeName();
    hint += "' has no attribute '";
    hint += name;
    hint += '\'';
    return Value::undefined(std::move(hint));
}

Value getAttr(const Value &obj, const std::string &name)
{
    requireDefined(obj);
    if (obj.isNamespace()) {
        if (const Value *v = obj.dictRef().find(Value(name)))
            return *v;
    } else {
        Value m = boundMethod(obj, name);
        if (!m.isUndefined())
            return m;
        if (obj.isDict())
            if (const Value *v = obj.dictRef().find(Value(name)))
                return *v;
    }
    return noAttribute(obj, name);
}

Value getItem(const Value &obj, const Value &key)
{
    requireDefined(obj);
    if (obj.isDict()) {
        if (const Value *v = obj.dictRef().find(key))
            return *v;
    } else if ((obj.isSequence() || obj.isString()) && key.isNumber() && !key.isFloat()) {
        std::u32string chars;
        int64_t n = 0;
        if (obj.isString()) {
            chars = utf8::decode(obj.str());
            n = int64_t(chars.size());
        } else {
            n = int64_t(obj.items().size());
        }
        int64_t i = key.asInt() < 0 ? key.asInt() + n : key.asInt();
        if (i >= 0 && i < n) {
            if (obj.isString())
                return Value(utf8::encode(chars.substr(size_t(i), 1)));
            return obj.items()[size_t(i)];
        }
    }
    if (key.isString()) {
        Value attr = getAttr(obj, key.str());
        if (!attr.isUndefined())
            return attr;
        return noAttribute(obj, key.str());
    }
    return Value::undefined(obj.typeName() + " has no element " + toPyRepr(key));
}

Value sliceOf(const Value &obj, const Value &start, const Value &stop, const Value &step)
{
    requireDefined(obj);
    auto bound = [](const Value &v, const char *what) -> std::pair<bool, int64_t> {
        if (v.isNone() || v.isUndefined())
            return {false, 0};
        if (!v.isNumber() || v.isFloat())
            fail(std::string("slice ") + what + " must be an integer or None");
        return {true, v.asInt()};
    };
    const auto stepBound = bound(step, "step");
    const int64_t st = stepBound.first ? stepBound.second : 1; // a plain variable: lambdas below capture it
    if (st == 0)
        fail("slice step cannot be zero");
    if (!obj.isString() && !obj.isSequence())
        return Value::undefined(obj.typeName() + " has no element slice");
    std::u32string chars;
    int64_t n = 0;
    if (obj.isString()) {
        chars = utf8::decode(obj.str());
        n = int64_t(chars.size());
    } else {
        n = int64_t(obj.items().size());
    }
    auto clamp = [&](std::pair<bool, int64_t> b, int64_t dflt) {
        if (!b.first)
            return dflt;
        int64_t i = b.second < 0 ? b.second + n : b.second;
        if (st > 0)
            return std::min(std::max<int64_t>(i, 0), n);
        return std::min(std::max<int64_t>(i, -1), n - 1);
    };
    int64_t lo = clamp(bound(start, "start"), st > 0 ? 0 : n - 1);
    int64_t hi = clamp(bound(stop, "stop"), st > 0 ? n : -1);
    std::u32string outChars;
    ValueList outItems;
    for (int64_t i = lo; st > 0 ? i < hi : i > hi; i += st) {
        if (obj.isString())
            outChars += chars[size_t(i)];
        else
            outItems.push_back(obj.items()[size_t(i)]);
    }
    if (obj.isString())
        return Value(utf8::encode(outChars));
    return obj.isTuple() ? Value::tuple(std::move(outItems)) : Value::list(std::move(outItems));
}

ValueList iterate(const Value &v)
{
    switch (v.kind()) {
    case Value::Kind::Undefined: return {};
    case Value::Kind::List:
    case Value::Kind::Tuple: return v.items();
    case Value::Kind::Dict: {
        ValueList keys;
        for (const auto &e : v.dictRef().entries)
            keys.push_back(e.first);
        return keys;
    }
    case Value::Kind::String: {
        // One Value per character is ~100 bytes each; no real template iterates more.
        if (v.str().size() > (size_t(1) << 20))
            fail("iterating a string longer than 1 MiB character by character is not supported");
        ValueList out;
        for (char32_t c : utf8::decode(v.str())) {
            std::string s;
            utf8::append(s, c);
            out.emplace_back(std::move(s));
        }
        return out;
    }
    default: fail("'" + pyTypeName(v) + "' object is not iterable");
    }
}

} // namespace lathe::jinja
