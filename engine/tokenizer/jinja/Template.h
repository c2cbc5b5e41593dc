// Template: a Jinja template compiled once and rendered many times, with the semantics
// of Python Jinja2 under Hugging Face's chat-template settings. Thread-safe to render
// concurrently: render() keeps all state on its own stack.
#pragma once

#include "tokenizer/jinja/Ast.h"
#include "tokenizer/jinja/Interpreter.h"

#include <ctime>
#include <memory>
#include <string>
#include <unordered_map>

namespace lathe::jinja {

class Template
{
public:
    // Throws lathe::Error "chat template line N: ..." on syntax errors and unsupported tags.
    explicit Template(const std::string &source);

    // Throws lathe::Error "chat template line N: ..." when rendering fails (raise_exception,
    // undefined values used in operations, unsupported filters, limits exceeded).
    std::string render(const std::unordered_map<std::string, Value> &variables, const std::tm &now,
                       const Limits &limits = {}) const;

private:
    std::shared_ptr<const Body> m_body;
};

} // namespace lathe::jinja
