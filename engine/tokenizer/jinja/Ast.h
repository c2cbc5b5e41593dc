// Ast: the parsed template. One Expr struct and one Stmt struct with a kind each keep
// the tree easy to walk; the comments beside each kind say which fields it uses.
#pragma once

#include "tokenizer/jinja/Value.h"

#include <memory>
#include <string>
#include <vector>

namespace lathe::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr
{
    enum class Kind {
        Literal,  // literal
        Name,     // name
        List,     // args: items
        Tuple,    // args: items
        Dict,     // args: k0, v0, k1, v1, ...
        GetAttr,  // args[0] . name
        GetItem,  // args[0] [ args[1] ]
        Slice,    // args[0] [ args[1] : args[2] : args[3] ] (null = omitted)
        Call,     // args[0] ( args[1..], kwargs )
        Filter,   // args[0] (null inside {% filter %}) | name ( args[1..], kwargs )
        Test,     // args[0] is [not] name ( args[1..] ); negated
        Unary,    // name in {not, -, +}; args[0]
        Binary,   // name in {+, -, *, /, //, %, **, ~, and, or, in, not in}; args[0], args[1]
        Compare,  // args[0] ops[0] args[1] ops[1] args[2] ...
        Cond,     // args[0] if args[1] else args[2] (args[2] may be null)
    };
    Kind kind = Kind::Literal;
    int line = 0;
    Value literal;
    std::string name;
    std::vector<ExprPtr> args;
    std::vector<std::pair<std::string, ExprPtr>> kwargs;
    std::vector<std::string> ops;
    bool negated = false;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt
{
    enum class Kind {
        Data,        // text
        Print,       // expr
        If,          // conds[i] -> bodies[i]; elseBody
        For,         // names (targets) in expr [if cond]; body; elseBody
        Set,         // names = expr, or nsAttr: names[0].attr = expr
        SetBlock,    // names[0] (or names[0].attr) = rendered body, through filter (may be null)
        Macro,       // text (name), params with defaults, body
        CallBlock,   // expr (the call), params of caller(), body
        FilterBlock, // filter (a Filter chain with a null operand at its root), body
        Break,
        Continue,
    };
    Kind kind = Kind::Data;
    int line = 0;
    std::string text;
    ExprPtr expr;
    ExprPtr cond;
    ExprPtr filter;
    std::vector<ExprPtr> conds;
    std::vector<Body> bodies;
    Body body;
    Body elseBody;
    std::vector<std::string> names;
    std::string attr;
    std::vector<std::pair<std::string, ExprPtr>> params;
};

} // namespace lathe::jinja
