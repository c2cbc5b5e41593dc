// PyString: Python's str methods on UTF-8 strings, shared by the method table and the
// filters (trim, title, replace, ...). Positions and lengths are in code points.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace lathe::jinja::pystr {

// chars == nullopt strips Unicode whitespace, as str.strip() does.
std::string strip(const std::string &s, const std::optional<std::string> &chars, bool left, bool right);
std::vector<std::string> split(const std::string &s, const std::optional<std::string> &sep, long long maxsplit);
std::vector<std::string> rsplit(const std::string &s, const std::optional<std::string> &sep, long long maxsplit);
std::vector<std::string> splitlines(const std::string &s, bool keepends);
std::string upper(const std::string &s);
std::string lower(const std::string &s);
std::string title(const std::string &s);      // str.title()
std::string capitalize(const std::string &s); // str.capitalize()
std::string replace(const std::string &s, const std::string &from, const std::string &to, long long count,
                    size_t maxBytes);
long long find(const std::string &s, const std::string &sub, bool reverse); // code point index or -1
long long count(const std::string &s, const std::string &sub);

} // namespace lathe::jinja::pystr
