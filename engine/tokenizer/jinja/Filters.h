// Filters: internal entry points shared by the two filter files.
#pragma once

#include "tokenizer/jinja/Value.h"

#include <optional>
#include <string>

namespace lathe::jinja {

class Interpreter;

// The argument at position pos or keyword name, or nullptr.
const Value *filterArg(const CallArgs &a, size_t pos, const std::string &name);

// Sequence filters (length, join, map, selectattr, sort, ...); nullopt if name is not one.
std::optional<Value> applySequenceFilter(Interpreter &interp, const std::string &name, const Value &v,
                                         const CallArgs &a);

} // namespace lathe::jinja
