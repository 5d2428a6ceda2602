// SPDX-License-Identifier: GPL-3.0-or-later
// check_smtp_tls's rules without a network: port plans, TLSA and address answers, and the
// verdict of an endpoint from probe results as probe_smtp leaves them.
#include "fake_server.hpp"
#include "mailmon/smtp_tls.hpp"

#include <doctest/doctest.h>
#include <string>
#include <thread>
#include <vector>

using mailmon::DaneState;
using mailmon::Endpoint;
using mailmon::ErrorKind;
using mailmon::Phase;
using mailmon::PortPlan;
using mailmon::SmtpMode;
using mailmon::SmtpTlsPolicy;
using mailmon::State;

namespace {

mailmon::Reply reply(int code, std::vector<std::string> lines)
{
    mailmon::Reply result;
    result.code = code;
    result.lines = std::move(lines);
    return result;
}

mailmon::TlsSession session(const std::string& version = "TLSv1.3", long verify_code = 0)
{
    mailmon::TlsSession tls;
    tls.version = version;
    tls.cipher = "TLS_AES_256_GCM_SHA384";
    tls.group = "x25519";
    tls.verify_code = verify_code;
    tls.verify_text = verify_code == 0 ? "ok" : "unable to get local issuer certificate";
    return tls;
}

// A healthy dialogue on a port in its default mode, every phase 10 ms.
Endpoint healthy(std::uint16_t port, SmtpMode mode = SmtpMode::StartTls)
{
    Endpoint endpoint;
    endpoint.address = "192.0.2.1";
    endpoint.plan = PortPlan{port, mode};
    auto& probe = endpoint.probe;
    probe.endpoint = "192.0.2.1:" + std::to_string(port);
    probe.banner = reply(220, {"mx.example.org ESMTP"});
    probe.capabilities = mailmon::parse_ehlo(reply(250, {"mx", "PIPELINING", "STARTTLS"}));
    std::vector<Phase> phases{Phase::Connect, Phase::Banner, Phase::Ehlo};
    if (mode == SmtpMode::StartTls) {
        phases.insert(phases.end(), {Phase::StartTls, Phase::Handshake, Phase::EhloAfterTls});
        probe.capabilities_after_tls = mailmon::parse_ehlo(reply(250, {"mx", "AUTH PLAIN"}));
    }
    if (mode == SmtpMode::ImplicitTls) {
        phases.insert(phases.begin() + 1, Phase::Handshake);
    }
    for (const Phase phase : phases) {
        probe.timings.push_back({phase, 0.01});
    }
    probe.timings.push_back({Phase::Quit, 0.5});
    if (mode != SmtpMode::Plain) {
        probe.tls = session();
    }
    return endpoint;
}

Endpoint failed(Endpoint endpoint, Phase phase, ErrorKind kind, const std::string& cause)
{
    endpoint.probe.failure = mailmon::ProbeFailure{
        phase, mailmon::make_error(kind, "cannot x " + endpoint.probe.endpoint + ": " + cause)};
    return endpoint;
}

} // namespace

TEST_CASE("smtp_tls: port lists and mode overrides")
{
    struct Row {
        const char* ports;
        std::vector<std::string> modes;
        std::vector<std::pair<int, SmtpMode>> expected; // empty: a usage error
    };
    const Row rows[] = {
        {"25", {}, {{25, SmtpMode::StartTls}}},
        {"25,465,587",
         {},
         {{25, SmtpMode::StartTls}, {465, SmtpMode::ImplicitTls}, {587, SmtpMode::StartTls}}},
        {"587,25,587", {}, {{587, SmtpMode::StartTls}, {25, SmtpMode::StartTls}}},
        {"2525", {"2525:tls"}, {{2525, SmtpMode::ImplicitTls}}},
        {"25,465",
         {"465:starttls", "25:plain"},
         {{25, SmtpMode::Plain}, {465, SmtpMode::StartTls}}},
        {"", {}, {}},
        {"0", {}, {}},
        {"65536", {}, {}},
        {"25,", {}, {}},
        {"25x", {}, {}},
        {"25", {"465:tls"}, {}},
        {"25", {"25:ssl"}, {}},
        {"25", {"25"}, {}},
    };
    for (const Row& row : rows) {
        CAPTURE(row.ports);
        const auto plans = mailmon::plan_ports(row.ports, row.modes);
        REQUIRE(plans.ok() == !row.expected.empty());
        if (!plans) {
            CHECK(plans.error().kind == ErrorKind::Usage);
            continue;
        }
        REQUIRE(plans->size() == row.expected.size());
        for (std::size_t index = 0; index < plans->size(); ++index) {
            CHECK((*plans)[index].port == row.expected[index].first);
            CHECK((*plans)[index].mode == row.expected[index].second);
        }
    }
}

TEST_CASE("smtp_tls: a trailing comma is an empty port, not ignored")
{
    CHECK_FALSE(mailmon::plan_ports("25,,465", {}).ok());
}

TEST_CASE("smtp_tls: verify policy words")
{
    CHECK(*mailmon::parse_verify_policy("strict") == mailmon::VerifyPolicy::Strict);
    CHECK(*mailmon::parse_verify_policy("warn") == mailmon::VerifyPolicy::Warn);
    CHECK(*mailmon::parse_verify_policy("none") == mailmon::VerifyPolicy::None);
    CHECK_FALSE(mailmon::parse_verify_policy("Strict").ok());
}

TEST_CASE("smtp_tls: TLSA owner names and answers")
{
    CHECK(mailmon::tlsa_name("mx.example.org.", 25) == "_25._tcp.mx.example.org");

    struct Row {
        mailmon::dns::Status status;
        bool authenticated;
        DaneState expected;
        std::size_t records;
    };
    const Row rows[] = {
        {mailmon::dns::Status::Ok, true, DaneState::Validated, 1},
        {mailmon::dns::Status::Ok, false, DaneState::Unsigned, 0},
        {mailmon::dns::Status::NoData, true, DaneState::Absent, 0},
        {mailmon::dns::Status::NxDomain, false, DaneState::Absent, 0},
        {mailmon::dns::Status::ServFail, false, DaneState::Failed, 0},
        {mailmon::dns::Status::Refused, false, DaneState::Failed, 0},
        {mailmon::dns::Status::Timeout, false, DaneState::Unanswered, 0},
        {mailmon::dns::Status::Unreachable, false, DaneState::Unanswered, 0},
    };
    for (const Row& row : rows) {
        CAPTURE(mailmon::dns::to_string(row.status));
        mailmon::dns::Response response;
        response.status = row.status;
        response.authenticated = row.authenticated;
        if (row.status == mailmon::dns::Status::Ok) {
            response.tlsa.push_back({3, 1, 1, {0xab, 0xcd}});
        }
        const auto lookup = mailmon::read_dane_lookup(response);
        CHECK(lookup.state == row.expected);
        CHECK(lookup.records.size() == row.records);
    }
}

TEST_CASE("smtp_tls: a host without addresses")
{
    using mailmon::dns::Status;
    struct Row {
        Status a;
        Status aaaa;
        State expected;
        const char* words;
    };
    const Row rows[] = {
        {Status::NxDomain, Status::NxDomain, State::Critical, "A nxdomain, AAAA nxdomain"},
        {Status::NoData, Status::NoData, State::Critical, "A nodata"},
        {Status::ServFail, Status::Timeout, State::Critical, "A servfail"},
        {Status::Timeout, Status::Timeout, State::Unknown, "our resolver did not answer"},
    };
    for (const Row& row : rows) {
        std::vector<mailmon::dns::Response> responses(2);
        responses[0].query = {"mx.example.org", mailmon::dns::Type::A};
        responses[0].status = row.a;
        responses[1].query = {"mx.example.org", mailmon::dns::Type::AAAA};
        responses[1].status = row.aaaa;
        const auto lookup = mailmon::read_host_responses("mx.example.org", responses, {});
        CAPTURE(lookup.failure);
        CHECK(lookup.failure_state == row.expected);
        CHECK(lookup.failure.find(row.words) != std::string::npos);
    }
}

TEST_CASE("smtp_tls: addresses from both families are kept in order")
{
    std::vector<mailmon::dns::Response> responses(2);
    responses[0].status = mailmon::dns::Status::Ok;
    responses[0].addresses = {"192.0.2.1"};
    responses[1].status = mailmon::dns::Status::NoData;
    const auto lookup = mailmon::read_host_responses("mx", responses, {});
    CHECK(lookup.failure_state == State::Ok);
    CHECK(lookup.addresses == std::vector<std::string>{"192.0.2.1"});
}

TEST_CASE("smtp_tls: failed phases are CRITICAL and say what failed")
{
    const Endpoint starttls = healthy(25);
    Endpoint greeting = failed(starttls, Phase::Banner, ErrorKind::Protocol, "answered 554");
    greeting.probe.banner = reply(554, {"5.7.1 go away|now"});
    Endpoint refused_starttls =
        failed(starttls, Phase::StartTls, ErrorKind::Protocol, "answered 454");
    refused_starttls.probe.starttls_reply = reply(454, {"4.7.0 TLS not available"});
    struct Row {
        Endpoint endpoint;
        State expected;
        const char* words;
    };
    const Row rows[] = {
        {failed(starttls, Phase::Connect, ErrorKind::Connect, "connection refused"),
         State::Critical, "cannot connect: connection refused"},
        {failed(starttls, Phase::Banner, ErrorKind::Timeout, "timed out"), State::Critical,
         "no banner: timed out"},
        {greeting, State::Critical, "greeting refused: 554 '5.7.1 go away/now'"},
        {failed(starttls, Phase::Banner, ErrorKind::Protocol,
                "the server speaks TLS at once (an implicit-TLS port?)"),
         State::Critical, "TLS on a starttls port"},
        {failed(starttls, Phase::Banner, ErrorKind::Protocol, "reply line longer than 4096 octets"),
         State::Critical, "bad banner: reply line longer than 4096 octets"},
        {failed(starttls, Phase::StartTls, ErrorKind::Protocol, "STARTTLS not offered"),
         State::Critical, "STARTTLS not offered"},
        {refused_starttls, State::Critical, "STARTTLS refused: 454 '4.7.0 TLS not available'"},
        {failed(starttls, Phase::Handshake, ErrorKind::Tls, "sslv3 alert handshake failure"),
         State::Critical, "TLS handshake failed: sslv3 alert handshake failure"},
        {failed(healthy(465, SmtpMode::ImplicitTls), Phase::Handshake, ErrorKind::Protocol,
                "the server answered in plain text: '220 mx'"),
         State::Critical, "plain text on an implicit-TLS port"},
        {failed(starttls, Phase::Handshake, ErrorKind::Config, "cannot load trust store"),
         State::Unknown, "TLS handshake failed"},
    };
    for (const Row& row : rows) {
        const auto verdict = mailmon::judge_endpoint(row.endpoint, SmtpTlsPolicy{});
        CAPTURE(verdict.line);
        CHECK(verdict.state == row.expected);
        REQUIRE_FALSE(verdict.problems.empty());
        CHECK(verdict.problems.front().find(row.words) != std::string::npos);
        CHECK(verdict.line.find('|') == std::string::npos);
    }
}

TEST_CASE("smtp_tls: verification failures count by port and --verify")
{
    struct Row {
        std::uint16_t port;
        SmtpMode mode;
        std::optional<mailmon::VerifyPolicy> verify;
        State expected;
    };
    const Row rows[] = {
        {25, SmtpMode::StartTls, std::nullopt, State::Warning},
        {465, SmtpMode::ImplicitTls, std::nullopt, State::Critical},
        {587, SmtpMode::StartTls, std::nullopt, State::Critical},
        {2525, SmtpMode::StartTls, std::nullopt, State::Warning},
        {25, SmtpMode::StartTls, mailmon::VerifyPolicy::Strict, State::Critical},
        {587, SmtpMode::StartTls, mailmon::VerifyPolicy::Warn, State::Warning},
        {465, SmtpMode::ImplicitTls, mailmon::VerifyPolicy::None, State::Ok},
    };
    for (const Row& row : rows) {
        CAPTURE(row.port);
        Endpoint endpoint = healthy(row.port, row.mode);
        endpoint.probe.tls = session("TLSv1.3", 20);
        SmtpTlsPolicy policy;
        policy.verify = row.verify;
        const auto verdict = mailmon::judge_endpoint(endpoint, policy);
        CHECK(verdict.state == row.expected);
        CHECK(verdict.line.find("certificate not verified") != std::string::npos);
    }
}

TEST_CASE("smtp_tls: a healthy endpoint is OK and its line shows TLS and capabilities")
{
    const auto verdict = mailmon::judge_endpoint(healthy(25), SmtpTlsPolicy{});
    CHECK(verdict.state == State::Ok);
    CHECK(verdict.problems.empty());
    CHECK(verdict.line ==
          "[OK] 192.0.2.1:25 starttls: TLSv1.3 TLS_AES_256_GCM_SHA384 x25519, certificate "
          "verified; connect 0.01s banner 0.01s ehlo 0.01s starttls 0.01s handshake 0.01s "
          "total 0.06s; EHLO before TLS: PIPELINING STARTTLS; EHLO after TLS: AUTH=PLAIN");
}

TEST_CASE("smtp_tls: warnings for AUTH before TLS, old TLS and a missing --expect text")
{
    Endpoint submission = healthy(587);
    submission.probe.capabilities =
        mailmon::parse_ehlo(reply(250, {"mx", "auth login plain", "STARTTLS"}));
    CHECK(mailmon::judge_endpoint(submission, {}).problems ==
          std::vector<std::string>{"AUTH offered before TLS"});

    Endpoint relay = healthy(25);
    relay.probe.capabilities = submission.probe.capabilities;
    CHECK(mailmon::judge_endpoint(relay, {}).state == State::Ok);

    Endpoint old = healthy(465, SmtpMode::ImplicitTls);
    old.probe.tls = session("TLSv1.1");
    const auto verdict = mailmon::judge_endpoint(old, {});
    CHECK(verdict.state == State::Warning);
    CHECK(verdict.problems.front() == "TLSv1.1 below TLSv1.2 (--min-tls)");

    SmtpTlsPolicy expect;
    expect.expect = "Postfix";
    CHECK(mailmon::judge_endpoint(healthy(25), expect).state == State::Warning);
    expect.expect = "ESMTP";
    CHECK(mailmon::judge_endpoint(healthy(25), expect).state == State::Ok);
}

TEST_CASE("smtp_tls: DANE outcomes")
{
    Endpoint matched = healthy(25);
    matched.dane.state = DaneState::Validated;
    matched.probe.tls->dane.enabled = true;
    matched.probe.tls->dane.authenticated = true;
    matched.probe.tls->dane.depth = 0;
    CHECK(mailmon::judge_endpoint(matched, {}).state == State::Ok);

    Endpoint unmatched = matched;
    unmatched.probe.tls->dane.authenticated = false;
    unmatched.probe.tls->verify_code = 65;
    unmatched.probe.tls->verify_text = "No matching DANE TLSA records";
    const auto verdict = mailmon::judge_endpoint(unmatched, {});
    CHECK(verdict.state == State::Critical);
    CHECK(verdict.problems.front().find("DANE: no validated TLSA record matches") == 0);

    Endpoint unsigned_tlsa = healthy(25);
    unsigned_tlsa.dane.state = DaneState::Unsigned;
    CHECK(mailmon::judge_endpoint(unsigned_tlsa, {}).state == State::Ok);
    SmtpTlsPolicy require;
    require.require_dane = true;
    CHECK(mailmon::judge_endpoint(unsigned_tlsa, require).state == State::Critical);

    Endpoint bogus = healthy(25);
    bogus.dane.state = DaneState::Failed;
    bogus.dane.detail = "servfail";
    CHECK(mailmon::judge_endpoint(bogus, {}).state == State::Critical);
}

TEST_CASE("smtp_tls: time thresholds and perfdata labels")
{
    SmtpTlsPolicy policy;
    policy.total.warning = *mailmon::Range::parse("0.05");
    policy.phases[static_cast<std::size_t>(mailmon::Timing::Handshake)].critical =
        *mailmon::Range::parse("0.005");
    const Endpoint endpoint = healthy(25);
    const auto verdict = mailmon::judge_endpoint(endpoint, policy);
    CHECK(verdict.state == State::Critical);
    CHECK(verdict.problems == std::vector<std::string>{"handshake 0.01s outside its range",
                                                       "total 0.06s outside its range"});

    const auto metrics = mailmon::endpoint_metrics(endpoint, policy);
    std::vector<std::string> labels;
    for (const auto& metric : metrics) {
        labels.push_back(metric.label);
    }
    CHECK(labels == std::vector<std::string>{"192.0.2.1_25_connect", "192.0.2.1_25_banner",
                                             "192.0.2.1_25_ehlo", "192.0.2.1_25_starttls",
                                             "192.0.2.1_25_handshake", "192.0.2.1_25_total"});
    CHECK(metrics.back().warning->text() == "0.05");
}

TEST_CASE("smtp_tls: the summary names host, ports and the worst problem")
{
    const std::vector<PortPlan> plans{{25, SmtpMode::StartTls}, {465, SmtpMode::ImplicitTls}};
    Endpoint unverified = healthy(25);
    unverified.probe.tls = session("TLSv1.3", 20);
    const Endpoint down = failed(healthy(465, SmtpMode::ImplicitTls), Phase::Connect,
                                 ErrorKind::Connect, "connection refused");
    const auto report = mailmon::judge_smtp_tls("mx.example.org", plans, {unverified, down}, {});
    CHECK(report.state() == State::Critical);
    CHECK(report.summary() == "mx.example.org ports 25,465: 192.0.2.1:465 cannot connect: "
                              "connection refused (and 1 more endpoint)");
    CHECK(report.lines().size() == 2);

    const auto healthy_report =
        mailmon::judge_smtp_tls("mx.example.org", {plans[0]}, {healthy(25)}, {});
    CHECK(healthy_report.summary() ==
          "mx.example.org port 25: 1 endpoint answers, TLS works on 1 (TLSv1.3 or better)");
}

TEST_CASE("smtp_tls: QUIT without waiting for the 221 saves the wait, and waiting still works")
{
    using namespace std::chrono_literals;
    for (const bool await : {false, true}) {
        CAPTURE(await);
        // A server that answers QUIT only after 800 ms: the probe either waits or does not.
        const fake::Server server([](int fd) {
            fake::greet(fd, "250 fake.test\r\n");
            fake::receive_line(fd);
            std::this_thread::sleep_for(800ms);
            fake::send_text(fd, "221 bye\r\n");
        });
        mailmon::ProbeOptions options;
        options.address = "127.0.0.1";
        options.port = server.port();
        options.mode = SmtpMode::Plain;
        options.helo_name = "probe.test";
        options.await_quit_reply = await;
        const auto result = mailmon::probe_smtp(options, mailmon::Deadline(5s));
        REQUIRE(result.ok());
        const double quit = result.seconds(Phase::Quit).value_or(-1);
        CHECK((await ? quit > 0.5 : quit < 0.2));
    }
}
