// SPDX-License-Identifier: GPL-3.0-or-later
// Tests of the smtp module: reply and EHLO parsing from tables, and probe_smtp against fake
// servers that produce the faults a real MTA cannot.
#include "fake_server.hpp"
#include "mailmon/smtp.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using mailmon::Deadline;
using mailmon::ErrorKind;
using mailmon::Phase;

TEST_CASE("smtp: valid replies parse from a table")
{
    struct Row {
        std::string text;
        int code;
        std::string enhanced;
        std::vector<std::string> lines;
    };
    const std::vector<Row> rows = {
        {"220 mx.test ESMTP\r\n", 220, "", {"mx.test ESMTP"}},
        {"250-mx.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n",
         250,
         "",
         {"mx.test", "PIPELINING", "STARTTLS"}},
        {"554 5.7.1 Relay denied\r\n", 554, "5.7.1", {"5.7.1 Relay denied"}},
        {"250 2.0.0\r\n", 250, "2.0.0", {"2.0.0"}},
        {"451 4.3.0\n", 451, "4.3.0", {"4.3.0"}},
        {"250 5.7.1 class differs from code\r\n", 250, "", {"5.7.1 class differs from code"}},
        {"550 5.1.1234 too many digits\r\n", 550, "", {"5.1.1234 too many digits"}},
        {"250\r\n", 250, "", {""}},
        {"250-\r\n250 last\r\n", 250, "", {"", "last"}},
        {"220 bare LF\n", 220, "", {"bare LF"}},
    };
    for (const Row& row : rows) {
        CAPTURE(row.text);
        const auto reply = mailmon::parse_reply(row.text);
        REQUIRE(reply.ok());
        CHECK(reply->code == row.code);
        CHECK(reply->enhanced_code == row.enhanced);
        CHECK(reply->lines == row.lines);
    }
}

TEST_CASE("smtp: malformed replies are protocol errors with their cause")
{
    struct Row {
        std::string text;
        std::string cause;
    };
    const std::vector<Row> rows = {
        {"", "it is empty"},
        {"250-first\r\n", "the last line is missing"},
        {"250-a\r\n251 b\r\n", "reply code 251 follows 250 in one reply"},
        {"250OK\r\n", "no space after the reply code: '250OK'"},
        {"25 short\r\n", "not an SMTP reply line: '25 short'"},
        {"SSH-2.0-OpenSSH_9.2\r\n", "not an SMTP reply line: 'SSH-2.0-OpenSSH_9.2'"},
        {"650 out of range\r\n", "not an SMTP reply line: '650 out of range'"},
        {"\r\n", "not an SMTP reply line: ''"},
        {"250 a\r\n250 b\r\n", "a line follows the last one"},
        {"250 " + std::string(5000, 'x') + "\r\n", "reply line longer than 4096 octets"},
    };
    for (const Row& row : rows) {
        CAPTURE(row.text.substr(0, 40));
        const auto reply = mailmon::parse_reply(row.text);
        REQUIRE_FALSE(reply.ok());
        CHECK(reply.error().kind == ErrorKind::Protocol);
        CHECK(reply.error().message == "cannot parse SMTP reply: " + row.cause);
    }
}

TEST_CASE("smtp: every truncation of a multi-line reply is either complete or an error")
{
    const std::string full = "250-mx.test\r\n250-SIZE 10240000\r\n250 STARTTLS\r\n";
    for (std::size_t length = 0; length < full.size(); ++length) {
        CAPTURE(length);
        const auto reply = mailmon::parse_reply(std::string_view(full).substr(0, length));
        const std::string_view prefix = std::string_view(full).substr(0, length);
        // "250" alone on a line is a complete reply (RFC 5321 §4.2), so a cut right after a
        // code is complete too.
        const bool bare_code = prefix.size() >= 3 && prefix.substr(prefix.size() - 3) == "250" &&
                               (prefix.size() == 3 || prefix[prefix.size() - 4] == '\n');
        const bool last_code_complete = length >= full.rfind("250 ") + 3 || bare_code;
        CHECK(reply.ok() == last_code_complete);
    }
}

TEST_CASE("smtp: a reply longer than the line limit is refused")
{
    std::string text;
    for (std::size_t index = 0; index <= mailmon::max_reply_lines; ++index) {
        text += "250-x\r\n";
    }
    text += "250 end\r\n";
    const auto reply = mailmon::parse_reply(text);
    REQUIRE_FALSE(reply.ok());
    CHECK(reply.error().message == "cannot parse SMTP reply: reply longer than 128 lines");
}

TEST_CASE("smtp: EHLO keywords are case-insensitive and keep their parameters")
{
    const auto reply = mailmon::parse_reply("250-mx.test Hello\r\n"
                                            "250-size 10240000\r\n"
                                            "250-AUTH PLAIN LOGIN\r\n"
                                            "250-AUTH=PLAIN LOGIN\r\n"
                                            "250-8BITMIME\r\n"
                                            "250-pipelining\r\n"
                                            "250-  \r\n"
                                            "250 StartTLS\r\n");
    REQUIRE(reply.ok());
    const mailmon::Capabilities caps = mailmon::parse_ehlo(reply.value());
    CHECK(caps.greeting == "mx.test Hello");
    CHECK(caps.has("STARTTLS"));
    CHECK(caps.has("starttls"));
    CHECK(caps.has("PIPELINING"));
    CHECK(caps.has("8bitmime"));
    CHECK_FALSE(caps.has("CHUNKING"));
    CHECK(caps.size_limit() == 10240000U);
    CHECK(caps.params("auth") == std::vector<std::string>{"PLAIN", "LOGIN"});
    CHECK(caps.keywords.size() == 5);
}

TEST_CASE("smtp: SIZE without a number means no announced limit")
{
    const auto reply = mailmon::parse_reply("250-mx\r\n250 SIZE\r\n");
    REQUIRE(reply.ok());
    CHECK(mailmon::parse_ehlo(reply.value()).size_limit() == 0U);
    CHECK_FALSE(mailmon::parse_ehlo(mailmon::parse_reply("250 mx\r\n").value()).size_limit());
}

namespace {

// Runs a probe and checks it ended before the deadline plus a margin for the scheduler.
mailmon::ProbeResult run_probe(const mailmon::ProbeOptions& options,
                               std::chrono::milliseconds budget)
{
    const auto start = Deadline::Clock::now();
    mailmon::ProbeResult result = mailmon::probe_smtp(options, Deadline(budget));
    CHECK(Deadline::Clock::now() - start < budget + 500ms);
    return result;
}

void check_failure(const mailmon::ProbeResult& result, Phase phase, ErrorKind kind,
                   const std::string& message_part)
{
    REQUIRE(result.failure.has_value());
    CHECK(result.failure->phase == phase);
    CHECK(result.reached == phase);
    CHECK(result.failure->error.kind == kind);
    CHECK(result.failure->error.message.find(message_part) != std::string::npos);
    CHECK(result.seconds(phase).has_value());
}

} // namespace

TEST_CASE("smtp: a server silent after connect ends at the deadline in the banner phase")
{
    const fake::Server server(fake::wait_for_close);
    const auto result = run_probe(fake::options_for(server, mailmon::SmtpMode::StartTls), 1s);
    check_failure(result, Phase::Banner, ErrorKind::Timeout, "timed out");
    CHECK(result.failure->error.message ==
          "cannot read from 127.0.0.1:" + std::to_string(server.port()) + ": timed out");
    CHECK(result.seconds(Phase::Connect).has_value());
}

TEST_CASE("smtp: a banner dribbled at one byte per second still ends at the deadline")
{
    const fake::Server server([](int fd) {
        for (char c : std::string("220 slow.test ESMTP\r\n")) {
            if (!fake::send_text(fd, std::string(1, c))) {
                return;
            }
            std::this_thread::sleep_for(1s);
        }
    });
    const auto result = run_probe(fake::options_for(server, mailmon::SmtpMode::StartTls), 2500ms);
    check_failure(result, Phase::Banner, ErrorKind::Timeout, "timed out");
}

TEST_CASE("smtp: a 554 greeting fails the banner and keeps code and text")
{
    const fake::Server server([](int fd) {
        fake::send_text(fd, "554 5.3.2 no service here\r\n");
        fake::wait_for_close(fd);
    });
    const auto result = run_probe(fake::options_for(server, mailmon::SmtpMode::StartTls), 5s);
    check_failure(result, Phase::Banner, ErrorKind::Protocol,
                  ": the server answered 554 5.3.2 no service here");
    REQUIRE(result.banner.has_value());
    CHECK(result.banner->code == 554);
    CHECK(result.banner->enhanced_code == "5.3.2");
}

TEST_CASE("smtp: a banner that is not SMTP is a protocol error")
{
    const fake::Server server([](int fd) {
        fake::send_text(fd, "SSH-2.0-OpenSSH_9.2p1\r\n");
        fake::wait_for_close(fd);
    });
    const auto result = run_probe(fake::options_for(server, mailmon::SmtpMode::Plain), 5s);
    check_failure(result, Phase::Banner, ErrorKind::Protocol, "not an SMTP reply line");
}

TEST_CASE("smtp: STARTTLS missing from EHLO fails by name")
{
    const fake::Server server([](int fd) {
        fake::greet(fd, "250-fake.test\r\n250 PIPELINING\r\n");
        fake::wait_for_close(fd);
    });
    const auto result = run_probe(fake::options_for(server, mailmon::SmtpMode::StartTls), 5s);
    check_failure(result, Phase::StartTls, ErrorKind::Protocol, ": STARTTLS not offered");
    REQUIRE(result.capabilities.has_value());
    CHECK(result.capabilities->has("PIPELINING"));
    CHECK_FALSE(result.starttls_reply.has_value());
}

TEST_CASE("smtp: a 454 to STARTTLS is a failure with code and text")
{
    const fake::Server server([](int fd) {
        fake::greet(fd, "250-fake.test\r\n250 STARTTLS\r\n");
        fake::receive_line(fd);
        fake::send_text(fd, "454 4.7.0 TLS not available due to local problem\r\n");
        fake::wait_for_close(fd);
    });
    const auto result = run_probe(fake::options_for(server, mailmon::SmtpMode::StartTls), 5s);
    check_failure(result, Phase::StartTls, ErrorKind::Protocol,
                  "the server answered 454 4.7.0 TLS not available due to local problem");
    REQUIRE(result.starttls_reply.has_value());
    CHECK(result.starttls_reply->code == 454);
}

TEST_CASE("smtp: EHLO refused with 5xx falls back to HELO and records it")
{
    std::vector<std::string> commands;
    mailmon::ProbeResult result;
    {
        const fake::Server server([&commands](int fd) {
            fake::greet(fd, "502 5.5.2 command not recognised\r\n");
            commands.push_back(fake::receive_line(fd));
            fake::send_text(fd, "250 fake.test\r\n");
            commands.push_back(fake::receive_line(fd));
            fake::send_text(fd, "221 bye\r\n");
        });
        result = run_probe(fake::options_for(server, mailmon::SmtpMode::Plain), 5s);
    }
    CHECK(result.ok());
    CHECK(result.used_helo);
    CHECK(result.reached == Phase::Quit);
    REQUIRE(result.capabilities.has_value());
    CHECK(result.capabilities->keywords.empty());
    CHECK(commands == std::vector<std::string>{"HELO probe.test", "QUIT"});
}

TEST_CASE("smtp: a plain dialogue needs no 221 to QUIT")
{
    const fake::Server server([](int fd) {
        fake::greet(fd, "250-fake.test\r\n250 SIZE 1000\r\n");
        fake::receive_line(fd);
    });
    const auto result = run_probe(fake::options_for(server, mailmon::SmtpMode::Plain), 5s);
    CHECK(result.ok());
    CHECK(result.reached == Phase::Quit);
    CHECK(result.capabilities->size_limit() == 1000U);
    CHECK_FALSE(result.tls.has_value());
}

TEST_CASE("smtp: a TLS record on a plain port is named as such")
{
    const fake::Server server([](int fd) {
        // The start of a ServerHello record: handshake (22), TLS 1.2 record version.
        fake::send_text(fd, std::string("\x16\x03\x03\x00\x7a\x02\x00\x00\x76\x03\x03", 11));
        fake::wait_for_close(fd);
    });
    const auto result = run_probe(fake::options_for(server, mailmon::SmtpMode::StartTls), 5s);
    check_failure(result, Phase::Banner, ErrorKind::Protocol,
                  "the server speaks TLS at once (an implicit-TLS port?)");
}

TEST_CASE("smtp: a 2 MiB line is refused in the banner and in the EHLO reply")
{
    const std::string huge(std::size_t{2} * 1024 * 1024, 'x');
    SUBCASE("banner")
    {
        const fake::Server server([&huge](int fd) { fake::send_text(fd, "220 " + huge + "\r\n"); });
        const auto result = run_probe(fake::options_for(server, mailmon::SmtpMode::StartTls), 5s);
        check_failure(result, Phase::Banner, ErrorKind::Protocol,
                      "reply line longer than 4096 octets");
    }
    SUBCASE("EHLO reply")
    {
        const fake::Server server([&huge](int fd) { fake::greet(fd, "250-" + huge + "\r\n"); });
        const auto result = run_probe(fake::options_for(server, mailmon::SmtpMode::StartTls), 5s);
        check_failure(result, Phase::Ehlo, ErrorKind::Protocol,
                      "reply line longer than 4096 octets");
    }
}

TEST_CASE("smtp: a closed port fails the connect phase")
{
    std::uint16_t port = 0;
    {
        const fake::Server server([](int) {});
        port = server.port();
        (void)mailmon::connect_tcp("127.0.0.1", port, Deadline(5s));
    }
    mailmon::ProbeOptions options;
    options.address = "127.0.0.1";
    options.port = port;
    const auto result = mailmon::probe_smtp(options, Deadline(5s));
    REQUIRE(result.failure.has_value());
    CHECK(result.failure->phase == Phase::Connect);
    CHECK(result.failure->error.kind == ErrorKind::Connect);
    CHECK(result.failure->error.message ==
          "cannot connect to 127.0.0.1:" + std::to_string(port) + ": connection refused");
}

TEST_CASE("smtp: data sent after the 220 to STARTTLS is refused as injected")
{
    const fake::Server server([](int fd) {
        fake::greet(fd, "250-fake.test\r\n250 STARTTLS\r\n");
        fake::receive_line(fd);
        fake::send_text(fd, "220 go ahead\r\n250 injected\r\n");
        fake::wait_for_close(fd);
    });
    const auto result = run_probe(fake::options_for(server, mailmon::SmtpMode::StartTls), 5s);
    check_failure(result, Phase::StartTls, ErrorKind::Protocol,
                  ": the server sent data after its 220 to STARTTLS");
}

TEST_CASE("smtp: a 4xx to EHLO is a failure, not a reason to try HELO")
{
    const fake::Server server([](int fd) {
        fake::greet(fd, "421 4.3.2 shutting down\r\n");
        fake::wait_for_close(fd);
    });
    const auto result = run_probe(fake::options_for(server, mailmon::SmtpMode::StartTls), 5s);
    check_failure(result, Phase::Ehlo, ErrorKind::Protocol,
                  "cannot greet 127.0.0.1:" + std::to_string(server.port()) +
                      ": the server answered 421 4.3.2 shutting down");
    CHECK_FALSE(result.used_helo);
}
