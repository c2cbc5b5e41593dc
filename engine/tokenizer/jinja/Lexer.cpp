// Lexer: Jinja2's tokenizer rules, re-expressed as a hand-written scanner. The whitespace
// rules are the subtle part: '-' strips all whitespace on that side, lstrip_blocks removes
// the spaces and tabs that start a line before '{%' or '{#' (not '{{', and not with '{%+'),
// and trim_blocks drops the one newline after '%}' or '#}' (not after '+%}').
#include "tokenizer/jinja/Lexer.h"

#include "tokenizer/jinja/Utf8.h"

#include "core/Error.h"

#include <cstring>

namespace lathe::jinja {

namespace {

[[noreturn]] void lexFail(int line, const std::string &msg)
{
    fail("chat template line " + std::to_string(line) + ": " + msg);
}

// Jinja normalizes \r\n and \r to \n and drops one trailing newline.
std::string normalize(const std::string &src)
{
    std::string out;
    out.reserve(src.size());
    for (size_t i = 0; i < src.size(); ++i) {
        if (src[i] == '\r') {
            out += '\n';
            if (i + 1 < src.size() && src[i + 1] == '\n')
                ++i;
        } else {
            out += src[i];
        }
    }
    if (!out.empty() && out.back() == '\n')
        out.pop_back();
    return out;
}

std::string rstripPy(const std::string &s)
{
    std::u32string u = utf8::decode(s);
    size_t n = u.size();
    while (n > 0 && utf8::isSpace(u[n - 1]))
        --n;
    return utf8::encode(u.substr(0, n));
}

// Skips Python \s whitespace starting at pos (ASCII fast path, then Unicode spaces).
size_t skipSpace(const std::string &s, size_t pos)
{
    while (pos < s.size()) {
        unsigned char c = static_cast<unsigned char>(s[pos]);
        if (c < 0x80) {
            if (!utf8::isSpace(c))
                break;
            ++pos;
            continue;
        }
        size_t len = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
        std::u32string u = utf8::decode(s.substr(pos, len));
        if (u.size() != 1 || !utf8::isSpace(u[0]))
            break;
        pos += len;
    }
    return pos;
}

bool isNameStart(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool isDigitChar(char c)
{
    return c >= '0' && c <= '9';
}

// Python's unicode-escape decoding of a string literal body, as Jinja applies it.
std::string unescape(const std::string &body, int line)
{
    std::string out;
    for (size_t i = 0; i < body.size(); ++i) {
        char c = body[i];
        if (c != '\\' || i + 1 >= body.size()) {
            out += c;
            continue;
        }
        char e = body[++i];
        auto hex = [&](size_t digits) {
            char32_t cp = 0;
            for (size_t k = 1; k <= digits; ++k) {
                if (i + k >= body.size())
                    lexFail(line, "truncated escape in string literal");
                char h = body[i + k];
                int v = isDigitChar(h) ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
                if (v < 0)
                    lexFail(line, "invalid escape in string literal");
                cp = cp * 16 + char32_t(v);
            }
            i += digits;
            if (cp > 0x10ffff)
                lexFail(line, "escape beyond U+10FFFF in string literal");
            utf8::append(out, cp);
        };
        switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '\n': break; // a backslash-newline continues the line
        case 'x': hex(2); break;
        case 'u': hex(4); break;
        case 'U': hex(8); break;
        default:
            if (e >= '0' && e <= '7') {
                int v = e - '0';
                for (int k = 0; k < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7'; ++k)
                    v = v * 8 + (body[++i] - '0');
                utf8::append(out, char32_t(v));
            } else {
                out += '\\'; // unknown escapes stay as written, as in Python
                out += e;
            }
        }
    }
    return out;
}

class Scanner
{
public:
    explicit Scanner(std::string src) : m_src(std::move(src)) {}

    std::vector<Token> run()
    {
        size_t pos = 0;
        while (pos < m_src.size()) {
            size_t start = findTagStart(pos);
            std::string data = m_src.substr(pos, start - pos);
            if (start >= m_src.size()) {
                emit(Token::Type::Data, data, pos);
                break;
            }
            char kind = m_src[start + 1];
            char sign = start + 2 < m_src.size() ? m_src[start + 2] : 0;
            bool lineStarting = pos == 0 || m_src[pos - 1] == '\n';
            if (sign == '-') {
                data = rstripPy(data);
            } else if (kind != '{' && sign != '+') {
                size_t l = data.size();
                while (l > 0 && (data[l - 1] == ' ' || data[l - 1] == '\t'))
                    --l;
                if ((l > 0 && data[l - 1] == '\n') || (l == 0 && lineStarting))
                    data.resize(l);
            }
            emit(Token::Type::Data, data, pos);
            size_t inner = start + 2 + ((sign == '-' || (sign == '+' && kind != '{')) ? 1 : 0);
            if (kind == '#')
                pos = comment(start, inner);
            else if (kind == '%' && isRaw(inner))
                pos = raw(start, inner);
            else
                pos = tag(start, inner, kind == '{');
        }
        Token eof;
        eof.type = Token::Type::Eof;
        eof.line = lineAt(m_src.size());
        m_tokens.push_back(eof);
        return std::move(m_tokens);
    }

private:
    size_t findTagStart(size_t pos) const
    {
        while (true) {
            size_t p = m_src.find('{', pos);
            if (p == std::string::npos || p + 1 >= m_src.size())
                return m_src.size();
            char k = m_src[p + 1];
            if (k == '{' || k == '%' || k == '#')
                return p;
            pos = p + 1;
        }
    }

    int lineAt(size_t pos)
    {
        // Positions only grow, so the count is kept incrementally.
        for (; m_linePos < pos && m_linePos < m_src.size(); ++m_linePos)
            if (m_src[m_linePos] == '\n')
                ++m_line;
        return m_line;
    }

    void emit(Token::Type type, std::string text, size_t pos)
    {
        if (type == Token::Type::Data && text.empty())
            return;
        Token t;
        t.type = type;
        t.text = std::move(text);
        t.line = lineAt(pos);
        m_tokens.push_back(std::move(t));
    }

    // After a block or comment end: '-' strips all whitespace, '+' nothing, else one '\n'.
    size_t afterBlockEnd(size_t pos, char marker)
    {
        if (marker == '-')
            return skipSpace(m_src, pos);
        if (marker != '+' && pos < m_src.size() && m_src[pos] == '\n')
            return pos + 1;
        return pos;
    }

    size_t comment(size_t start, size_t inner)
    {
        size_t end = m_src.find("#}", inner);
        if (end == std::string::npos)
            lexFail(lineAt(start), "missing end of comment tag");
        char marker = end > inner && (m_src[end - 1] == '-' || m_src[end - 1] == '+') ? m_src[end - 1] : 0;
        return afterBlockEnd(end + 2, marker);
    }

    bool isRaw(size_t inner) const
    {
        size_t p = skipSpace(m_src, inner);
        if (m_src.compare(p, 3, "raw") != 0 || (p + 3 < m_src.size() && (isNameStart(m_src[p + 3]) || isDigitChar(m_src[p + 3]))))
            return false;
        p = skipSpace(m_src, p + 3);
        return m_src.compare(p, 2, "%}") == 0 || m_src.compare(p, 3, "-%}") == 0;
    }

    size_t raw(size_t start, size_t inner)
    {
        size_t p = skipSpace(m_src, skipSpace(m_src, inner) + 3);
        if (m_src[p] == '-')
            p = skipSpace(m_src, p + 3);
        else
            p += 2;
        // Find '{%[-+]? endraw [-+]?%}'.
        size_t search = p;
        while (true) {
            size_t q = m_src.find("{%", search);
            if (q == std::string::npos)
                lexFail(lineAt(start), "missing end of raw directive");
            size_t r = q + 2;
            char sign = r < m_src.size() ? m_src[r] : 0;
            if (sign == '-' || sign == '+')
                ++r;
            r = skipSpace(m_src, r);
            if (m_src.compare(r, 6, "endraw") != 0) {
                search = q + 2;
                continue;
            }
            r = skipSpace(m_src, r + 6);
            char marker = 0;
            if (r < m_src.size() && (m_src[r] == '-' || m_src[r] == '+'))
                marker = m_src[r++];
            if (m_src.compare(r, 2, "%}") != 0) {
                search = q + 2;
                continue;
            }
            std::string body = m_src.substr(p, q - p);
            if (sign == '-') {
                body = rstripPy(body);
            } else if (sign != '+') {
                size_t l = body.size();
                while (l > 0 && (body[l - 1] == ' ' || body[l - 1] == '\t'))
                    --l;
                if (l > 0 && body[l - 1] == '\n')
                    body.resize(l);
            }
            emit(Token::Type::Data, body, p);
            return afterBlockEnd(r + 2, marker);
        }
    }

    size_t tag(size_t start, size_t pos, bool variable)
    {
        emit(variable ? Token::Type::VarBegin : Token::Type::BlockBegin, {}, start);
        std::string balance;
        while (true) {
            pos = skipSpace(m_src, pos);
            if (pos >= m_src.size())
                lexFail(lineAt(start), variable ? "unexpected end of template, expected '}}'"
                                                : "unexpected end of template, expected '%}'");
            if (balance.empty()) {
                const char *end = variable ? "}}" : "%}";
                if ((m_src[pos] == '-' || (!variable && m_src[pos] == '+')) && m_src.compare(pos + 1, 2, end) == 0) {
                    emit(variable ? Token::Type::VarEnd : Token::Type::BlockEnd, {}, pos);
                    char marker = m_src[pos];
                    if (variable)
                        return marker == '-' ? skipSpace(m_src, pos + 3) : pos + 3;
                    return afterBlockEnd(pos + 3, marker);
                }
                if (m_src.compare(pos, 2, end) == 0) {
                    emit(variable ? Token::Type::VarEnd : Token::Type::BlockEnd, {}, pos);
                    return variable ? pos + 2 : afterBlockEnd(pos + 2, 0);
                }
            }
            pos = exprToken(pos, balance);
        }
    }

    size_t exprToken(size_t pos, std::string &balance)
    {
        char c = m_src[pos];
        if (isNameStart(c)) {
            size_t e = pos + 1;
            while (e < m_src.size() && (isNameStart(m_src[e]) || isDigitChar(m_src[e])))
                ++e;
            emit(Token::Type::Name, m_src.substr(pos, e - pos), pos);
            return e;
        }
        if (isDigitChar(c))
            return number(pos);
        if (c == '\'' || c == '"') {
            size_t e = pos + 1;
            while (e < m_src.size() && m_src[e] != c)
                e += m_src[e] == '\\' ? 2 : 1;
            if (e >= m_src.size())
                lexFail(lineAt(pos), "unterminated string literal");
            int line = lineAt(pos);
            emit(Token::Type::String, unescape(m_src.substr(pos + 1, e - pos - 1), line), pos);
            return e + 1;
        }
        static const char *const twoChar[] = {"//", "**", "==", "!=", ">=", "<="};
        for (const char *op : twoChar)
            if (m_src.compare(pos, 2, op) == 0) {
                emit(Token::Type::Op, op, pos);
                return pos + 2;
            }
        if (std::strchr("+-/*%~[](){}<>=.:|,;", c) == nullptr || c == 0)
            lexFail(lineAt(pos), std::string("unexpected char '") + c + "'");
        if (c == '(' || c == '[' || c == '{') {
            if (balance.size() >= 256)
                lexFail(lineAt(pos), "brackets nested deeper than 256 levels");
            balance += c == '(' ? ')' : c == '[' ? ']' : '}';
        } else if (c == ')' || c == ']' || c == '}') {
            if (balance.empty() || balance.back() != c)
                lexFail(lineAt(pos), std::string("unexpected '") + c + "'");
            balance.pop_back();
        }
        emit(Token::Type::Op, std::string(1, c), pos);
        return pos + 1;
    }

    size_t number(size_t pos)
    {
        auto digits = [&](size_t p, std::string &out) {
            while (p < m_src.size() && (isDigitChar(m_src[p]) || (m_src[p] == '_' && p + 1 < m_src.size() && isDigitChar(m_src[p + 1])))) {
                if (m_src[p] != '_')
                    out += m_src[p];
                ++p;
            }
            return p;
        };
        std::string text;
        size_t p = digits(pos, text);
        bool isFloat = false;
        // A dot right after a number is a float only when digits follow ("1.5", not "x.0.y").
        bool afterDot = pos > 0 && m_src[pos - 1] == '.';
        if (!afterDot && p + 1 < m_src.size() && m_src[p] == '.' && isDigitChar(m_src[p + 1])) {
            text += '.';
            p = digits(p + 1, text);
            isFloat = true;
        }
        if (!afterDot && p < m_src.size() && (m_src[p] == 'e' || m_src[p] == 'E')) {
            size_t q = p + 1;
            std::string exp = "e";
            if (q < m_src.size() && (m_src[q] == '+' || m_src[q] == '-'))
                exp += m_src[q++];
            if (q < m_src.size() && isDigitChar(m_src[q])) {
                p = digits(q, exp);
                text += exp;
                isFloat = true;
            }
        }
        emit(isFloat ? Token::Type::Float : Token::Type::Int, text, pos);
        return p;
    }

    std::string m_src;
    std::vector<Token> m_tokens;
    size_t m_linePos = 0;
    int m_line = 1;
};

} // namespace

std::vector<Token> tokenize(const std::string &source)
{
    return Scanner(normalize(source)).run();
}

} // namespace lathe::jinja
