// Error: the one exception type the engine throws for bad input and failed operations.
// Messages carry their context from the outside in ("loading x.gguf: tensor blk.3...:
// shape [...]"), built with withContext() as the error travels up. Programmer errors
// use assert; everything a user can cause is an Error and never aborts the process.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace lathe {

class Error : public std::runtime_error
{
public:
    explicit Error(const std::string &message) : std::runtime_error(message) {}
};

// Thrown when the host or a device cannot allocate what was asked; jobs catch it and
// fail with a message, the process stays up.
class OutOfMemoryError : public Error
{
public:
    using Error::Error;
};

[[noreturn]] inline void fail(const std::string &message)
{
    throw Error(message);
}

// Runs fn(); an Error escaping it is rethrown with "context: " in front.
template <typename Fn>
decltype(auto) withContext(const std::string &context, Fn &&fn)
{
    try {
        return std::forward<Fn>(fn)();
    } catch (const OutOfMemoryError &e) {
        throw OutOfMemoryError(context + ": " + e.what());
    } catch (const Error &e) {
        throw Error(context + ": " + e.what());
    }
}

} // namespace lathe
