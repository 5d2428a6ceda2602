// SPDX-License-Identifier: GPL-3.0-or-later
// Tests of the net module: the bounded line reader over a scripted stream, and connect
// outcomes on loopback.
#include "fake_server.hpp"
#include "mailmon/net.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using mailmon::Deadline;
using mailmon::ErrorKind;
using mailmon::LineReader;

namespace {

// A stream that hands out prepared chunks, one per read, then end of stream; it counts the
// bytes it handed out so a test can prove the reader stopped reading.
class ScriptedStream final : public mailmon::Stream {
public:
    explicit ScriptedStream(std::vector<std::string> chunks) : chunks_(std::move(chunks)) {}

    mailmon::Result<std::size_t> read_some(std::span<char> buffer, const Deadline&) override
    {
        if (next_ == chunks_.size()) {
            return std::size_t{0};
        }
        std::string& chunk = chunks_[next_];
        const std::size_t count = std::min(buffer.size(), chunk.size());
        std::copy_n(chunk.begin(), count, buffer.begin());
        chunk.erase(0, count);
        next_ += chunk.empty() ? 1 : 0;
        handed_out_ += count;
        return count;
    }
    mailmon::Status write_all(std::string_view, const Deadline&) override
    {
        return mailmon::success();
    }
    const std::string& peer() const override { return peer_; }

    std::size_t handed_out() const { return handed_out_; }

private:
    std::vector<std::string> chunks_;
    std::size_t next_ = 0;
    std::size_t handed_out_ = 0;
    std::string peer_ = "192.0.2.1:25";
};

std::vector<std::string> read_all_lines(LineReader& reader)
{
    std::vector<std::string> lines;
    const Deadline deadline(5s);
    for (auto line = reader.read_line(deadline); line; line = reader.read_line(deadline)) {
        lines.push_back(line.value());
    }
    return lines;
}

} // namespace

TEST_CASE("net: endpoint names bracket IPv6 addresses")
{
    CHECK(mailmon::endpoint_name("127.0.0.1", 25) == "127.0.0.1:25");
    CHECK(mailmon::endpoint_name("::1", 465) == "[::1]:465");
}

TEST_CASE("net: the line reader splits CRLF and bare LF lines across chunk boundaries")
{
    ScriptedStream stream({"220 a\r", "\n250-b\n250 ", "c\r\n", "\r\n"});
    LineReader reader(stream);
    CHECK(read_all_lines(reader) == std::vector<std::string>{"220 a", "250-b", "250 c", ""});
}

TEST_CASE("net: a line cut off by the end of stream is a connect error")
{
    ScriptedStream stream({"220 no end"});
    LineReader reader(stream);
    const auto line = reader.read_line(Deadline(5s));
    REQUIRE_FALSE(line.ok());
    CHECK(line.error().kind == ErrorKind::Connect);
    CHECK(line.error().message == "cannot read from 192.0.2.1:25: connection closed by peer");
}

TEST_CASE("net: a 2 MiB line is refused without reading more than the cap")
{
    constexpr std::size_t cap = 4096;
    std::vector<std::string> chunks(32, std::string(std::size_t{64} * 1024, 'x'));
    chunks.back() += "\r\n";
    ScriptedStream stream(chunks);
    LineReader reader(stream, cap);

    const auto line = reader.read_line(Deadline(5s));
    REQUIRE_FALSE(line.ok());
    CHECK(line.error().kind == ErrorKind::Protocol);
    CHECK(line.error().message ==
          "cannot read from 192.0.2.1:25: reply line longer than 4096 octets");
    CHECK(stream.handed_out() <= cap);
    CHECK(reader.pending().size() <= cap);
    CHECK(reader.cap() == cap);
}

TEST_CASE("net: a line of exactly the cap, line end included, is accepted")
{
    const std::string text(4094, 'y');
    ScriptedStream stream({"1\r\n" + text + "\r\n"});
    LineReader reader(stream, 4096);
    CHECK(read_all_lines(reader) == std::vector<std::string>{"1", text});
}

TEST_CASE("net: a closed port refuses the connection by name")
{
    int port = 0;
    {
        const fake::Server server([](int) {});
        port = server.port();
        // Connect once so the server thread ends; then the port is closed.
        auto socket = mailmon::connect_tcp("127.0.0.1", server.port(), Deadline(5s));
        REQUIRE(socket.ok());
    }
    const auto socket =
        mailmon::connect_tcp("127.0.0.1", static_cast<std::uint16_t>(port), Deadline(5s));
    REQUIRE_FALSE(socket.ok());
    CHECK(socket.error().kind == ErrorKind::Connect);
    CHECK(socket.error().message ==
          "cannot connect to 127.0.0.1:" + std::to_string(port) + ": connection refused");
}

TEST_CASE("net: a name instead of a numeric address is a usage error")
{
    const auto socket = mailmon::connect_tcp("localhost", 25, Deadline(5s));
    REQUIRE_FALSE(socket.ok());
    CHECK(socket.error().kind == ErrorKind::Usage);
}

TEST_CASE("net: a socket stream reads what the peer sent and times out on silence")
{
    const fake::Server server([](int fd) {
        fake::send_text(fd, "hello\n");
        fake::wait_for_close(fd);
    });
    auto socket = mailmon::connect_tcp("127.0.0.1", server.port(), Deadline(5s));
    REQUIRE(socket.ok());
    mailmon::SocketStream stream(socket.value(), "127.0.0.1:x");
    LineReader reader(stream);
    CHECK(reader.read_line(Deadline(5s)).value() == "hello");

    const auto silent = reader.read_line(Deadline(200ms));
    REQUIRE_FALSE(silent.ok());
    CHECK(silent.error().kind == ErrorKind::Timeout);
    CHECK(silent.error().message == "cannot read from 127.0.0.1:x: timed out");
}
