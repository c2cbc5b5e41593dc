// Value: construction, truthiness, equality and ordering with Python's rules
// (True == 1 == 1.0, containers compare element-wise, mixed types do not order).
#include "tokenizer/jinja/Value.h"

#include "tokenizer/jinja/Ops.h"

#include "core/Error.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace lathe::jinja {

namespace {
constexpr int kMaxValueDepth = 512;
}

// Containers record their depth when built. Lists and dicts never change afterwards and
// namespaces may not hold namespaces (Interpreter::assign), so no cycle can form and no
// structure grows past about twice this limit: printing, comparing and destroying
// values recurse, and a hostile template must not overflow the stack through them.
void Value::measure()
{
    int deepest = 0;
    bool ns = false;
    auto visit = [&](const Value &c) {
        deepest = std::max(deepest, c.m_depth);
        ns = ns || c.m_holdsNamespace || c.m_kind == Kind::Namespace;
    };
    if (m_list)
        for (const auto &c : *m_list)
            visit(c);
    if (m_dict)
        for (const auto &[k, c] : m_dict->entries) {
            visit(k);
            visit(c);
        }
    if (deepest + 1 > kMaxValueDepth)
        fail("value nested deeper than " + std::to_string(kMaxValueDepth) + " levels");
    m_depth = deepest + 1;
    m_holdsNamespace = ns;
}

Value Value::list(ValueList items)
{
    Value v;
    v.m_kind = Kind::List;
    v.m_list = std::make_shared<ValueList>(std::move(items));
    v.measure();
    return v;
}

Value Value::tuple(ValueList items)
{
    Value v = list(std::move(items));
    v.m_kind = Kind::Tuple;
    return v;
}

Value Value::dict(std::shared_ptr<Dict> d)
{
    Value v;
    v.m_kind = Kind::Dict;
    v.m_dict = std::move(d);
    v.measure();
    return v;
}

Value Value::emptyDict()
{
    return dict(std::make_shared<Dict>());
}

Value Value::namespaceObject(std::shared_ptr<Dict> d)
{
    Value v = dict(std::move(d));
    v.m_kind = Kind::Namespace;
    return v;
}

Value Value::function(std::shared_ptr<Function> f)
{
    Value v;
    v.m_kind = Kind::Function;
    v.m_fn = std::move(f);
    return v;
}

namespace {

template <typename Json>
Value convertJson(const Json &j, int depth = 0)
{
    if (depth > 512)
        fail("JSON input nested deeper than 512 levels");
    using Kind = typename Json::value_t;
    switch (j.type()) {
    case Kind::null: return Value::none();
    case Kind::boolean: return Value(j.template get<bool>());
    case Kind::number_integer: return Value(j.template get<int64_t>());
    case Kind::number_unsigned: {
        uint64_t u = j.template get<uint64_t>();
        if (u > uint64_t(INT64_MAX))
            return Value(double(u)); // beyond int64: Python would keep it exact; we cannot
        return Value(int64_t(u));
    }
    case Kind::number_float: return Value(j.template get<double>());
    case Kind::string: return Value(j.template get<std::string>());
    case Kind::array: {
        ValueList items;
        items.reserve(j.size());
        for (const auto &e : j)
            items.push_back(convertJson(e, depth + 1));
        return Value::list(std::move(items));
    }
    case Kind::object: {
        auto d = std::make_shared<Dict>();
        for (auto it = j.begin(); it != j.end(); ++it)
            d->set(Value(it.key()), convertJson(it.value(), depth + 1));
        return Value::dict(std::move(d));
    }
    default: return Value::none();
    }
}

} // namespace

Value Value::fromJson(const nlohmann::json &j)
{
    return convertJson(j);
}

Value Value::fromJson(const nlohmann::ordered_json &j)
{
    return convertJson(j);
}

bool Value::truthy() const
{
    switch (m_kind) {
    case Kind::Undefined:
    case Kind::None: return false;
    case Kind::Bool:
    case Kind::Int: return m_int != 0;
    case Kind::Float: return m_float != 0;
    case Kind::String: return !m_str.empty();
    case Kind::List:
    case Kind::Tuple: return !m_list->empty();
    case Kind::Dict: return m_dict->size() != 0;
    case Kind::Namespace:
    case Kind::Function: return true;
    }
    return false;
}

std::string Value::typeName() const
{
    switch (m_kind) {
    case Kind::Undefined: return "Undefined";
    case Kind::None: return "None";
    case Kind::Bool: return "bool object";
    case Kind::Int: return "int object";
    case Kind::Float: return "float object";
    case Kind::String: return "str object";
    case Kind::List: return "list object";
    case Kind::Tuple: return "tuple object";
    case Kind::Dict: return "dict object";
    case Kind::Namespace: return "Namespace object";
    case Kind::Function: return "function object";
    }
    return "object";
}

const Value *Dict::find(const Value &key) const
{
    if (key.isString()) {
        auto it = stringIndex.find(key.str());
        return it == stringIndex.end() ? nullptr : &entries[it->second].second;
    }
    for (const auto &e : entries)
        if (!e.first.isString() && valuesEqual(e.first, key))
            return &e.second;
    return nullptr;
}

void Dict::set(const Value &key, Value value)
{
    if (key.isString()) {
        auto [it, inserted] = stringIndex.emplace(key.str(), entries.size());
        if (inserted)
            entries.emplace_back(key, std::move(value));
        else
            entries[it->second].second = std::move(value);
        return;
    }
    for (auto &e : entries)
        if (!e.first.isString() && valuesEqual(e.first, key)) {
            e.second = std::move(value);
            return;
        }
    entries.emplace_back(key, std::move(value));
}

const Value *CallArgs::kw(const std::string &name) const
{
    for (const auto &k : keyword)
        if (k.first == name)
            return &k.second;
    return nullptr;
}

const Value *CallArgs::get(size_t pos, const std::string &name) const
{
    if (pos < positional.size())
        return &positional[pos];
    return kw(name);
}

bool valuesEqual(const Value &a, const Value &b)
{
    if (a.isNumber() && b.isNumber()) {
        if (a.isFloat() || b.isFloat())
            return a.asDouble() == b.asDouble();
        return a.asInt() == b.asInt();
    }
    if (a.kind() != b.kind()) {
        // A list never equals a tuple in Python; Undefined equals only Undefined.
        return false;
    }
    switch (a.kind()) {
    case Value::Kind::Undefined:
    case Value::Kind::None: return true;
    case Value::Kind::String: return a.str() == b.str();
    case Value::Kind::List:
    case Value::Kind::Tuple: {
        const auto &x = a.items(), &y = b.items();
        if (x.size() != y.size())
            return false;
        for (size_t i = 0; i < x.size(); ++i)
            if (!valuesEqual(x[i], y[i]))
                return false;
        return true;
    }
    case Value::Kind::Dict:
    case Value::Kind::Namespace: {
        if (a.dictPtr() == b.dictPtr())
            return true;
        if (a.isNamespace() || a.dictRef().size() != b.dictRef().size())
            return false;
        for (const auto &[k, v] : a.dictRef().entries) {
            const Value *o = b.dictRef().find(k);
            if (!o || !valuesEqual(v, *o))
                return false;
        }
        return true;
    }
    case Value::Kind::Function: return a.functionPtr() == b.functionPtr();
    default: return false;
    }
}

int compareValues(const Value &a, const Value &b)
{
    if (a.isNumber() && b.isNumber()) {
        if (a.isFloat() || b.isFloat()) {
            double x = a.asDouble(), y = b.asDouble();
            return x < y ? -1 : (x > y ? 1 : 0);
        }
        return a.asInt() < b.asInt() ? -1 : (a.asInt() > b.asInt() ? 1 : 0);
    }
    if (a.isString() && b.isString()) {
        // UTF-8 byte order equals code point order, which is what Python compares.
        int c = a.str().compare(b.str());
        return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    if (a.isSequence() && a.kind() == b.kind()) {
        const auto &x = a.items(), &y = b.items();
        for (size_t i = 0; i < x.size() && i < y.size(); ++i)
            if (!valuesEqual(x[i], y[i]))
                return compareValues(x[i], y[i]);
        return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
    }
    if (a.isUndefined())
        fail(a.str());
    if (b.isUndefined())
        fail(b.str());
    fail("'<' not supported between instances of '" + pyTypeName(a) + "' and '" + pyTypeName(b) + "'");
}

} // namespace lathe::jinja
