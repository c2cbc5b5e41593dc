// Tests: Jinja2's built-in tests ('x is defined', 'x is string', ...) with its exact
// Python behaviour, e.g. Undefined is iterable (it iterates as empty) and True is a
// number but not an integer.
#include "tokenizer/jinja/Globals.h"

#include "tokenizer/jinja/Interpreter.h"
#include "tokenizer/jinja/Ops.h"
#include "tokenizer/jinja/PyString.h"

#include "core/Error.h"

namespace lathe::jinja {

namespace {

const Value &needArg(const CallArgs &a, const std::string &test)
{
    if (a.positional.empty()) {
        if (!a.keyword.empty())
            return a.keyword[0].second;
        fail("test '" + test + "' needs an argument");
    }
    return a.positional[0];
}

bool compareTest(const std::string &name, const Value &v, const Value &o)
{
    if (name == "eq" || name == "equalto" || name == "==")
        return valuesEqual(v, o);
    if (name == "ne" || name == "!=")
        return !valuesEqual(v, o);
    int c = compareValues(v, o);
    if (name == "lt" || name == "lessthan" || name == "<")
        return c < 0;
    if (name == "le" || name == "<=")
        return c <= 0;
    if (name == "gt" || name == "greaterthan" || name == ">")
        return c > 0;
    return c >= 0; // ge, >=
}

} // namespace

bool applyTest(Interpreter &interp, const std::string &name, const Value &v, const CallArgs &args)
{
    using K = Value::Kind;
    if (name == "defined")
        return !v.isUndefined();
    if (name == "undefined")
        return v.isUndefined();
    if (name == "none")
        return v.isNone();
    if (name == "string")
        return v.isString();
    if (name == "number")
        return v.isNumber();
    if (name == "integer")
        return v.kind() == K::Int;
    if (name == "float")
        return v.isFloat();
    if (name == "boolean")
        return v.isBool();
    if (name == "true")
        return v.isBool() && v.asBool();
    if (name == "false")
        return v.isBool() && !v.asBool();
    if (name == "mapping")
        return v.isDict();
    if (name == "iterable")
        return v.isUndefined() || v.isString() || v.isSequence() || v.isDict();
    if (name == "sequence")
        return v.isUndefined() || v.isString() || v.isSequence() || v.isDict();
    if (name == "callable")
        return v.isFunction();
    if (name == "escaped")
        return false; // nothing is Markup in a template rendered without autoescape
    if (name == "odd" || name == "even") {
        requireDefined(v);
        if (v.kind() != K::Int && !v.isBool())
            fail("test '" + name + "' needs an integer");
        int64_t r = v.asInt() % 2;
        return name == "odd" ? r != 0 : r == 0;
    }
    if (name == "divisibleby") {
        const Value &n = needArg(args, name);
        requireDefined(v);
        if (!v.isNumber() || !n.isNumber())
            fail("test 'divisibleby' needs numbers");
        if (n.asDouble() == 0)
            fail("integer division or modulo by zero");
        return binaryOp("%", v, n, 1 << 20).asDouble() == 0;
    }
    if (name == "lower" || name == "upper") {
        if (!v.isString())
            fail("test '" + name + "' needs a string");
        return name == "lower" ? pystr::lower(v.str()) == v.str() : pystr::upper(v.str()) == v.str();
    }
    if (name == "in")
        return contains(needArg(args, name), v);
    if (name == "sameas") {
        const Value &o = needArg(args, name);
        if (v.kind() != o.kind())
            return false;
        switch (v.kind()) {
        case K::None:
        case K::Undefined: return v.isNone();
        case K::Bool: return v.asBool() == o.asBool();
        case K::Int: return v.asInt() == o.asInt() && v.asInt() >= -5 && v.asInt() <= 256; // CPython's cache
        case K::List:
        case K::Tuple: return v.listPtr() == o.listPtr();
        case K::Dict:
        case K::Namespace: return v.dictPtr() == o.dictPtr();
        case K::Function: return v.functionPtr() == o.functionPtr();
        default: return false;
        }
    }
    static const char *const comparisons[] = {"eq", "equalto", "==", "ne", "!=", "lt", "lessthan", "<", "le", "<=",
                                               "gt", "greaterthan", ">", "ge", ">="};
    for (const char *c : comparisons)
        if (name == c)
            return compareTest(name, v, needArg(args, name));
    (void)interp;
    fail("unsupported test '" + name + "'");
}

} // namespace lathe::jinja
