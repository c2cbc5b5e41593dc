// Ops: Python's operators and Jinja's attribute/item lookup on Values. Jinja2's rules:
// obj.name tries the Python attribute first and then obj['name']; obj[key] tries the
// item first and then, for a string key, the attribute; a miss yields Undefined with
// Jinja's hint text, and using an Undefined in an operation raises that hint.
#pragma once

#include "tokenizer/jinja/Value.h"

#include <string>

namespace lathe::jinja {

// maxBytes bounds strings and lists an operator may create (str * n, list + list, ...).
Value binaryOp(const std::string &op, const Value &a, const Value &b, size_t maxBytes);
Value unaryMinus(const Value &v);
bool contains(const Value &container, const Value &item);

Value getAttr(const Value &obj, const std::string &name);
Value getItem(const Value &obj, const Value &key);
Value sliceOf(const Value &obj, const Value &start, const Value &stop, const Value &step);

// The items a for loop (or list()) sees: list/tuple items, dict keys, string code points;
// Undefined iterates as empty. Other values raise "'int' object is not iterable".
ValueList iterate(const Value &v);

// Throws the Undefined's hint as an Error when v is Undefined.
void requireDefined(const Value &v);

// Python's type name for TypeError messages ("int", "str", "NoneType").
std::string pyTypeName(const Value &v);

// Bound methods of str, dict and list (Methods.cpp); nullptr-kind Undefined when none.
Value boundMethod(const Value &obj, const std::string &name);

} // namespace lathe::jinja
