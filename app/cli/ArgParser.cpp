// Parsing and help generation for ArgParser (see ArgParser.h).
#include "ArgParser.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace lathe::cli {

ArgParser::ArgParser(std::string command, std::string synopsis, std::string description)
    : m_command(std::move(command)), m_synopsis(std::move(synopsis)), m_description(std::move(description))
{
    flag("help", "show this help and exit");
}

ArgParser &ArgParser::option(const std::string &name, const std::string &valueName, const std::string &help,
                             const std::string &def)
{
    m_options.push_back({name, valueName, help, def, false});
    return *this;
}

ArgParser &ArgParser::flag(const std::string &name, const std::string &help)
{
    m_options.push_back({name, {}, help, {}, true});
    return *this;
}

ArgParser &ArgParser::positional(const std::string &name, const std::string &help, bool required)
{
    m_positionals.push_back({name, help, required});
    return *this;
}

ArgParser &ArgParser::epilog(const std::string &text)
{
    m_epilog = text;
    return *this;
}

const ArgParser::Option *ArgParser::find(const std::string &name) const
{
    for (const Option &o : m_options)
        if (o.name == name)
            return &o;
    return nullptr;
}

bool ArgParser::parse(const std::vector<std::string> &args)
{
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string &a = args[i];
        if (a.size() > 2 && a.compare(0, 2, "--") == 0) {
            std::string name = a.substr(2), val;
            const size_t eq = name.find('=');
            const bool inlineValue = eq != std::string::npos;
            if (inlineValue) {
                val = name.substr(eq + 1);
                name = name.substr(0, eq);
            }
            const Option *o = find(name);
            if (!o)
                throw UsageError("unknown option --" + name);
            if (o->isFlag) {
                if (inlineValue)
                    throw UsageError("option --" + name + " takes no value");
                m_values.insert_or_assign(name, std::string(1, '1'));
                continue;
            }
            if (!inlineValue) {
                if (i + 1 >= args.size())
                    throw UsageError("option --" + name + " needs a value (" + o->valueName + ")");
                val = args[++i];
            }
            m_values[name] = val;
            m_allValues[name].push_back(val);
        } else if (a.size() > 1 && a[0] == '-' && !(a[1] >= '0' && a[1] <= '9')) {
            throw UsageError("unknown option " + a + " (options start with --)");
        } else {
            m_args.push_back(a);
        }
    }
    if (has("help")) {
        std::fputs(help().c_str(), stdout);
        return false;
    }
    if (m_args.size() > m_positionals.size())
        throw UsageError("unexpected argument '" + m_args[m_positionals.size()] + "'");
    for (size_t i = m_args.size(); i < m_positionals.size(); ++i)
        if (m_positionals[i].required)
            throw UsageError("missing " + m_positionals[i].name);
    return true;
}

bool ArgParser::has(const std::string &name) const
{
    return m_values.count(name) != 0;
}

std::string ArgParser::value(const std::string &name) const
{
    if (auto it = m_values.find(name); it != m_values.end())
        return it->second;
    const Option *o = find(name);
    return o ? o->def : std::string();
}

std::vector<std::string> ArgParser::values(const std::string &name) const
{
    const auto it = m_allValues.find(name);
    return it == m_allValues.end() ? std::vector<std::string>() : it->second;
}

int64_t ArgParser::intValue(const std::string &name, int64_t lo, int64_t hi) const
{
    const std::string s = value(name);
    char *end = nullptr;
    errno = 0;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || errno == ERANGE || v < lo || v > hi)
        throw UsageError("--" + name + " expects an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                         "], got '" + s + "'");
    return v;
}

double ArgParser::doubleValue(const std::string &name, double lo, double hi) const
{
    const std::string s = value(name);
    char *end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !std::isfinite(v) || v < lo || v > hi) {
        std::ostringstream msg;
        msg << "--" << name << " expects a number in [" << lo << ", " << hi << "], got '" << s << "'";
        throw UsageError(msg.str());
    }
    return v;
}

uint64_t ArgParser::u64Value(const std::string &name) const
{
    const std::string s = value(name);
    char *end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    if (s.empty() || s[0] == '-' || *end != '\0' || errno == ERANGE)
        throw UsageError("--" + name + " expects a non-negative integer, got '" + s + "'");
    return v;
}

std::string ArgParser::positionalValue(size_t index) const
{
    return index < m_args.size() ? m_args[index] : std::string();
}

std::string ArgParser::help() const
{
    std::ostringstream out;
    out << "Usage: lathe-cli " << m_command << " " << m_synopsis << "\n\n" << m_description << "\n";
    if (!m_positionals.empty()) {
        out << "\nArguments:\n";
        for (const Positional &p : m_positionals)
            out << "  " << p.name << std::string(p.name.size() < 24 ? 24 - p.name.size() : 1, ' ') << p.help
                << "\n";
    }
    out << "\nOptions:\n";
    for (const Option &o : m_options) {
        std::string left = "--" + o.name + (o.isFlag ? "" : " " + o.valueName);
        out << "  " << left << std::string(left.size() < 24 ? 24 - left.size() : 1, ' ') << o.help;
        if (!o.def.empty())
            out << " (default " << o.def << ")";
        out << "\n";
    }
    out << "  --log-level LEVEL       trace, debug, info, warn, error or off (default warn; env LATHE_LOG)\n";
    if (!m_epilog.empty())
        out << "\n" << m_epilog << "\n";
    return out.str();
}

std::vector<int32_t> parseIds(const std::string &text, const std::string &what)
{
    std::vector<int32_t> ids;
    std::string token;
    auto flush = [&] {
        if (token.empty())
            return;
        char *end = nullptr;
        errno = 0;
        const long v = std::strtol(token.c_str(), &end, 10);
        if (*end != '\0' || errno == ERANGE || v < 0 || v > INT32_MAX)
            throw UsageError(what + ": '" + token + "' is not a token id");
        ids.push_back(int32_t(v));
        token.clear();
    };
    for (char ch : text) {
        if (ch == ' ' || ch == ',' || ch == '\n' || ch == '\t' || ch == '\r')
            flush();
        else
            token += ch;
    }
    flush();
    return ids;
}

} // namespace lathe::cli
