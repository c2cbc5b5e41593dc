// FiltersSequence: Jinja2's filters over sequences and mappings. Attribute paths
// ("a.b.0") resolve item-first like obj[key]; sort, unique, min and max compare strings
// case-insensitively unless case_sensitive=true; select/reject/map on a falsy value
// yield nothing, as Jinja's generators do.
#include "tokenizer/jinja/Filters.h"
#include "tokenizer/jinja/Globals.h"

#include "tokenizer/jinja/Interpreter.h"
#include "tokenizer/jinja/Ops.h"
#include "tokenizer/jinja/PyString.h"
#include "tokenizer/jinja/Utf8.h"

#include "core/Error.h"

#include <algorithm>

namespace lathe::jinja {

namespace {

Value attrPath(const Value &item, const std::string &path)
{
    Value cur = item;
    size_t pos = 0;
    while (true) {
        size_t dot = path.find('.', pos);
        std::string part = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
        bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
        cur = numeric && part.size() < 18 ? getItem(cur, Value(int64_t(std::stoll(part)))) : getItem(cur, Value(part));
        if (dot == std::string::npos)
            return cur;
        pos = dot + 1;
    }
}

Value attrOrSelf(const Value &item, const Value *attribute)
{
    if (!attribute || attribute->isNone())
        return item;
    if (attribute->isNumber() && !attribute->isFloat())
        return getItem(item, *attribute);
    return attrPath(item, toPyStr(*attribute));
}

// Key for case-insensitive comparisons: strings are lowered, the rest kept.
Value sortKey(const Value &v, bool caseSensitive)
{
    return (!caseSensitive && v.isString()) ? Value(pystr::lower(v.str())) : v;
}

CallArgs shift(const CallArgs &a, size_t n)
{
    CallArgs rest;
    if (a.positional.size() > n)
        rest.positional.assign(a.positional.begin() + long(n), a.positional.end());
    rest.keyword = a.keyword;
    return rest;
}

Value selectOrReject(Interpreter &interp, const Value &v, const CallArgs &a, bool byAttr, bool select)
{
    ValueList out;
    if (!v.truthy())
        return Value::list({});
    size_t testPos = byAttr ? 1 : 0;
    const Value *attr = byAttr ? (a.positional.empty() ? nullptr : &a.positional[0]) : nullptr;
    if (byAttr && !attr)
        fail("selectattr/rejectattr need an attribute");
    std::string test;
    if (a.positional.size() > testPos) {
        if (!a.positional[testPos].isString())
            fail("test name must be a string");
        test = a.positional[testPos].str();
    }
    CallArgs testArgs = shift(a, testPos + 1);
    testArgs.keyword.clear();
    for (const auto &item : iterate(v)) {
        Value probe = byAttr ? attrOrSelf(item, attr) : item;
        bool r = test.empty() ? probe.truthy() : interp.callTest(test, probe, testArgs);
        if (r == select)
            out.push_back(item);
    }
    return Value::list(std::move(out));
}

Value mapFilter(Interpreter &interp, const Value &v, const CallArgs &a)
{
    if (!v.truthy())
        return Value::list({});
    ValueList out;
    const Value *attribute = a.kw("attribute");
    if (attribute) {
        const Value *dflt = a.kw("default");
        for (const auto &item : iterate(v)) {
            Value r = attrOrSelf(item, attribute);
            out.push_back(r.isUndefined() && dflt ? *dflt : r);
        }
        return Value::list(std::move(out));
    }
    if (a.positional.empty() || !a.positional[0].isString())
        fail("map needs a filter name or attribute=");
    CallArgs rest = shift(a, 1);
    for (const auto &item : iterate(v))
        out.push_back(interp.callFilter(a.positional[0].str(), item, rest));
    return Value::list(std::move(out));
}

int64_t length(const Value &v)
{
    switch (v.kind()) {
    case Value::Kind::Undefined: return 0;
    case Value::Kind::String: return int64_t(utf8::length(v.str()));
    case Value::Kind::List:
    case Value::Kind::Tuple: return int64_t(v.items().size());
    case Value::Kind::Dict: return int64_t(v.dictRef().size());
    default: fail("object of type '" + pyTypeName(v) + "' has no len()");
    }
}

} // namespace

std::optional<Value> applySequenceFilter(Interpreter &interp, const std::string &name, const Value &v,
                                         const CallArgs &a)
{
    if (name == "length" || name == "count")
        return Value(length(v));
    if (name == "list")
        return Value::list(iterate(v));
    if (name == "items") {
        if (v.isUndefined())
            return Value::list({});
        if (!v.isDict())
            fail("Can only get item pairs from a mapping.");
        ValueList out;
        for (const auto &[k, val] : v.dictRef().entries)
            out.push_back(Value::tuple({k, val}));
        return Value::list(std::move(out));
    }
    if (name == "join") {
        const Value *sep = filterArg(a, 0, "d");
        const Value *attribute = filterArg(a, 1, "attribute");
        std::string out, s = sep ? toPyStr(*sep) : std::string();
        bool first = true;
        for (const auto &item : iterate(v)) {
            if (!first)
                out += s;
            first = false;
            out += toPyStr(attrOrSelf(item, attribute));
            interp.checkSize(out.size());
        }
        return Value(std::move(out));
    }
    if (name == "first" || name == "last") {
        ValueList items = iterate(v);
        if (items.empty())
            return Value::undefined("No " + name + " item, sequence was empty.");
        return name == "first" ? items.front() : items.back();
    }
    if (name == "reverse") {
        if (v.isString()) {
            std::u32string u = utf8::decode(v.str());
            std::reverse(u.begin(), u.end());
            return Value(utf8::encode(u));
        }
        ValueList items = iterate(v);
        std::reverse(items.begin(), items.end());
        return Value::list(std::move(items));
    }
    if (name == "select" || name == "reject")
        return selectOrReject(interp, v, a, false, name == "select");
    if (name == "selectattr" || name == "rejectattr")
        return selectOrReject(interp, v, a, true, name == "selectattr");
    if (name == "map")
        return mapFilter(interp, v, a);
    if (name == "unique") {
        const Value *cs = filterArg(a, 0, "case_sensitive");
        const Value *attribute = filterArg(a, 1, "attribute");
        ValueList out, seen;
        for (const auto &item : iterate(v)) {
            Value key = sortKey(attrOrSelf(item, attribute), cs && cs->truthy());
            if (std::none_of(seen.begin(), seen.end(), [&](const Value &s) { return valuesEqual(s, key); })) {
                seen.push_back(key);
                out.push_back(item);
            }
        }
        return Value::list(std::move(out));
    }
    if (name == "sort" || name == "min" || name == "max") {
        bool isSort = name == "sort";
        const Value *reverse = isSort ? filterArg(a, 0, "reverse") : nullptr;
        const Value *cs = filterArg(a, isSort ? 1 : 0, "case_sensitive");
        const Value *attribute = filterArg(a, isSort ? 2 : 1, "attribute");
        bool caseSensitive = cs && cs->truthy();
        ValueList items = iterate(v);
        auto less = [&](const Value &x, const Value &y) {
            return compareValues(sortKey(attrOrSelf(x, attribute), caseSensitive),
                                 sortKey(attrOrSelf(y, attribute), caseSensitive))
                < 0;
        };
        if (!isSort) {
            if (items.empty())
                return Value::undefined("No aggregated item, sequence was empty.");
            return name == "min" ? *std::min_element(items.begin(), items.end(), less)
                                 : *std::max_element(items.begin(), items.end(), less);
        }
        if (reverse && reverse->truthy())
            std::stable_sort(items.begin(), items.end(), [&](const Value &x, const Value &y) { return less(y, x); });
        else
            std::stable_sort(items.begin(), items.end(), less);
        return Value::list(std::move(items));
    }
    if (name == "dictsort") {
        if (!v.isDict())
            fail("dictsort needs a mapping");
        const Value *cs = filterArg(a, 0, "case_sensitive");
        const Value *by = filterArg(a, 1, "by");
        const Value *reverse = filterArg(a, 2, "reverse");
        size_t pos = by && by->isString() && by->str() == "value" ? 1 : 0;
        ValueList items;
        for (const auto &[k, val] : v.dictRef().entries)
            items.push_back(Value::tuple({k, val}));
        bool caseSensitive = cs && cs->truthy();
        bool rev = reverse && reverse->truthy();
        std::stable_sort(items.begin(), items.end(), [&](const Value &x, const Value &y) {
            int c = compareValues(sortKey(x.items()[pos], caseSensitive), sortKey(y.items()[pos], caseSensitive));
            return rev ? c > 0 : c < 0;
        });
        return Value::list(std::move(items));
    }
    if (name == "batch") {
        const Value *n = filterArg(a, 0, "linecount");
        const Value *fill = filterArg(a, 1, "fill_with");
        if (!n || !n->isNumber() || n->asInt() <= 0)
            fail("batch needs a positive count");
        size_t count = size_t(n->asInt());
        ValueList out, cur;
        for (const auto &item : iterate(v)) {
            cur.push_back(item);
            if (cur.size() == count) {
                out.push_back(Value::list(std::move(cur)));
                cur.clear();
            }
        }
        if (!cur.empty()) {
            while (fill && !fill->isNone() && cur.size() < count)
                cur.push_back(*fill);
            out.push_back(Value::list(std::move(cur)));
        }
        return Value::list(std::move(out));
    }
    if (name == "sum") {
        const Value *attribute = filterArg(a, 0, "attribute");
        const Value *start = filterArg(a, 1, "start");
        Value total = start ? *start : Value(0);
        for (const auto &item : iterate(v))
            total = binaryOp("+", total, attrOrSelf(item, attribute), 1u << 26);
        return total;
    }
    return std::nullopt;
}

} // namespace lathe::jinja
