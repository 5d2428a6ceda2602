// SPDX-License-Identifier: GPL-3.0-or-later
// TCP connections to numeric addresses, a byte Stream bounded by the Deadline, and a line reader
// that never buffers more than a fixed cap, so a hostile peer cannot make us hold megabytes.
#pragma once

#include "mailmon/deadline.hpp"
#include "mailmon/result.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailmon {

// "192.0.2.1:25" or "[2001:db8::1]:25", the form every message of this module uses.
std::string endpoint_name(std::string_view address, std::uint16_t port);

// An owned socket descriptor, closed on destruction. Move-only.
class Socket {
public:
    Socket() = default;
    explicit Socket(int fd) : fd_(fd) {}
    Socket(Socket&& other) noexcept;
    Socket& operator=(Socket&& other) noexcept;
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    ~Socket();

    int fd() const { return fd_; }
    bool valid() const { return fd_ >= 0; }

private:
    int fd_ = -1;
};

// Connects to a numeric IPv4 or IPv6 address (never a name: no resolver is asked) without
// blocking past the deadline. The socket is left non-blocking. Errors: Usage for an address
// that is not numeric, Connect for refused/unreachable ("cannot connect to 127.0.0.1:25:
// connection refused"), Timeout when the deadline expires, Internal when no socket can be made.
// Thread-safe.
Result<Socket> connect_tcp(const std::string& address, std::uint16_t port,
                           const Deadline& deadline);

// Waits until `fd` is readable (for_write false) or writable, at most until the deadline.
// Errors: Timeout ("cannot <what> <peer>: timed out"), Internal when poll(2) fails.
Status wait_for_socket(int fd, bool for_write, const Deadline& deadline, std::string_view what,
                       std::string_view peer);

// A bidirectional byte stream to one peer: a plain socket, or TLS over it. Both calls honour
// the absolute deadline, however slowly the peer sends. One Stream is used by one thread.
class Stream {
public:
    virtual ~Stream() = default;

    // Reads at least one and at most buffer.size() bytes. Returns 0 only at the peer's end of
    // stream. Errors: Timeout, Connect (reset), Tls (a broken TLS record).
    virtual Result<std::size_t> read_some(std::span<char> buffer, const Deadline& deadline) = 0;
    // Writes every byte of data. Errors as for read_some.
    virtual Status write_all(std::string_view data, const Deadline& deadline) = 0;
    // The peer as endpoint_name() prints it, for messages.
    virtual const std::string& peer() const = 0;
};

// A Stream over a connected, non-blocking socket it does not own.
class SocketStream final : public Stream {
public:
    SocketStream(const Socket& socket, std::string peer) : fd_(socket.fd()), peer_(std::move(peer))
    {
    }

    Result<std::size_t> read_some(std::span<char> buffer, const Deadline& deadline) override;
    Status write_all(std::string_view data, const Deadline& deadline) override;
    const std::string& peer() const override { return peer_; }

private:
    int fd_;
    std::string peer_;
};

// Reads CRLF-terminated lines (a bare LF is accepted) from a Stream. Its buffer is allocated
// once with `cap` bytes and never grows: a line longer than cap octets (line end included) is a
// Protocol error
// ("reply line longer than N octets") and the rest of it is not read. RFC 5321 §4.5.3.1.5
// allows 512 octets per reply line; the default cap leaves room for servers that exceed it.
class LineReader {
public:
    static constexpr std::size_t default_cap = 4096;

    explicit LineReader(Stream& stream, std::size_t cap = default_cap);

    // The next line without its line ending. Errors: those of Stream::read_some; Connect when
    // the peer closes before a line ends; Protocol for an over-long line.
    Result<std::string> read_line(const Deadline& deadline);
    // Reads until at least `count` bytes (or a whole line) are buffered, to look at the first
    // bytes of a peer before parsing them. Errors as for read_line.
    Status fill(std::size_t count, const Deadline& deadline);
    // Bytes received but not yet returned as a line.
    std::string_view pending() const;
    // Continues on another stream (after STARTTLS). Bytes still pending are dropped.
    void switch_stream(Stream& stream);

    std::size_t cap() const { return buffer_.size(); }
    Stream& stream() const { return *stream_; }

private:
    Status read_more(const Deadline& deadline);

    Stream* stream_;
    std::vector<char> buffer_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
};

} // namespace mailmon
