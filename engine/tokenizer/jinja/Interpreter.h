// Interpreter: renders a parsed template against variables with Jinja2's semantics
// (scoping, Undefined, loops, macros), inside fixed limits so hostile templates end
// with an Error instead of a hang, a stack overflow or an exhausted memory.
#pragma once

#include "tokenizer/jinja/Ast.h"
#include "tokenizer/jinja/Value.h"

#include "core/Error.h"

#include <ctime>
#include <memory>
#include <string>
#include <unordered_map>

namespace lathe::jinja {

struct Limits
{
    size_t maxOutputBytes = 32u << 20;   // also caps every string or list the template builds
    uint64_t maxSteps = 1'000'000;       // loop iterations, calls, statements, filters; real templates use < 10^4
    int maxMacroDepth = 64;              // Python Jinja2 fails near ~150; real templates use < 10
    int maxEvalDepth = 1500;             // nested evaluation frames, bounds C++ stack use
};

struct Scope
{
    std::unordered_map<std::string, Value> vars;
    std::shared_ptr<Scope> parent;
};

class Interpreter
{
public:
    Interpreter(const Limits &limits, std::tm now) : m_limits(limits), m_now(now) {}

    // Renders body with the given variables as the outermost scope.
    std::string render(const Body &body, const std::unordered_map<std::string, Value> &variables);

    // Used by filters and tests that take other filters or tests by name.
    Value callFilter(const std::string &name, const Value &operand, const CallArgs &args);
    bool callTest(const std::string &name, const Value &operand, const CallArgs &args);
    void checkSize(size_t bytes) const;
    const std::tm &now() const { return m_now; }

private:
    enum class Flow { Normal, Break, Continue };
    using ScopePtr = std::shared_ptr<Scope>;

    Flow renderBody(const Body &body, const ScopePtr &scope, std::string &out);
    Flow renderStmt(const Stmt &stmt, const ScopePtr &scope, std::string &out);
    Flow renderStmtInner(const Stmt &stmt, const ScopePtr &scope, std::string &out);
    static std::string withLine(const Error &e, int line);
    Flow renderFor(const Stmt &stmt, const ScopePtr &scope, std::string &out);
    void assign(const Stmt &stmt, const ScopePtr &scope, Value value);
    Value defineMacro(const Stmt &stmt, const ScopePtr &scope);

    Value eval(const Expr &e, const ScopePtr &scope);
    Value evalInner(const Expr &e, const ScopePtr &scope);
    Value evalBinary(const Expr &e, const ScopePtr &scope);
    Value evalCompare(const Expr &e, const ScopePtr &scope);
    Value evalCall(const Expr &e, const ScopePtr &scope);
    Value evalFilter(const Expr &e, const ScopePtr &scope, const Value *pipeInput);
    CallArgs evalArgs(const Expr &e, size_t first, const ScopePtr &scope);
    Value lookup(const std::string &name, const ScopePtr &scope) const;
    void step();

    struct DepthGuard
    {
        DepthGuard(Interpreter &in, int line);
        ~DepthGuard() { --m_in.m_evalDepth; }
        Interpreter &m_in;
    };

    Limits m_limits;
    std::tm m_now;
    ScopePtr m_root;
    uint64_t m_steps = 0;
    int m_evalDepth = 0;
    int m_macroDepth = 0;
    int m_line = 0; // the line being evaluated, for error messages
    std::unordered_map<const Stmt *, bool> m_usesLoop; // whether a for body reads 'loop'
};

} // namespace lathe::jinja
