// SPDX-License-Identifier: GPL-3.0-or-later
// Non-blocking TCP connect, the plain-socket Stream and the bounded line reader.
#include "mailmon/net.hpp"

#include "sys_error.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <memory>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <system_error>
#include <unistd.h>

namespace mailmon {

std::string system_error_text(int error_number)
{
    std::string text = std::error_code(error_number, std::generic_category()).message();
    if (!text.empty()) {
        text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
    }
    return text;
}

std::string endpoint_name(std::string_view address, std::uint16_t port)
{
    const bool ipv6 = address.find(':') != std::string_view::npos;
    std::string name = ipv6 ? "[" + std::string(address) + "]" : std::string(address);
    return name + ":" + std::to_string(port);
}

Socket::Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

Socket& Socket::operator=(Socket&& other) noexcept
{
    if (this != &other) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

Socket::~Socket()
{
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

Status wait_for_socket(int fd, bool for_write, const Deadline& deadline, std::string_view what,
                       std::string_view peer)
{
    pollfd entry{fd, static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
    for (;;) {
        const int ready = ::poll(&entry, 1, deadline.remaining_ms());
        if (ready > 0) {
            return success();
        }
        if (ready == 0) {
            return make_error(ErrorKind::Timeout, "cannot " + std::string(what) + " " +
                                                      std::string(peer) + ": timed out");
        }
        if (errno != EINTR) {
            return make_error(ErrorKind::Internal, "cannot wait for " + std::string(peer) + ": " +
                                                       system_error_text(errno));
        }
    }
}

namespace {

struct AddrinfoFree {
    void operator()(addrinfo* list) const { ::freeaddrinfo(list); }
};

// Only numeric hosts are accepted, so getaddrinfo never asks a resolver; it is used because
// it also understands IPv6 scope identifiers ("fe80::1%eth0").
Result<std::unique_ptr<addrinfo, AddrinfoFree>> numeric_address(const std::string& address,
                                                                std::uint16_t port)
{
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    addrinfo* list = nullptr;
    const std::string service = std::to_string(port);
    const int status = ::getaddrinfo(address.c_str(), service.c_str(), &hints, &list);
    if (status != 0 || list == nullptr) {
        return make_error(ErrorKind::Usage, "cannot connect to " + endpoint_name(address, port) +
                                                ": not a numeric IPv4 or IPv6 address");
    }
    return std::unique_ptr<addrinfo, AddrinfoFree>(list);
}

ErrorKind connect_error_kind(int error_number)
{
    return error_number == ETIMEDOUT ? ErrorKind::Timeout : ErrorKind::Connect;
}

} // namespace

Result<Socket> connect_tcp(const std::string& address, std::uint16_t port, const Deadline& deadline)
{
    const std::string peer = endpoint_name(address, port);
    auto resolved = numeric_address(address, port);
    if (!resolved) {
        return resolved.error();
    }
    const addrinfo& target = *resolved.value();

    Socket socket(::socket(target.ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!socket.valid()) {
        return make_error(ErrorKind::Internal,
                          "cannot create a socket for " + peer + ": " + system_error_text(errno));
    }

    if (::connect(socket.fd(), target.ai_addr, target.ai_addrlen) == 0) {
        return socket;
    }
    if (errno != EINPROGRESS) {
        const int error_number = errno;
        return make_error(connect_error_kind(error_number),
                          "cannot connect to " + peer + ": " + system_error_text(error_number));
    }

    auto writable = wait_for_socket(socket.fd(), true, deadline, "connect to", peer);
    if (!writable) {
        return writable.error();
    }
    int error_number = 0;
    socklen_t length = sizeof error_number;
    if (::getsockopt(socket.fd(), SOL_SOCKET, SO_ERROR, &error_number, &length) != 0) {
        error_number = errno;
    }
    if (error_number != 0) {
        return make_error(connect_error_kind(error_number),
                          "cannot connect to " + peer + ": " + system_error_text(error_number));
    }
    return socket;
}

Result<std::size_t> SocketStream::read_some(std::span<char> buffer, const Deadline& deadline)
{
    for (;;) {
        const ssize_t count = ::recv(fd_, buffer.data(), buffer.size(), 0);
        if (count >= 0) {
            return static_cast<std::size_t>(count);
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            return make_error(ErrorKind::Connect,
                              "cannot read from " + peer_ + ": " + system_error_text(errno));
        }
        auto readable = wait_for_socket(fd_, false, deadline, "read from", peer_);
        if (!readable) {
            return readable.error();
        }
    }
}

Status SocketStream::write_all(std::string_view data, const Deadline& deadline)
{
    while (!data.empty()) {
        // MSG_NOSIGNAL: a peer that has gone must give an error, not a SIGPIPE for the process.
        const ssize_t count = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (count >= 0) {
            data.remove_prefix(static_cast<std::size_t>(count));
            continue;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            return make_error(ErrorKind::Connect,
                              "cannot write to " + peer_ + ": " + system_error_text(errno));
        }
        auto writable = wait_for_socket(fd_, true, deadline, "write to", peer_);
        if (!writable) {
            return writable.error();
        }
    }
    return success();
}

LineReader::LineReader(Stream& stream, std::size_t cap) : stream_(&stream), buffer_(cap) {}

std::string_view LineReader::pending() const
{
    return {buffer_.data() + begin_, end_ - begin_};
}

void LineReader::switch_stream(Stream& stream)
{
    stream_ = &stream;
    begin_ = 0;
    end_ = 0;
}

Status LineReader::read_more(const Deadline& deadline)
{
    if (end_ - begin_ >= buffer_.size()) {
        return make_error(ErrorKind::Protocol, "cannot read from " + stream_->peer() +
                                                   ": reply line longer than " +
                                                   std::to_string(buffer_.size()) + " octets");
    }
    // Compact only when the free tail is gone, so a long line is not copied on every read.
    if (end_ == buffer_.size()) {
        std::copy(buffer_.begin() + static_cast<std::ptrdiff_t>(begin_),
                  buffer_.begin() + static_cast<std::ptrdiff_t>(end_), buffer_.begin());
        end_ -= begin_;
        begin_ = 0;
    }
    const std::span<char> free_space(buffer_.data() + end_, buffer_.size() - end_);
    auto count = stream_->read_some(free_space, deadline);
    if (!count) {
        return count.error();
    }
    if (count.value() == 0) {
        return make_error(ErrorKind::Connect,
                          "cannot read from " + stream_->peer() + ": connection closed by peer");
    }
    end_ += count.value();
    return success();
}

Status LineReader::fill(std::size_t count, const Deadline& deadline)
{
    while (end_ - begin_ < count && pending().find('\n') == std::string_view::npos) {
        auto more = read_more(deadline);
        if (!more) {
            return more;
        }
    }
    return success();
}

Result<std::string> LineReader::read_line(const Deadline& deadline)
{
    std::size_t scanned = 0;
    for (;;) {
        const std::string_view window = pending();
        const std::size_t newline = window.find('\n', scanned);
        if (newline != std::string_view::npos) {
            std::string_view line = window.substr(0, newline);
            if (!line.empty() && line.back() == '\r') {
                line.remove_suffix(1);
            }
            std::string result(line);
            begin_ += newline + 1;
            return result;
        }
        scanned = window.size();
        auto more = read_more(deadline);
        if (!more) {
            return more.error();
        }
    }
}

} // namespace mailmon
