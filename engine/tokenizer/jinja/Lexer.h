// Lexer: splits a template into text and tag tokens the way Jinja2's lexer does under
// Hugging Face's settings (trim_blocks, lstrip_blocks, keep_trailing_newline off),
// including the '-' and '+' whitespace controls and raw blocks. Comments vanish here.
#pragma once

#include <string>
#include <vector>

namespace lathe::jinja {

struct Token
{
    enum class Type { Data, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Op, Eof };
    Type type = Type::Eof;
    std::string text; // data text, name, decoded string literal, number digits, operator
    int line = 1;
};

// Throws lathe::Error ("chat template line N: ...") on unterminated tags, strings or
// comments and on characters no Jinja expression contains.
std::vector<Token> tokenize(const std::string &source);

} // namespace lathe::jinja
