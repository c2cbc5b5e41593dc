// Methods: the Python methods templates call on str, dict and list values
// (message.content.split('</think>'), tool.get('name'), ...). Mutating methods exist
// but raise, as Hugging Face's ImmutableSandboxedEnvironment makes them.
#include "tokenizer/jinja/Ops.h"
#include "tokenizer/jinja/PyString.h"
#include "tokenizer/jinja/Utf8.h"

#include "core/Error.h"

#include <algorithm>

namespace lathe::jinja {

namespace {

using Impl = std::function<Value(const CallArgs &)>;

Value makeMethod(const std::string &name, Impl impl)
{
    auto f = std::make_shared<Function>();
    f->name = name;
    f->call = std::move(impl);
    return Value::function(std::move(f));
}

const Value &arg(const CallArgs &a, size_t pos, const std::string &method)
{
    if (pos >= a.positional.size())
        fail(method + "() missing required argument " + std::to_string(pos + 1));
    return a.positional[pos];
}

const std::string &strArg(const CallArgs &a, size_t pos, const std::string &method)
{
    const Value &v = arg(a, pos, method);
    if (!v.isString())
        fail(method + "() argument must be str, not " + pyTypeName(v));
    return v.str();
}

std::optional<std::string> optStr(const CallArgs &a, size_t pos, const std::string &kw, const std::string &method)
{
    const Value *v = a.get(pos, kw);
    if (!v || v->isNone())
        return std::nullopt;
    if (!v->isString())
        fail(method + "() argument must be str or None, not " + pyTypeName(*v));
    return v->str();
}

long long optInt(const CallArgs &a, size_t pos, const std::string &kw, long long dflt)
{
    const Value *v = a.get(pos, kw);
    if (!v)
        return dflt;
    if (!v->isNumber() || v->isFloat())
        fail("'" + pyTypeName(*v) + "' object cannot be interpreted as an integer");
    return v->asInt();
}

Value strings(const std::vector<std::string> &parts)
{
    ValueList out;
    for (const auto &p : parts)
        out.emplace_back(p);
    return Value::list(std::move(out));
}

// startswith/endswith accept a str or a tuple of str.
bool affixMatch(const std::string &s, const Value &affix, bool start)
{
    auto one = [&](const Value &a) {
        if (!a.isString())
            fail(std::string(start ? "startswith" : "endswith") + " first arg must be str or a tuple of str");
        const std::string &p = a.str();
        if (p.size() > s.size())
            return false;
        return start ? s.compare(0, p.size(), p) == 0 : s.compare(s.size() - p.size(), p.size(), p) == 0;
    };
    if (affix.isTuple()) {
        for (const auto &a : affix.items())
            if (one(a))
                return true;
        return false;
    }
    return one(affix);
}

Value stringMethod(const std::string &s, const std::string &name)
{
    auto m = [&](Impl impl) { return makeMethod(name, std::move(impl)); };
    if (name == "startswith" || name == "endswith")
        return m([s, name](const CallArgs &a) {
            std::string sub = s;
            if (a.positional.size() > 1) // optional start/end bounds, in code points
                sub = sliceOf(Value(s), a.positional[1], a.positional.size() > 2 ? a.positional[2] : Value::none(),
                              Value::none())
                          .str();
            return Value(affixMatch(sub, arg(a, 0, name), name == "startswith"));
        });
    if (name == "strip" || name == "lstrip" || name == "rstrip")
        return m([s, name](const CallArgs &a) {
            return Value(pystr::strip(s, optStr(a, 0, "chars", name), name != "rstrip", name != "lstrip"));
        });
    if (name == "split" || name == "rsplit")
        return m([s, name](const CallArgs &a) {
            auto sep = optStr(a, 0, "sep", name);
            long long maxsplit = optInt(a, 1, "maxsplit", -1);
            return strings(name == "split" ? pystr::split(s, sep, maxsplit) : pystr::rsplit(s, sep, maxsplit));
        });
    if (name == "splitlines")
        return m([s](const CallArgs &a) {
            const Value *k = a.get(0, "keepends");
            return strings(pystr::splitlines(s, k && k->truthy()));
        });
    if (name == "upper")
        return m([s](const CallArgs &) { return Value(pystr::upper(s)); });
    if (name == "lower")
        return m([s](const CallArgs &) { return Value(pystr::lower(s)); });
    if (name == "title")
        return m([s](const CallArgs &) { return Value(pystr::title(s)); });
    if (name == "capitalize")
        return m([s](const CallArgs &) { return Value(pystr::capitalize(s)); });
    if (name == "replace")
        return m([s](const CallArgs &a) {
            return Value(pystr::replace(s, strArg(a, 0, "replace"), strArg(a, 1, "replace"), optInt(a, 2, "count", -1),
                                        size_t(1) << 26));
        });
    if (name == "find" || name == "rfind" || name == "index" || name == "rindex")
        return m([s, name](const CallArgs &a) {
            long long r = pystr::find(s, strArg(a, 0, name), name[0] == 'r');
            if (r < 0 && (name == "index" || name == "rindex"))
                fail("substring not found");
            return Value(int64_t(r));
        });
    if (name == "count")
        return m([s](const CallArgs &a) { return Value(int64_t(pystr::count(s, strArg(a, 0, "count")))); });
    if (name == "join")
        return m([s](const CallArgs &a) {
            std::string out;
            bool first = true;
            for (const auto &v : iterate(arg(a, 0, "join"))) {
                if (!v.isString())
                    fail("sequence item: expected str instance, " + pyTypeName(v) + " found");
                if (!first)
                    out += s;
                first = false;
                out += v.str();
            }
            return Value(std::move(out));
        });
    auto allOf = [&](bool (*pred)(char32_t)) {
        return m([s, pred](const CallArgs &) {
            std::u32string u = utf8::decode(s);
            return Value(!u.empty() && std::all_of(u.begin(), u.end(), pred));
        });
    };
    if (name == "isdigit" || name == "isnumeric" || name == "isdecimal")
        return allOf(utf8::isDigit);
    if (name == "isalpha")
        return allOf(utf8::isAlpha);
    if (name == "isspace")
        return allOf(utf8::isSpace);
    if (name == "isalnum")
        return allOf([](char32_t c) { return utf8::isAlpha(c) || utf8::isDigit(c); });
    if (name == "isupper" || name == "islower")
        return m([s, name](const CallArgs &) {
            bool cased = false;
            for (char32_t c : utf8::decode(s)) {
                bool up = utf8::toLower(c) != c, low = utf8::toUpper(c) != c;
                if ((name == "isupper" && low) || (name == "islower" && up))
                    return Value(false);
                cased = cased || up || low;
            }
            return Value(cased);
        });
    if (name == "format" || name == "format_map")
        return m([name](const CallArgs &) -> Value { fail("unsupported method 'str." + name + "'"); });
    return Value();
}

Value dictMethod(const Value &d, const std::string &name)
{
    auto m = [&](Impl impl) { return makeMethod(name, std::move(impl)); };
    if (name == "items")
        return m([d](const CallArgs &) {
            ValueList out;
            for (const auto &[k, v] : d.dictRef().entries)
                out.push_back(Value::tuple({k, v}));
            return Value::list(std::move(out));
        });
    if (name == "keys" || name == "values")
        return m([d, name](const CallArgs &) {
            ValueList out;
            for (const auto &[k, v] : d.dictRef().entries)
                out.push_back(name == "keys" ? k : v);
            return Value::list(std::move(out));
        });
    if (name == "get")
        return m([d](const CallArgs &a) {
            const Value *v = d.dictRef().find(arg(a, 0, "get"));
            if (v)
                return *v;
            return a.positional.size() > 1 ? a.positional[1] : Value::none();
        });
    if (name == "copy")
        return m([d](const CallArgs &) { return Value::dict(std::make_shared<Dict>(d.dictRef())); });
    return Value();
}

Value listMethod(const Value &l, const std::string &name)
{
    auto m = [&](Impl impl) { return makeMethod(name, std::move(impl)); };
    if (name == "index")
        return m([l](const CallArgs &a) {
            const auto &items = l.items();
            for (size_t i = 0; i < items.size(); ++i)
                if (valuesEqual(items[i], arg(a, 0, "index")))
                    return Value(int64_t(i));
            fail(toPyRepr(arg(a, 0, "index")) + " is not in list");
        });
    if (name == "count")
        return m([l](const CallArgs &a) {
            int64_t n = 0;
            for (const auto &v : l.items())
                n += valuesEqual(v, arg(a, 0, "count"));
            return Value(n);
        });
    if (name == "copy" && !l.isTuple())
        return m([l](const CallArgs &) { return Value::list(l.items()); });
    return Value();
}

bool isMutator(const Value &obj, const std::string &name)
{
    static const char *const listMut[] = {"append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse"};
    static const char *const dictMut[] = {"update", "pop", "popitem", "setdefault", "clear"};
    if (obj.kind() == Value::Kind::List)
        return std::find(std::begin(listMut), std::end(listMut), name) != std::end(listMut);
    if (obj.isDict())
        return std::find(std::begin(dictMut), std::end(dictMut), name) != std::end(dictMut);
    return false;
}

} // namespace

Value boundMethod(const Value &obj, const std::string &name)
{
    if (isMutator(obj, name)) {
        std::string msg = "access to attribute '" + name + "' of '" + pyTypeName(obj) + "' object is unsafe.";
        return makeMethod(name, [msg](const CallArgs &) -> Value { fail(msg); });
    }
    if (obj.isString())
        return stringMethod(obj.str(), name);
    if (obj.isDict())
        return dictMethod(obj, name);
    if (obj.isSequence())
        return listMethod(obj, name);
    return Value();
}

} // namespace lathe::jinja
