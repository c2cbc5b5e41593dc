// Globals: the functions a chat template can call by name: range, namespace, dict,
// raise_exception and strftime_now (Hugging Face's additions), cycler and joiner.
#pragma once

#include "tokenizer/jinja/Value.h"

#include <string>
#include <unordered_map>

namespace lathe::jinja {

class Interpreter;

void addGlobals(std::unordered_map<std::string, Value> &vars, Interpreter &interp);

// Filters (Filters.cpp) and tests (Tests.cpp) by name; unknown names are an Error
// "unsupported filter 'x'" / "unsupported test 'x'".
Value applyFilter(Interpreter &interp, const std::string &name, const Value &operand, const CallArgs &args);
bool applyTest(Interpreter &interp, const std::string &name, const Value &operand, const CallArgs &args);

} // namespace lathe::jinja
