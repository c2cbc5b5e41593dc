// Value: the runtime value of the Jinja interpreter, modelled on the Python objects a
// chat template sees under Jinja2 (None, bool, int, float, str, list, tuple, dict with
// insertion order, namespace, callables, and Jinja's Undefined). Lists and dicts share
// their storage the way Python references do; only namespaces are ever mutated, since
// the sandbox Hugging Face uses is immutable.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace lathe::jinja {

class Value;
using ValueList = std::vector<Value>;

struct Dict;
struct Function;

class Value
{
public:
    enum class Kind { Undefined, None, Bool, Int, Float, String, List, Tuple, Dict, Namespace, Function };

    Value() = default; // Undefined
    static Value undefined(std::string hint) { Value v; v.m_str = std::move(hint); return v; }
    static Value none() { Value v; v.m_kind = Kind::None; return v; }
    Value(bool b) : m_kind(Kind::Bool), m_int(b) {}
    Value(int i) : m_kind(Kind::Int), m_int(i) {}
    Value(int64_t i) : m_kind(Kind::Int), m_int(i) {}
    Value(double d) : m_kind(Kind::Float), m_float(d) {}
    Value(std::string s) : m_kind(Kind::String), m_str(std::move(s)) {}
    Value(const char *s) : m_kind(Kind::String), m_str(s) {}
    static Value list(ValueList items);
    static Value tuple(ValueList items);
    static Value dict(std::shared_ptr<Dict> d);
    static Value emptyDict();
    static Value namespaceObject(std::shared_ptr<Dict> d);
    static Value function(std::shared_ptr<Function> f);
    // JSON objects keep their key order only when given as ordered_json (Python's json
    // preserves it); nlohmann::json has already sorted the keys.
    static Value fromJson(const nlohmann::json &j);
    static Value fromJson(const nlohmann::ordered_json &j);

    Kind kind() const { return m_kind; }
    bool isUndefined() const { return m_kind == Kind::Undefined; }
    bool isNone() const { return m_kind == Kind::None; }
    bool isBool() const { return m_kind == Kind::Bool; }
    bool isInt() const { return m_kind == Kind::Int; }
    bool isFloat() const { return m_kind == Kind::Float; }
    bool isNumber() const { return m_kind == Kind::Int || m_kind == Kind::Float || m_kind == Kind::Bool; }
    bool isString() const { return m_kind == Kind::String; }
    bool isTuple() const { return m_kind == Kind::Tuple; }
    bool isSequence() const { return m_kind == Kind::List || m_kind == Kind::Tuple; }
    bool isDict() const { return m_kind == Kind::Dict; }
    bool isNamespace() const { return m_kind == Kind::Namespace; }
    bool isMapping() const { return m_kind == Kind::Dict || m_kind == Kind::Namespace; }
    bool isFunction() const { return m_kind == Kind::Function; }

    bool asBool() const { return m_int != 0; }
    int64_t asInt() const { return m_int; }
    double asDouble() const { return m_kind == Kind::Float ? m_float : double(m_int); }
    const std::string &str() const { return m_str; } // string payload, or Undefined's hint
    const ValueList &items() const { return *m_list; }
    const std::shared_ptr<ValueList> &listPtr() const { return m_list; }
    const Dict &dictRef() const { return *m_dict; }
    const std::shared_ptr<Dict> &dictPtr() const { return m_dict; }
    const std::shared_ptr<Function> &functionPtr() const { return m_fn; }

    bool truthy() const;
    // Container nesting depth (0 for scalars) and whether a namespace is inside; see
    // Value.cpp for why these bound every structure a template can build.
    int depth() const { return m_depth; }
    bool holdsNamespace() const { return m_holdsNamespace; }
    // Python's type name as Jinja's error messages print it ("dict object", "None").
    std::string typeName() const;

private:
    void measure();

    Kind m_kind = Kind::Undefined;
    int m_depth = 0;
    bool m_holdsNamespace = false;
    int64_t m_int = 0;
    double m_float = 0;
    std::string m_str;
    std::shared_ptr<ValueList> m_list;
    std::shared_ptr<Dict> m_dict;
    std::shared_ptr<Function> m_fn;
};

// An insertion-ordered dict; string keys are indexed, other keys are searched.
struct Dict
{
    std::vector<std::pair<Value, Value>> entries;
    std::unordered_map<std::string, size_t> stringIndex;

    const Value *find(const Value &key) const;
    void set(const Value &key, Value value);
    size_t size() const { return entries.size(); }
};

// Arguments of a call: positional then keyword, in source order.
struct CallArgs
{
    ValueList positional;
    std::vector<std::pair<std::string, Value>> keyword;

    const Value *kw(const std::string &name) const;
    // The argument at position pos or named name, or nullptr.
    const Value *get(size_t pos, const std::string &name) const;
};

struct Function
{
    std::string name;
    std::function<Value(const CallArgs &)> call;
};

// Python semantics used across the interpreter.
bool valuesEqual(const Value &a, const Value &b);
// <0, 0, >0; throws lathe::Error for types Python cannot order.
int compareValues(const Value &a, const Value &b);

// Python str(), repr() and json.dumps(ensure_ascii=False, ...) of a value.
std::string toPyStr(const Value &v);
std::string toPyRepr(const Value &v);
std::string formatFloat(double d);
struct JsonStyle
{
    int indent = -1; // -1: no indent (one line)
    std::string itemSep = ", ";
    std::string keySep = ": ";
    bool sortKeys = false;
};
std::string toJson(const Value &v, const JsonStyle &style);

} // namespace lathe::jinja
