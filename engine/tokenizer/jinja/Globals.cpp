// Globals: range (capped at the sandbox's 100000 items), namespace(), dict(),
// raise_exception(msg) and strftime_now(fmt) as Hugging Face registers them, plus
// Jinja's cycler and joiner.
#include "tokenizer/jinja/Globals.h"

#include "tokenizer/jinja/Interpreter.h"
#include "tokenizer/jinja/Ops.h"

#include "core/Error.h"

#include <ctime>

namespace lathe::jinja {

namespace {

constexpr int64_t kMaxRange = 100000; // Jinja2's sandbox MAX_RANGE

Value fn(const std::string &name, std::function<Value(const CallArgs &)> impl)
{
    auto f = std::make_shared<Function>();
    f->name = name;
    f->call = std::move(impl);
    return Value::function(std::move(f));
}

int64_t intArg(const Value &v, const char *what)
{
    if (!v.isNumber() || v.isFloat())
        fail(std::string(what) + ": '" + pyTypeName(v) + "' object cannot be interpreted as an integer");
    return v.asInt();
}

Value range(const CallArgs &a)
{
    if (a.positional.empty() || a.positional.size() > 3 || !a.keyword.empty())
        fail("range expected 1 to 3 integer arguments");
    int64_t start = 0, stop, step = 1;
    if (a.positional.size() == 1) {
        stop = intArg(a.positional[0], "range");
    } else {
        start = intArg(a.positional[0], "range");
        stop = intArg(a.positional[1], "range");
        if (a.positional.size() == 3)
            step = intArg(a.positional[2], "range");
    }
    if (step == 0)
        fail("range() arg 3 must not be zero");
    // Count first, in wide arithmetic, so no huge range is ever materialized.
    __int128 span = step > 0 ? (__int128)stop - start : (__int128)start - stop;
    __int128 absStep = step > 0 ? step : -(__int128)step;
    __int128 count = span <= 0 ? 0 : (span + absStep - 1) / absStep;
    if (count > kMaxRange)
        fail("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
    ValueList out;
    for (__int128 i = 0; i < count; ++i)
        out.emplace_back(int64_t(start + i * step));
    return Value::list(std::move(out));
}

std::shared_ptr<Dict> kwargsDict(const CallArgs &a, const char *what)
{
    auto d = std::make_shared<Dict>();
    if (a.positional.size() > 1)
        fail(std::string(what) + " expected at most 1 positional argument");
    if (!a.positional.empty()) {
        const Value &init = a.positional[0];
        if (init.isMapping()) {
            for (const auto &[k, v] : init.dictRef().entries)
                d->set(k, v);
        } else {
            for (const auto &pair : iterate(init)) {
                if (!pair.isSequence() || pair.items().size() != 2)
                    fail(std::string(what) + ": sequence elements must be pairs");
                d->set(pair.items()[0], pair.items()[1]);
            }
        }
    }
    for (const auto &[k, v] : a.keyword)
        d->set(Value(k), v);
    return d;
}

} // namespace

void addGlobals(std::unordered_map<std::string, Value> &vars, Interpreter &interp)
{
    vars["range"] = fn("range", range);
    vars["namespace"] = fn("namespace", [](const CallArgs &a) {
        return Value::namespaceObject(kwargsDict(a, "namespace"));
    });
    vars["dict"] = fn("dict", [](const CallArgs &a) { return Value::dict(kwargsDict(a, "dict")); });
    vars["raise_exception"] = fn("raise_exception", [](const CallArgs &a) -> Value {
        fail(a.positional.empty() ? std::string("raise_exception called") : toPyStr(a.positional[0]));
    });
    vars["strftime_now"] = fn("strftime_now", [&interp](const CallArgs &a) {
        if (a.positional.empty() || !a.positional[0].isString())
            fail("strftime_now expects a format string");
        const std::string &format = a.positional[0].str();
        if (format.size() > 256)
            fail("strftime_now: format longer than 256 bytes");
        std::tm t = interp.now();
        std::string buf(format.size() * 32 + 64, '\0');
        size_t n = std::strftime(buf.data(), buf.size(), format.c_str(), &t);
        if (n == 0 && !format.empty())
            fail("strftime_now: cannot format '" + format + "'");
        buf.resize(n);
        return Value(buf);
    });
    vars["cycler"] = fn("cycler", [](const CallArgs &a) {
        auto items = std::make_shared<ValueList>(a.positional);
        auto pos = std::make_shared<size_t>(0);
        auto d = std::make_shared<Dict>();
        d->set(Value("next"), fn("next", [items, pos](const CallArgs &) {
                   if (items->empty())
                       return Value::none();
                   Value v = (*items)[*pos % items->size()];
                   ++*pos;
                   return v;
               }));
        return Value::namespaceObject(d);
    });
    vars["joiner"] = fn("joiner", [](const CallArgs &a) {
        std::string sep = a.positional.empty() ? std::string(", ") : toPyStr(a.positional[0]);
        auto used = std::make_shared<bool>(false);
        return fn("joiner", [sep, used](const CallArgs &) {
            if (!*used) {
                *used = true;
                return Value(std::string());
            }
            return Value(sep);
        });
    });
}

} // namespace lathe::jinja
