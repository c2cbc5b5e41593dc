// Parser: turns tokens into statements and expressions with Jinja2's grammar and
// operator precedence. Syntax errors, unknown tags, unclosed blocks and nesting deeper
// than a fixed limit are lathe::Error naming the template line.
#pragma once

#include "tokenizer/jinja/Ast.h"
#include "tokenizer/jinja/Lexer.h"

#include <vector>

namespace lathe::jinja {

class Parser
{
public:
    explicit Parser(std::vector<Token> tokens) : m_tokens(std::move(tokens)) {}
    Body parseTemplate();

private:
    // statements (ParserStatements.cpp)
    Body parseBody(const std::vector<std::string> &endTags, std::string *endedBy);
    StmtPtr parseStatement();
    StmtPtr parseIf(int line);
    StmtPtr parseFor(int line);
    StmtPtr parseSet(int line);
    StmtPtr parseMacro(int line, bool isCall);
    StmtPtr parseFilterBlock(int line);
    void parseParams(std::vector<std::pair<std::string, ExprPtr>> &params);
    ExprPtr parseFilterChain(ExprPtr operand);

    // expressions (ParserExpressions.cpp)
    ExprPtr parseExpression(bool withCondExpr = true);
    ExprPtr parseTupleExpression(bool allowCond = true);
    ExprPtr parseOr();
    ExprPtr parseAnd();
    ExprPtr parseNot();
    ExprPtr parseCompare();
    ExprPtr parseMath1();
    ExprPtr parseConcat();
    ExprPtr parseMath2();
    ExprPtr parsePow();
    ExprPtr parseUnary(bool withFilter = true);
    ExprPtr parsePrimary();
    ExprPtr parsePostfix(ExprPtr node);
    ExprPtr parseFilterExpr(ExprPtr node);
    ExprPtr parseSubscript(ExprPtr node);
    void parseCallArgs(Expr &call);
    ExprPtr parseFilter(ExprPtr operand);
    ExprPtr parseTest(ExprPtr operand);

    // token helpers
    const Token &cur() const { return m_tokens[m_pos]; }
    const Token &peek(size_t ahead = 1) const;
    bool isOp(const char *op) const;
    bool isName(const char *name) const;
    void expectOp(const char *op);
    std::string expectName();
    void expectBlockEnd();
    [[noreturn]] void error(const std::string &msg) const;
    ExprPtr make(Expr::Kind kind, int line) const;

    // Recursion guard: every nested expression or block enters one.
    struct Depth
    {
        explicit Depth(Parser &p);
        ~Depth() { --m_p.m_depth; }
        Parser &m_p;
    };

    struct Chain
    {
        explicit Chain(Parser &p) : m_p(p) {}
        ~Chain();
        void next();
        Parser &m_p;
        int m_added = 0;
    };

    std::vector<Token> m_tokens;
    size_t m_pos = 0;
    int m_depth = 0;
    std::vector<std::string> m_openBlocks; // for "unclosed block" messages
};

} // namespace lathe::jinja
