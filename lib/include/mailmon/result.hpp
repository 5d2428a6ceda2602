// SPDX-License-Identifier: GPL-3.0-or-later
// Result<T>: a value or a typed Error, returned by every fallible library function. A small
// stand-in for std::expected, to be swapped for it once the project may use C++23.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace mailmon {

// What went wrong, as a class the plugin maps to a state. The split between ResolveSoft and
// ResolveHard follows RFC 2308: SERVFAIL and timeouts may heal, NXDOMAIN and NODATA are answers.
enum class ErrorKind {
    Usage, // bad command-line option or value
    Config, // unusable configuration file or combination of options
    Timeout, // a deadline ran out; the message names the step
    ResolveSoft, // SERVFAIL, REFUSED, resolver timeout
    ResolveHard, // NXDOMAIN, NODATA
    Connect, // refused, unreachable, reset
    Protocol, // the peer spoke, but not the protocol we expected
    Tls, // handshake or TLS record failure
    Certificate, // certificate verification failed
    Internal, // a local failure or broken invariant: never the target's fault
};

// The kind as a short lowercase word, for diagnostics and JSON ("resolve-soft").
const char* to_string(ErrorKind kind);

// message is lowercase and reads "cannot <verb> <object>: <cause>"; it already names the host,
// port or query it concerns, so a plugin can print it unchanged.
struct Error {
    ErrorKind kind = ErrorKind::Internal;
    std::string message;
};

inline Error make_error(ErrorKind kind, std::string message)
{
    return Error{kind, std::move(message)};
}

// The value type for a Result that carries only success or an Error.
struct Unit {};

template <typename T> class [[nodiscard]] Result {
public:
    Result(T value) : content_(std::move(value)) {}
    Result(Error error) : content_(std::move(error)) {}

    bool ok() const { return std::holds_alternative<T>(content_); }
    explicit operator bool() const { return ok(); }

    // Calling value() on an error, or error() on a value, is a programming error:
    // std::bad_variant_access escapes to the plugin's single top-level catch.
    T& value() & { return std::get<T>(content_); }
    const T& value() const& { return std::get<T>(content_); }
    T&& value() && { return std::get<T>(std::move(content_)); }
    const Error& error() const { return std::get<Error>(content_); }

    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

private:
    std::variant<T, Error> content_;
};

using Status = Result<Unit>;

inline Status success()
{
    return Unit{};
}

} // namespace mailmon
