// InterpreterEval: expression evaluation. 'and'/'or' short-circuit and return an
// operand (Python), comparisons chain (a < b < c), filters and tests are looked up by
// name, and calls go through Function values (globals, macros, bound methods).
#include "tokenizer/jinja/Globals.h"
#include "tokenizer/jinja/Interpreter.h"
#include "tokenizer/jinja/Ops.h"

#include "core/Error.h"

namespace lathe::jinja {

Value Interpreter::eval(const Expr &e, const ScopePtr &scope)
{
    try {
        return evalInner(e, scope);
    } catch (const OutOfMemoryError &) {
        throw;
    } catch (const Error &err) {
        throw Error(withLine(err, e.line));
    }
}

Value Interpreter::evalInner(const Expr &e, const ScopePtr &scope)
{
    DepthGuard guard(*this, e.line);
    switch (e.kind) {
    case Expr::Kind::Literal: return e.literal;
    case Expr::Kind::Name: return lookup(e.name, scope);
    case Expr::Kind::List:
    case Expr::Kind::Tuple: {
        ValueList items;
        items.reserve(e.args.size());
        for (const auto &a : e.args)
            items.push_back(eval(*a, scope));
        return e.kind == Expr::Kind::List ? Value::list(std::move(items)) : Value::tuple(std::move(items));
    }
    case Expr::Kind::Dict: {
        auto d = std::make_shared<Dict>();
        for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
            Value k = eval(*e.args[i], scope);
            if (k.isSequence() && k.kind() == Value::Kind::List)
                fail("unhashable type: 'list'");
            if (k.isDict())
                fail("unhashable type: 'dict'");
            d->set(k, eval(*e.args[i + 1], scope));
        }
        return Value::dict(std::move(d));
    }
    case Expr::Kind::GetAttr: return getAttr(eval(*e.args[0], scope), e.name);
    case Expr::Kind::GetItem: {
        Value obj = eval(*e.args[0], scope);
        return getItem(obj, eval(*e.args[1], scope));
    }
    case Expr::Kind::Slice: {
        Value obj = eval(*e.args[0], scope);
        Value parts[3];
        for (int i = 0; i < 3; ++i)
            parts[i] = e.args[size_t(i) + 1] ? eval(*e.args[size_t(i) + 1], scope) : Value::none();
        return sliceOf(obj, parts[0], parts[1], parts[2]);
    }
    case Expr::Kind::Call: return evalCall(e, scope);
    case Expr::Kind::Filter: return evalFilter(e, scope, nullptr);
    case Expr::Kind::Test: {
        Value operand = eval(*e.args[0], scope);
        CallArgs args = evalArgs(e, 1, scope);
        bool r = callTest(e.name, operand, args);
        return Value(e.negated ? !r : r);
    }
    case Expr::Kind::Unary: {
        Value v = eval(*e.args[0], scope);
        if (e.name == "not")
            return Value(!v.truthy());
        if (e.name == "-")
            return unaryMinus(v);
        requireDefined(v);
        if (!v.isNumber())
            fail("bad operand type for unary +: '" + pyTypeName(v) + "'");
        return v.isBool() ? Value(v.asInt()) : v;
    }
    case Expr::Kind::Binary: return evalBinary(e, scope);
    case Expr::Kind::Compare: return evalCompare(e, scope);
    case Expr::Kind::Cond:
        if (eval(*e.args[1], scope).truthy())
            return eval(*e.args[0], scope);
        if (e.args[2])
            return eval(*e.args[2], scope);
        return Value::undefined("the inline if-expression on line " + std::to_string(e.line)
                                + " evaluated to false and no else section was defined.");
    }
    return Value();
}

Value Interpreter::evalBinary(const Expr &e, const ScopePtr &scope)
{
    const std::string &op = e.name;
    Value a = eval(*e.args[0], scope);
    if (op == "and")
        return a.truthy() ? eval(*e.args[1], scope) : a;
    if (op == "or")
        return a.truthy() ? a : eval(*e.args[1], scope);
    Value b = eval(*e.args[1], scope);
    if (op == "~") {
        std::string s = toPyStr(a);
        s += toPyStr(b);
        checkSize(s.size());
        return Value(std::move(s));
    }
    return binaryOp(op, a, b, m_limits.maxOutputBytes);
}

Value Interpreter::evalCompare(const Expr &e, const ScopePtr &scope)
{
    Value left = eval(*e.args[0], scope);
    for (size_t i = 0; i < e.ops.size(); ++i) {
        Value right = eval(*e.args[i + 1], scope);
        const std::string &op = e.ops[i];
        bool r;
        if (op == "==")
            r = valuesEqual(left, right);
        else if (op == "!=")
            r = !valuesEqual(left, right);
        else if (op == "in")
            r = contains(right, left);
        else if (op == "not in")
            r = !contains(right, left);
        else {
            int c = compareValues(left, right);
            r = op == "<" ? c < 0 : op == ">" ? c > 0 : op == "<=" ? c <= 0 : c >= 0;
        }
        if (!r)
            return Value(false);
        left = std::move(right);
    }
    return Value(true);
}

CallArgs Interpreter::evalArgs(const Expr &e, size_t first, const ScopePtr &scope)
{
    CallArgs args;
    for (size_t i = first; i < e.args.size(); ++i)
        args.positional.push_back(eval(*e.args[i], scope));
    for (const auto &[k, v] : e.kwargs)
        args.keyword.emplace_back(k, eval(*v, scope));
    return args;
}

Value Interpreter::evalCall(const Expr &e, const ScopePtr &scope)
{
    Value callee = eval(*e.args[0], scope);
    requireDefined(callee);
    if (!callee.isFunction())
        fail("'" + pyTypeName(callee) + "' object is not callable");
    CallArgs args = evalArgs(e, 1, scope);
    step();
    return callee.functionPtr()->call(args);
}

Value Interpreter::evalFilter(const Expr &e, const ScopePtr &scope, const Value *pipeInput)
{
    Value operand;
    if (e.args[0])
        operand = e.args[0]->kind == Expr::Kind::Filter ? evalFilter(*e.args[0], scope, pipeInput)
                                                         : eval(*e.args[0], scope);
    else if (pipeInput)
        operand = *pipeInput;
    CallArgs args = evalArgs(e, 1, scope);
    m_line = e.line;
    return callFilter(e.name, operand, args);
}

Value Interpreter::callFilter(const std::string &name, const Value &operand, const CallArgs &args)
{
    step();
    return applyFilter(*this, name, operand, args);
}

bool Interpreter::callTest(const std::string &name, const Value &operand, const CallArgs &args)
{
    step();
    return applyTest(*this, name, operand, args);
}

} // namespace lathe::jinja
