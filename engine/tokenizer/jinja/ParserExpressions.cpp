// ParserExpressions: Jinja2's expression grammar, one function per precedence level,
// loosest first: conditional, or, and, not, comparisons (incl. in / not in), + -, ~,
// * / // %, **, unary - +, then primary with postfix (. [] ()) and filters / tests.
#include "tokenizer/jinja/Parser.h"

#include "core/Error.h"

#include <cerrno>
#include <cstdlib>

namespace lathe::jinja {

namespace {
constexpr int kMaxDepth = 500; // deeper trees are hostile; parsing, evaluation and destruction recurse
}

Parser::Depth::Depth(Parser &p) : m_p(p)
{
    if (++m_p.m_depth > kMaxDepth) {
        --m_p.m_depth;
        m_p.error("nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    }
}

Parser::Chain::~Chain()
{
    m_p.m_depth -= m_added;
}

void Parser::Chain::next()
{
    // Left-deep chains (a + b + c, x.y.z, v|f|g) deepen the tree without recursion here.
    ++m_added;
    if (++m_p.m_depth > kMaxDepth)
        m_p.error("expression nested deeper than " + std::to_string(kMaxDepth) + " levels");
}

const Token &Parser::peek(size_t ahead) const
{
    size_t i = m_pos + ahead;
    return i < m_tokens.size() ? m_tokens[i] : m_tokens.back();
}

bool Parser::isOp(const char *op) const
{
    return cur().type == Token::Type::Op && cur().text == op;
}

bool Parser::isName(const char *name) const
{
    return cur().type == Token::Type::Name && cur().text == name;
}

void Parser::error(const std::string &msg) const
{
    fail("chat template line " + std::to_string(cur().line) + ": " + msg);
}

void Parser::expectOp(const char *op)
{
    if (!isOp(op))
        error(std::string("expected '") + op + "'");
    ++m_pos;
}

std::string Parser::expectName()
{
    if (cur().type != Token::Type::Name)
        error("expected a name");
    return m_tokens[m_pos++].text;
}

ExprPtr Parser::make(Expr::Kind kind, int line) const
{
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
}

ExprPtr Parser::parseExpression(bool withCondExpr)
{
    Depth guard(*this);
    if (!withCondExpr)
        return parseOr();
    ExprPtr expr = parseOr();
    while (isName("if")) {
        int line = cur().line;
        ++m_pos;
        ExprPtr cond = parseOr();
        ExprPtr otherwise;
        if (isName("else")) {
            ++m_pos;
            otherwise = parseExpression(true);
        }
        auto node = make(Expr::Kind::Cond, line);
        node->args.push_back(std::move(expr));
        node->args.push_back(std::move(cond));
        node->args.push_back(std::move(otherwise));
        expr = std::move(node);
    }
    return expr;
}

// A comma-separated list becomes a tuple; a single expression stays itself.
ExprPtr Parser::parseTupleExpression(bool allowCond)
{
    int line = cur().line;
    std::vector<ExprPtr> items;
    bool sawComma = false;
    while (true) {
        if (!items.empty()) {
            if (!isOp(","))
                break;
            ++m_pos;
            sawComma = true;
        }
        if (cur().type == Token::Type::BlockEnd || cur().type == Token::Type::VarEnd || isOp(")")
            || (!allowCond && isName("if")))
            break;
        items.push_back(parseExpression(allowCond));
    }
    if (items.size() == 1 && !sawComma)
        return std::move(items[0]);
    if (items.empty() && !isOp(")"))
        error("expected an expression");
    auto node = make(Expr::Kind::Tuple, line);
    node->args = std::move(items);
    return node;
}

ExprPtr Parser::parseOr()
{
    ExprPtr left = parseAnd();
    Chain chain(*this);
    while (isName("or")) {
        chain.next();
        auto node = make(Expr::Kind::Binary, cur().line);
        ++m_pos;
        node->name = "or";
        node->args.push_back(std::move(left));
        node->args.push_back(parseAnd());
        left = std::move(node);
    }
    return left;
}

ExprPtr Parser::parseAnd()
{
    ExprPtr left = parseNot();
    Chain chain(*this);
    while (isName("and")) {
        chain.next();
        auto node = make(Expr::Kind::Binary, cur().line);
        ++m_pos;
        node->name = "and";
        node->args.push_back(std::move(left));
        node->args.push_back(parseNot());
        left = std::move(node);
    }
    return left;
}

ExprPtr Parser::parseNot()
{
    if (isName("not")) {
        Depth guard(*this);
        auto node = make(Expr::Kind::Unary, cur().line);
        ++m_pos;
        node->name = "not";
        node->args.push_back(parseNot());
        return node;
    }
    return parseCompare();
}

ExprPtr Parser::parseCompare()
{
    int line = cur().line;
    ExprPtr first = parseMath1();
    ExprPtr node;
    Chain chain(*this);
    while (true) {
        chain.next();
        std::string op;
        if (cur().type == Token::Type::Op
            && (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == ">"
                || cur().text == "<=" || cur().text == ">=")) {
            op = cur().text;
            ++m_pos;
        } else if (isName("in")) {
            op = "in";
            ++m_pos;
        } else if (isName("not") && peek().type == Token::Type::Name && peek().text == "in") {
            op = "not in";
            m_pos += 2;
        } else {
            break;
        }
        if (!node) {
            node = make(Expr::Kind::Compare, line);
            node->args.push_back(std::move(first));
        }
        node->ops.push_back(op);
        node->args.push_back(parseMath1());
    }
    return node ? std::move(node) : std::move(first);
}

namespace {
ExprPtr binary(ExprPtr node, const std::string &op, ExprPtr left, ExprPtr right)
{
    node->kind = Expr::Kind::Binary;
    node->name = op;
    node->args.push_back(std::move(left));
    node->args.push_back(std::move(right));
    return node;
}
} // namespace

ExprPtr Parser::parseMath1()
{
    ExprPtr left = parseConcat();
    Chain chain(*this);
    while (isOp("+") || isOp("-")) {
        chain.next();
        std::string op = cur().text;
        auto node = make(Expr::Kind::Binary, cur().line);
        ++m_pos;
        left = binary(std::move(node), op, std::move(left), parseConcat());
    }
    return left;
}

ExprPtr Parser::parseConcat()
{
    ExprPtr left = parseMath2();
    Chain chain(*this);
    while (isOp("~")) {
        chain.next();
        auto node = make(Expr::Kind::Binary, cur().line);
        ++m_pos;
        left = binary(std::move(node), "~", std::move(left), parseMath2());
    }
    return left;
}

ExprPtr Parser::parseMath2()
{
    ExprPtr left = parsePow();
    Chain chain(*this);
    while (isOp("*") || isOp("/") || isOp("//") || isOp("%")) {
        chain.next();
        std::string op = cur().text;
        auto node = make(Expr::Kind::Binary, cur().line);
        ++m_pos;
        left = binary(std::move(node), op, std::move(left), parsePow());
    }
    return left;
}

ExprPtr Parser::parsePow()
{
    ExprPtr left = parseUnary();
    Chain chain(*this);
    while (isOp("**")) {
        chain.next();
        auto node = make(Expr::Kind::Binary, cur().line);
        ++m_pos;
        left = binary(std::move(node), "**", std::move(left), parseUnary());
    }
    return left;
}

ExprPtr Parser::parseUnary(bool withFilter)
{
    Depth guard(*this);
    ExprPtr node;
    if (isOp("-") || isOp("+")) {
        node = make(Expr::Kind::Unary, cur().line);
        node->name = cur().text;
        ++m_pos;
        node->args.push_back(parseUnary(false));
    } else {
        node = parsePostfix(parsePrimary());
    }
    return withFilter ? parseFilterExpr(std::move(node)) : std::move(node);
}

ExprPtr Parser::parsePrimary()
{
    const Token &t = cur();
    int line = t.line;
    switch (t.type) {
    case Token::Type::Name: {
        ++m_pos;
        auto node = make(Expr::Kind::Literal, line);
        if (t.text == "true" || t.text == "True")
            node->literal = Value(true);
        else if (t.text == "false" || t.text == "False")
            node->literal = Value(false);
        else if (t.text == "none" || t.text == "None")
            node->literal = Value::none();
        else {
            node->kind = Expr::Kind::Name;
            node->name = t.text;
        }
        return node;
    }
    case Token::Type::String: {
        std::string s;
        while (cur().type == Token::Type::String) // adjacent literals concatenate
            s += m_tokens[m_pos++].text;
        auto node = make(Expr::Kind::Literal, line);
        node->literal = Value(std::move(s));
        return node;
    }
    case Token::Type::Int: {
        ++m_pos;
        errno = 0;
        long long v = std::strtoll(t.text.c_str(), nullptr, 10);
        if (errno == ERANGE)
            error("integer literal " + t.text + " is out of range");
        auto node = make(Expr::Kind::Literal, line);
        node->literal = Value(int64_t(v));
        return node;
    }
    case Token::Type::Float: {
        ++m_pos;
        auto node = make(Expr::Kind::Literal, line);
        node->literal = Value(std::strtod(t.text.c_str(), nullptr));
        return node;
    }
    case Token::Type::Op: {
        if (t.text == "(") {
            ++m_pos;
            ExprPtr inner = parseTupleExpression();
            expectOp(")");
            return inner;
        }
        if (t.text == "[" || t.text == "{") {
            bool isList = t.text == "[";
            ++m_pos;
            auto node = make(isList ? Expr::Kind::List : Expr::Kind::Dict, line);
            const char *close = isList ? "]" : "}";
            while (!isOp(close)) {
                if (!node->args.empty())
                    expectOp(",");
                if (isOp(close))
                    break; // trailing comma
                node->args.push_back(parseExpression());
                if (!isList) {
                    expectOp(":");
                    node->args.push_back(parseExpression());
                }
            }
            ++m_pos;
            return node;
        }
        error("unexpected '" + t.text + "'");
    }
    case Token::Type::Eof: error("unexpected end of template");
    default: error("unexpected end of tag, expected an expression");
    }
}

ExprPtr Parser::parsePostfix(ExprPtr node)
{
    Chain chain(*this);
    while (true) {
        chain.next();
        if (isOp(".") || isOp("["))
            node = parseSubscript(std::move(node));
        else if (isOp("(")) {
            auto call = make(Expr::Kind::Call, cur().line);
            call->args.push_back(std::move(node));
            parseCallArgs(*call);
            node = std::move(call);
        } else
            return node;
    }
}

ExprPtr Parser::parseFilterExpr(ExprPtr node)
{
    Chain chain(*this);
    while (true) {
        chain.next();
        if (isOp("|"))
            node = parseFilter(std::move(node));
        else if (isName("is"))
            node = parseTest(std::move(node));
        else if (isOp("(")) {
            auto call = make(Expr::Kind::Call, cur().line);
            call->args.push_back(std::move(node));
            parseCallArgs(*call);
            node = std::move(call);
        } else
            return node;
    }
}

ExprPtr Parser::parseSubscript(ExprPtr node)
{
    Depth guard(*this);
    int line = cur().line;
    if (isOp(".")) {
        ++m_pos;
        if (cur().type == Token::Type::Name) {
            auto attr = make(Expr::Kind::GetAttr, line);
            attr->name = m_tokens[m_pos++].text;
            attr->args.push_back(std::move(node));
            return attr;
        }
        if (cur().type == Token::Type::Int) {
            auto item = make(Expr::Kind::GetItem, line);
            item->args.push_back(std::move(node));
            item->args.push_back(parsePrimary());
            return item;
        }
        error("expected a name after '.'");
    }
    expectOp("[");
    // Either a plain index or a slice a:b:c with any part omitted.
    ExprPtr parts[3];
    int colons = 0;
    while (!isOp("]")) {
        if (isOp(":")) {
            if (++colons > 2)
                error("too many ':' in slice");
            ++m_pos;
            continue;
        }
        if (parts[colons])
            error("expected ']' or ':' in subscript");
        parts[colons] = parseExpression();
    }
    ++m_pos;
    if (colons == 0) {
        if (!parts[0])
            error("empty subscript");
        auto item = make(Expr::Kind::GetItem, line);
        item->args.push_back(std::move(node));
        item->args.push_back(std::move(parts[0]));
        return item;
    }
    auto slice = make(Expr::Kind::Slice, line);
    slice->args.push_back(std::move(node));
    for (auto &p : parts)
        slice->args.push_back(std::move(p));
    return slice;
}

void Parser::parseCallArgs(Expr &call)
{
    Depth guard(*this);
    expectOp("(");
    size_t parsed = 0;
    while (!isOp(")")) {
        if (parsed++ > 0)
            expectOp(",");
        if (isOp(")"))
            break;
        if (isOp("*") || isOp("**"))
            error("*args and **kwargs in calls are not supported");
        if (cur().type == Token::Type::Name && peek().type == Token::Type::Op && peek().text == "=") {
            std::string key = m_tokens[m_pos].text;
            m_pos += 2;
            call.kwargs.emplace_back(key, parseExpression());
        } else {
            if (!call.kwargs.empty())
                error("positional argument after keyword argument");
            call.args.push_back(parseExpression());
        }
    }
    ++m_pos;
}

ExprPtr Parser::parseFilter(ExprPtr operand)
{
    int line = cur().line;
    expectOp("|");
    auto node = make(Expr::Kind::Filter, line);
    node->name = expectName();
    while (isOp(".")) { // dotted filter names exist in Jinja; none are built in
        ++m_pos;
        node->name += '.';
        node->name += expectName();
    }
    node->args.push_back(std::move(operand));
    if (isOp("("))
        parseCallArgs(*node);
    return node;
}

ExprPtr Parser::parseTest(ExprPtr operand)
{
    int line = cur().line;
    ++m_pos; // 'is'
    auto node = make(Expr::Kind::Test, line);
    if (isName("not")) {
        node->negated = true;
        ++m_pos;
    }
    node->name = expectName();
    node->args.push_back(std::move(operand));
    if (isOp("(")) {
        parseCallArgs(*node);
    } else if ((cur().type == Token::Type::Name || cur().type == Token::Type::String || cur().type == Token::Type::Int
                || cur().type == Token::Type::Float || isOp("[") || isOp("{"))
               && !isName("else") && !isName("or") && !isName("and")) {
        if (isName("is"))
            error("you cannot chain multiple tests with is");
        node->args.push_back(parsePostfix(parsePrimary()));
    }
    return node;
}

} // namespace lathe::jinja
