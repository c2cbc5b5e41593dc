// ParserStatements: the block tags. Supported: if/elif/else, for/else (with a filter
// condition), set (plain, tuple, namespace attribute, block), macro, call, filter,
// break/continue (loopcontrols) and Hugging Face's generation marker. Anything else
// (include, extends, import, block, ...) is an error naming the tag and line.
#include "tokenizer/jinja/Parser.h"

#include "core/Error.h"

#include <algorithm>

namespace lathe::jinja {

Body Parser::parseTemplate()
{
    Body body = parseBody({}, nullptr);
    if (cur().type != Token::Type::Eof)
        error("unexpected token");
    return body;
}

void Parser::expectBlockEnd()
{
    if (cur().type != Token::Type::BlockEnd)
        error("expected end of statement block '%}'");
    ++m_pos;
}

Body Parser::parseBody(const std::vector<std::string> &endTags, std::string *endedBy)
{
    Depth guard(*this);
    Body body;
    while (true) {
        const Token &t = cur();
        if (t.type == Token::Type::Eof) {
            if (!endTags.empty())
                error("unexpected end of template: unclosed '" + (m_openBlocks.empty() ? endTags[0] : m_openBlocks.back())
                      + "' block, expected '" + endTags.back() + "'");
            return body;
        }
        if (t.type == Token::Type::Data) {
            auto s = std::make_unique<Stmt>();
            s->kind = Stmt::Kind::Data;
            s->line = t.line;
            s->text = t.text;
            body.push_back(std::move(s));
            ++m_pos;
            continue;
        }
        if (t.type == Token::Type::VarBegin) {
            auto s = std::make_unique<Stmt>();
            s->kind = Stmt::Kind::Print;
            s->line = t.line;
            ++m_pos;
            s->expr = parseTupleExpression();
            if (cur().type != Token::Type::VarEnd)
                error("expected end of print statement '}}'");
            ++m_pos;
            body.push_back(std::move(s));
            continue;
        }
        if (t.type != Token::Type::BlockBegin)
            error("unexpected token");
        ++m_pos;
        if (cur().type != Token::Type::Name)
            error("expected a tag name after '{%'");
        const std::string &tag = cur().text;
        if (std::find(endTags.begin(), endTags.end(), tag) != endTags.end()) {
            *endedBy = tag;
            ++m_pos;
            return body;
        }
        body.push_back(parseStatement());
    }
}

StmtPtr Parser::parseStatement()
{
    const std::string tag = cur().text;
    int line = cur().line;
    ++m_pos;
    if (tag == "if")
        return parseIf(line);
    if (tag == "for")
        return parseFor(line);
    if (tag == "set")
        return parseSet(line);
    if (tag == "macro")
        return parseMacro(line, false);
    if (tag == "call")
        return parseMacro(line, true);
    if (tag == "filter")
        return parseFilterBlock(line);
    if (tag == "break" || tag == "continue") {
        auto inLoop = std::find_if(m_openBlocks.rbegin(), m_openBlocks.rend(),
                                   [](const std::string &b) { return b == "for" || b == "macro" || b == "call"; });
        if (inLoop == m_openBlocks.rend() || *inLoop != "for")
            error("'" + tag + "' outside of a loop");
        expectBlockEnd();
        auto s = std::make_unique<Stmt>();
        s->kind = tag == "break" ? Stmt::Kind::Break : Stmt::Kind::Continue;
        s->line = line;
        return s;
    }
    if (tag == "generation") {
        // Hugging Face's AssistantTracker marks assistant spans; the text renders as is.
        expectBlockEnd();
        m_openBlocks.push_back(tag);
        std::string ended;
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::FilterBlock;
        s->line = line;
        s->body = parseBody({"endgeneration"}, &ended);
        expectBlockEnd();
        m_openBlocks.pop_back();
        return s;
    }
    m_pos--;
    if (tag.rfind("end", 0) == 0 || tag == "else" || tag == "elif")
        error("unexpected '" + tag + "' tag" + (m_openBlocks.empty() ? "" : " inside '" + m_openBlocks.back() + "' block"));
    error("unsupported tag '" + tag + "'");
}

StmtPtr Parser::parseIf(int line)
{
    auto s = std::make_unique<Stmt>();
    s->kind = Stmt::Kind::If;
    s->line = line;
    m_openBlocks.push_back("if");
    s->conds.push_back(parseTupleExpression());
    expectBlockEnd();
    while (true) {
        std::string ended;
        Body body = parseBody({"elif", "else", "endif"}, &ended);
        if (ended == "elif") {
            s->bodies.push_back(std::move(body));
            s->conds.push_back(parseTupleExpression());
            expectBlockEnd();
            continue;
        }
        if (ended == "else") {
            s->bodies.push_back(std::move(body));
            expectBlockEnd();
            s->elseBody = parseBody({"endif"}, &ended);
            expectBlockEnd();
            break;
        }
        s->bodies.push_back(std::move(body));
        expectBlockEnd();
        break;
    }
    m_openBlocks.pop_back();
    return s;
}

StmtPtr Parser::parseFor(int line)
{
    auto s = std::make_unique<Stmt>();
    s->kind = Stmt::Kind::For;
    s->line = line;
    bool paren = isOp("(");
    if (paren)
        ++m_pos;
    s->names.push_back(expectName());
    while (isOp(",")) {
        ++m_pos;
        if (isName("in") || isOp(")"))
            break;
        s->names.push_back(expectName());
    }
    if (paren)
        expectOp(")");
    if (!isName("in"))
        error("expected 'in' in for loop");
    ++m_pos;
    s->expr = parseTupleExpression(false);
    if (isName("if")) {
        ++m_pos;
        s->cond = parseExpression();
    }
    if (isName("recursive"))
        error("unsupported construct 'recursive' loop");
    expectBlockEnd();
    m_openBlocks.push_back("for");
    std::string ended;
    s->body = parseBody({"else", "endfor"}, &ended);
    if (ended == "else") {
        expectBlockEnd();
        m_openBlocks.back() = "for-else"; // break/continue are not allowed in the else part
        s->elseBody = parseBody({"endfor"}, &ended);
    }
    expectBlockEnd();
    m_openBlocks.pop_back();
    return s;
}

StmtPtr Parser::parseSet(int line)
{
    auto s = std::make_unique<Stmt>();
    s->line = line;
    s->names.push_back(expectName());
    if (isOp(".")) {
        ++m_pos;
        s->attr = expectName();
    } else {
        while (isOp(",")) {
            ++m_pos;
            if (isOp("="))
                break;
            s->names.push_back(expectName());
        }
    }
    if (isOp("=")) {
        ++m_pos;
        s->kind = Stmt::Kind::Set;
        s->expr = parseTupleExpression();
        expectBlockEnd();
        return s;
    }
    if (s->names.size() != 1)
        error("expected '=' in set");
    s->kind = Stmt::Kind::SetBlock;
    if (isOp("|"))
        s->filter = parseFilterChain(nullptr);
    expectBlockEnd();
    m_openBlocks.push_back("set");
    std::string ended;
    s->body = parseBody({"endset"}, &ended);
    expectBlockEnd();
    m_openBlocks.pop_back();
    return s;
}

void Parser::parseParams(std::vector<std::pair<std::string, ExprPtr>> &params)
{
    expectOp("(");
    while (!isOp(")")) {
        if (!params.empty())
            expectOp(",");
        if (isOp(")"))
            break;
        std::string name = expectName();
        ExprPtr def;
        if (isOp("=")) {
            ++m_pos;
            def = parseExpression();
        } else if (!params.empty() && params.back().second) {
            error("non-default argument follows default argument");
        }
        params.emplace_back(name, std::move(def));
    }
    ++m_pos;
}

StmtPtr Parser::parseMacro(int line, bool isCall)
{
    auto s = std::make_unique<Stmt>();
    s->kind = isCall ? Stmt::Kind::CallBlock : Stmt::Kind::Macro;
    s->line = line;
    if (isCall) {
        if (isOp("("))
            parseParams(s->params);
        s->expr = parseExpression();
        if (s->expr->kind != Expr::Kind::Call)
            error("expected a call after 'call'");
    } else {
        s->text = expectName();
        parseParams(s->params);
    }
    expectBlockEnd();
    m_openBlocks.push_back(isCall ? "call" : "macro");
    std::string ended;
    s->body = parseBody({isCall ? "endcall" : "endmacro"}, &ended);
    if (!isCall && cur().type == Token::Type::Name)
        ++m_pos; // {% endmacro name %}
    expectBlockEnd();
    m_openBlocks.pop_back();
    return s;
}

ExprPtr Parser::parseFilterChain(ExprPtr operand)
{
    // The first filter may come without the leading '|' ({% filter trim %}).
    if (!isOp("|")) {
        auto node = make(Expr::Kind::Filter, cur().line);
        node->name = expectName();
        node->args.push_back(std::move(operand));
        if (isOp("("))
            parseCallArgs(*node);
        operand = std::move(node);
    }
    while (isOp("|"))
        operand = parseFilter(std::move(operand));
    return operand;
}

StmtPtr Parser::parseFilterBlock(int line)
{
    auto s = std::make_unique<Stmt>();
    s->kind = Stmt::Kind::FilterBlock;
    s->line = line;
    s->filter = parseFilterChain(nullptr);
    expectBlockEnd();
    m_openBlocks.push_back("filter");
    std::string ended;
    s->body = parseBody({"endfilter"}, &ended);
    expectBlockEnd();
    m_openBlocks.pop_back();
    return s;
}

} // namespace lathe::jinja
