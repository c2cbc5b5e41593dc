// ArgParser: the small command-line parser every lathe-cli subcommand uses. Options are
// declared with their help text, so --help is generated from the same table that is
// parsed; anything the user gets wrong is a UsageError (exit code 2).
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace lathe::cli {

// Bad arguments: main() prints the message with a pointer to --help and exits 2.
class UsageError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

class ArgParser
{
public:
    ArgParser(std::string command, std::string synopsis, std::string description);

    // --name VALUE (or --name=VALUE). def is shown in --help and returned by value().
    ArgParser &option(const std::string &name, const std::string &valueName, const std::string &help,
                      const std::string &def = {});
    ArgParser &flag(const std::string &name, const std::string &help);
    ArgParser &positional(const std::string &name, const std::string &help, bool required = true);
    ArgParser &epilog(const std::string &text);

    // Returns false when --help was asked for (the help is printed to stdout).
    // Throws UsageError for an unknown option, a missing value or positional, or extras.
    bool parse(const std::vector<std::string> &args);

    bool has(const std::string &name) const; // given on the command line
    std::string value(const std::string &name) const; // given value or default
    // Every value of an option given more than once, in command-line order (empty if absent).
    std::vector<std::string> values(const std::string &name) const;
    // Typed values; UsageError names the option when the text is not a number in range.
    int64_t intValue(const std::string &name, int64_t lo, int64_t hi) const;
    double doubleValue(const std::string &name, double lo, double hi) const;
    uint64_t u64Value(const std::string &name) const;
    std::string positionalValue(size_t index) const; // empty if absent (optional ones)

    std::string help() const;
    const std::string &command() const { return m_command; }

private:
    struct Option
    {
        std::string name, valueName, help, def;
        bool isFlag = false;
    };
    struct Positional
    {
        std::string name, help;
        bool required = true;
    };
    const Option *find(const std::string &name) const;

    std::string m_command, m_synopsis, m_description, m_epilog;
    std::vector<Option> m_options;
    std::vector<Positional> m_positionals;
    std::map<std::string, std::string> m_values; // the last value of each option given
    std::map<std::string, std::vector<std::string>> m_allValues;
    std::vector<std::string> m_args;
};

// Whitespace- or comma-separated token ids; UsageError naming `what` on bad text.
std::vector<int32_t> parseIds(const std::string &text, const std::string &what);

} // namespace lathe::cli
