// Interpreter: statement rendering and expression evaluation. Scoping follows Jinja2:
// 'if' opens no scope, each for-loop iteration and each macro call opens a fresh one
// (so a 'set' inside a loop is gone after it, which is why templates use namespace()),
// and names resolve outward at the time of use.
#include "tokenizer/jinja/Interpreter.h"

#include "tokenizer/jinja/Globals.h"
#include "tokenizer/jinja/Ops.h"

#include "core/Error.h"

namespace lathe::jinja {

namespace {
bool mentions(const Body &body, const std::string &name);
}

Interpreter::DepthGuard::DepthGuard(Interpreter &in, int line) : m_in(in)
{
    if (line > 0)
        in.m_line = line;
    if (++in.m_evalDepth > in.m_limits.maxEvalDepth) {
        --in.m_evalDepth;
        fail("evaluation nested deeper than " + std::to_string(in.m_limits.maxEvalDepth) + " levels");
    }
}

void Interpreter::step()
{
    if (++m_steps > m_limits.maxSteps)
        fail("template exceeded " + std::to_string(m_limits.maxSteps) + " steps (runaway loop?)");
}

void Interpreter::checkSize(size_t bytes) const
{
    if (bytes > m_limits.maxOutputBytes)
        fail("output exceeds " + std::to_string(m_limits.maxOutputBytes) + " bytes");
}

std::string Interpreter::render(const Body &body, const std::unordered_map<std::string, Value> &variables)
{
    m_root = std::make_shared<Scope>();
    addGlobals(m_root->vars, *this);
    for (const auto &[k, v] : variables)
        m_root->vars[k] = v;
    m_steps = 0;
    m_evalDepth = 0;
    m_macroDepth = 0;
    m_line = 0;
    std::string out;
    try {
        renderBody(body, m_root, out);
    } catch (const OutOfMemoryError &) {
        throw;
    } catch (const Error &e) {
        std::string msg = e.what();
        if (msg.rfind("chat template line ", 0) == 0)
            throw;
        throw Error("chat template line " + std::to_string(m_line) + ": " + msg);
    }
    m_root.reset(); // breaks the scope <-> macro cycles
    return out;
}

Interpreter::Flow Interpreter::renderBody(const Body &body, const ScopePtr &scope, std::string &out)
{
    for (const auto &stmt : body) {
        Flow f = renderStmt(*stmt, scope, out);
        if (f != Flow::Normal)
            return f;
    }
    return Flow::Normal;
}

Interpreter::Flow Interpreter::renderStmt(const Stmt &stmt, const ScopePtr &scope, std::string &out)
{
    try {
        return renderStmtInner(stmt, scope, out);
    } catch (const OutOfMemoryError &) {
        throw;
    } catch (const Error &e) {
        throw Error(withLine(e, stmt.line));
    }
}

std::string Interpreter::withLine(const Error &e, int line)
{
    std::string msg = e.what();
    if (msg.rfind("chat template line ", 0) == 0)
        return msg;
    return "chat template line " + std::to_string(line) + ": " + msg;
}

Interpreter::Flow Interpreter::renderStmtInner(const Stmt &stmt, const ScopePtr &scope, std::string &out)
{
    DepthGuard guard(*this, stmt.line);
    step();
    switch (stmt.kind) {
    case Stmt::Kind::Data:
        out += stmt.text;
        checkSize(out.size());
        return Flow::Normal;
    case Stmt::Kind::Print: {
        Value v = eval(*stmt.expr, scope);
        out += toPyStr(v);
        checkSize(out.size());
        return Flow::Normal;
    }
    case Stmt::Kind::If:
        for (size_t i = 0; i < stmt.conds.size(); ++i)
            if (eval(*stmt.conds[i], scope).truthy())
                return renderBody(stmt.bodies[i], scope, out);
        return renderBody(stmt.elseBody, scope, out);
    case Stmt::Kind::For: return renderFor(stmt, scope, out);
    case Stmt::Kind::Set: assign(stmt, scope, eval(*stmt.expr, scope)); return Flow::Normal;
    case Stmt::Kind::SetBlock:
    case Stmt::Kind::FilterBlock: {
        std::string captured;
        auto inner = std::make_shared<Scope>(); // Jinja renders these bodies in a child frame
        inner->parent = scope;
        renderBody(stmt.body, inner, captured);
        Value v(std::move(captured));
        if (stmt.filter)
            v = evalFilter(*stmt.filter, scope, &v);
        if (stmt.kind == Stmt::Kind::SetBlock) {
            assign(stmt, scope, std::move(v));
        } else {
            out += toPyStr(v);
            checkSize(out.size());
        }
        return Flow::Normal;
    }
    case Stmt::Kind::Macro: scope->vars[stmt.text] = defineMacro(stmt, scope); return Flow::Normal;
    case Stmt::Kind::CallBlock: {
        // caller() renders the block body; the call itself gets it as the 'caller' kwarg.
        Value caller = defineMacro(stmt, scope);
        const Expr &call = *stmt.expr;
        Value callee = eval(*call.args[0], scope);
        requireDefined(callee);
        if (!callee.isFunction())
            fail("'" + pyTypeName(callee) + "' object is not callable");
        CallArgs args = evalArgs(call, 1, scope);
        args.keyword.emplace_back("caller", caller);
        step();
        out += toPyStr(callee.functionPtr()->call(args));
        checkSize(out.size());
        return Flow::Normal;
    }
    case Stmt::Kind::Break: return Flow::Break;
    case Stmt::Kind::Continue: return Flow::Continue;
    }
    return Flow::Normal;
}

Interpreter::Flow Interpreter::renderFor(const Stmt &stmt, const ScopePtr &scope, std::string &out)
{
    Value iterable = eval(*stmt.expr, scope);
    ValueList all = iterate(iterable);
    auto bindTargets = [&](Scope &s, const Value &item) {
        if (stmt.names.size() == 1) {
            s.vars[stmt.names[0]] = item;
            return;
        }
        ValueList parts = item.isSequence() ? item.items() : iterate(item);
        if (parts.size() != stmt.names.size())
            fail(parts.size() < stmt.names.size()
                     ? "not enough values to unpack (expected " + std::to_string(stmt.names.size()) + ", got "
                         + std::to_string(parts.size()) + ")"
                     : "too many values to unpack (expected " + std::to_string(stmt.names.size()) + ")");
        for (size_t i = 0; i < parts.size(); ++i)
            s.vars[stmt.names[i]] = parts[i];
    };
    ValueList items;
    if (stmt.cond) {
        for (const auto &item : all) {
            step();
            auto probe = std::make_shared<Scope>();
            probe->parent = scope;
            bindTargets(*probe, item);
            if (eval(*stmt.cond, probe).truthy())
                items.push_back(item);
        }
    } else {
        items = std::move(all);
    }
    if (items.empty())
        return renderBody(stmt.elseBody, scope, out);
    const int64_t n = int64_t(items.size());
    auto known = m_usesLoop.find(&stmt);
    if (known == m_usesLoop.end())
        known = m_usesLoop.emplace(&stmt, mentions(stmt.body, "loop")).first;
    const bool usesLoop = known->second; // building the loop object is most of an iteration's cost
    for (int64_t i = 0; i < n; ++i) {
        step();
        auto iter = std::make_shared<Scope>();
        iter->parent = scope;
        bindTargets(*iter, items[size_t(i)]);
        if (!usesLoop) {
            if (renderBody(stmt.body, iter, out) == Flow::Break)
                break;
            continue;
        }
        auto loop = std::make_shared<Dict>();
        loop->set(Value("index"), Value(i + 1));
        loop->set(Value("index0"), Value(i));
        loop->set(Value("revindex"), Value(n - i));
        loop->set(Value("revindex0"), Value(n - i - 1));
        loop->set(Value("first"), Value(i == 0));
        loop->set(Value("last"), Value(i == n - 1));
        loop->set(Value("length"), Value(n));
        loop->set(Value("depth"), Value(1));
        loop->set(Value("depth0"), Value(0));
        loop->set(Value("previtem"), i > 0 ? items[size_t(i - 1)] : Value::undefined("there is no previous item"));
        loop->set(Value("nextitem"), i + 1 < n ? items[size_t(i + 1)] : Value::undefined("there is no next item"));
        auto cycle = std::make_shared<Function>();
        cycle->name = "cycle";
        cycle->call = [i](const CallArgs &a) -> Value {
            if (a.positional.empty())
                fail("no items for cycling given");
            return a.positional[size_t(i) % a.positional.size()];
        };
        loop->set(Value("cycle"), Value::function(cycle));
        iter->vars["loop"] = Value::namespaceObject(loop);
        Flow f = renderBody(stmt.body, iter, out);
        if (f == Flow::Break)
            break;
    }
    return Flow::Normal;
}

void Interpreter::assign(const Stmt &stmt, const ScopePtr &scope, Value value)
{
    if (!stmt.attr.empty()) {
        Value target = lookup(stmt.names[0], scope);
        if (!target.isNamespace() || stmt.names[0] == "loop")
            fail("cannot assign attribute on non-namespace object");
        if (value.isNamespace() || value.holdsNamespace())
            fail("unsupported: storing a namespace inside a namespace");
        target.dictPtr()->set(Value(stmt.attr), std::move(value));
        return;
    }
    if (stmt.names.size() == 1) {
        scope->vars[stmt.names[0]] = std::move(value);
        return;
    }
    ValueList parts = value.isSequence() ? value.items() : iterate(value);
    if (parts.size() != stmt.names.size())
        fail("cannot unpack " + std::to_string(parts.size()) + " values into " + std::to_string(stmt.names.size())
             + " names");
    for (size_t i = 0; i < parts.size(); ++i)
        scope->vars[stmt.names[i]] = parts[i];
}

Value Interpreter::lookup(const std::string &name, const ScopePtr &scope) const
{
    for (const Scope *s = scope.get(); s; s = s->parent.get()) {
        auto it = s->vars.find(name);
        if (it != s->vars.end())
            return it->second;
    }
    return Value::undefined("'" + name + "' is undefined");
}

namespace {
bool mentions(const Expr *e, const std::string &name)
{
    if (!e)
        return false;
    if (e->kind == Expr::Kind::Name && e->name == name)
        return true;
    for (const auto &a : e->args)
        if (mentions(a.get(), name))
            return true;
    for (const auto &k : e->kwargs)
        if (mentions(k.second.get(), name))
            return true;
    return false;
}
bool mentions(const Body &body, const std::string &name)
{
    for (const auto &s : body) {
        if (mentions(s->expr.get(), name) || mentions(s->cond.get(), name) || mentions(s->filter.get(), name)
            || mentions(s->body, name) || mentions(s->elseBody, name))
            return true;
        for (const auto &c : s->conds)
            if (mentions(c.get(), name))
                return true;
        for (const auto &b : s->bodies)
            if (mentions(b, name))
                return true;
    }
    return false;
}
} // namespace

Value Interpreter::defineMacro(const Stmt &stmt, const ScopePtr &scope)
{
    auto fn = std::make_shared<Function>();
    fn->name = stmt.kind == Stmt::Kind::Macro ? stmt.text : "caller";
    std::weak_ptr<Scope> home = scope; // weak: the macro usually lives in that very scope
    const bool takesVarargs = mentions(stmt.body, "varargs");
    const bool takesKwargs = mentions(stmt.body, "kwargs");
    const bool takesCaller = mentions(stmt.body, "caller");
    const Stmt *def = &stmt;
    fn->call = [this, def, home, takesVarargs, takesKwargs, takesCaller, name = fn->name](const CallArgs &args) {
        if (m_macroDepth >= m_limits.maxMacroDepth)
            fail("macro '" + name + "' recursion deeper than " + std::to_string(m_limits.maxMacroDepth) + " calls");
        ++m_macroDepth;
        struct Exit
        {
            int &d;
            ~Exit() { --d; }
        } exit{m_macroDepth};
        step();
        auto frame = std::make_shared<Scope>();
        ScopePtr parent = home.lock();
        frame->parent = parent ? parent : m_root;
        const auto &params = def->params;
        if (args.positional.size() > params.size() && !takesVarargs)
            fail("macro '" + name + "' takes not more than " + std::to_string(params.size()) + " argument(s)");
        ValueList extra;
        for (size_t i = 0; i < args.positional.size(); ++i) {
            if (i < params.size())
                frame->vars[params[i].first] = args.positional[i];
            else
                extra.push_back(args.positional[i]);
        }
        auto extraKw = std::make_shared<Dict>();
        for (const auto &[k, v] : args.keyword) {
            bool known = false;
            for (const auto &p : params)
                known = known || p.first == k;
            if (known)
                frame->vars[k] = v;
            else if (k == "caller" && takesCaller)
                frame->vars[k] = v;
            else if (takesKwargs)
                extraKw->set(Value(k), v);
            else
                fail("macro '" + name + "' takes no keyword argument '" + k + "'");
        }
        for (const auto &[p, dflt] : params)
            if (!frame->vars.count(p))
                frame->vars[p] = dflt ? eval(*dflt, frame) : Value::undefined("parameter '" + p + "' was not provided");
        frame->vars["varargs"] = Value::list(std::move(extra));
        frame->vars["kwargs"] = Value::dict(extraKw);
        std::string out;
        renderBody(def->body, frame, out);
        return Value(std::move(out));
    };
    return Value::function(fn);
}

} // namespace lathe::jinja
