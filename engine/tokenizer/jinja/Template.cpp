// Template: lexing and parsing at construction, a fresh Interpreter per render.
#include "tokenizer/jinja/Template.h"

#include "tokenizer/jinja/Lexer.h"
#include "tokenizer/jinja/Parser.h"

namespace lathe::jinja {

Template::Template(const std::string &source)
{
    Parser parser(tokenize(source));
    m_body = std::make_shared<const Body>(parser.parseTemplate());
}

std::string Template::render(const std::unordered_map<std::string, Value> &variables, const std::tm &now,
                             const Limits &limits) const
{
    Interpreter interp(limits, now);
    return interp.render(*m_body, variables);
}

} // namespace lathe::jinja
