// SPDX-License-Identifier: GPL-3.0-or-later
// check_mx's rules without a network: reading MX records, the state of one MX, and the verdict
// for a whole domain, each from a table of surveys as the probes would leave them.
#include "mailmon/mx.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using mailmon::AddressResult;
using mailmon::DomainOutcome;
using mailmon::MxPolicy;
using mailmon::MxRecord;
using mailmon::MxSurvey;
using mailmon::MxTarget;
using mailmon::ProbeOutcome;
using mailmon::PtrOutcome;
using mailmon::State;
using mailmon::TargetFault;

namespace {

AddressResult up(const std::string& address, double banner = 0.01)
{
    AddressResult result;
    result.address = address;
    result.outcome = ProbeOutcome::Up;
    result.connect_seconds = 0.001;
    result.banner_seconds = banner;
    result.total_seconds = banner + 0.01;
    return result;
}

AddressResult down(const std::string& address, const std::string& reason)
{
    AddressResult result;
    result.address = address;
    result.outcome = ProbeOutcome::Down;
    result.reason = reason;
    return result;
}

AddressResult refusing(const std::string& address)
{
    AddressResult result;
    result.address = address;
    result.outcome = ProbeOutcome::Refusing;
    result.reply_code = 554;
    result.reason = "554 'no mail here'";
    result.banner_seconds = 0.002;
    return result;
}

MxTarget mx(unsigned preference, const std::string& name, std::vector<AddressResult> addresses)
{
    MxTarget target;
    target.preference = preference;
    target.name = name;
    target.addresses = std::move(addresses);
    return target;
}

MxTarget broken(unsigned preference, const std::string& name, TargetFault fault)
{
    MxTarget target = mx(preference, name, {});
    target.fault = fault;
    return target;
}

MxTarget alias(MxTarget target, const std::string& canonical)
{
    target.canonical = canonical;
    return target;
}

MxSurvey survey(DomainOutcome outcome, std::vector<MxTarget> targets, bool ad = false)
{
    MxSurvey result;
    result.domain = "example.org";
    result.outcome = outcome;
    result.authenticated = ad;
    result.dns_seconds = 0.004;
    result.targets = std::move(targets);
    return result;
}

MxPolicy policy_with(const std::string& warning, const std::string& critical)
{
    MxPolicy policy;
    auto thresholds = mailmon::parse_thresholds(warning, critical);
    REQUIRE(thresholds.ok());
    policy.banner = *thresholds;
    return policy;
}

} // namespace

TEST_CASE("mx: records are normalised, sorted, and null, literal and duplicate ones marked")
{
    const auto answer = mailmon::analyse_mx_records({
        {20, "MX2.Example.ORG."},
        {10, "mx1.example.org."},
        {10, "192.0.2.7"},
        {30, "mx1.example.org"},
        {0, "."},
    });
    CHECK(answer.null_mx);
    REQUIRE(answer.targets.size() == 4);
    CHECK(answer.targets[0].name == "192.0.2.7");
    CHECK(answer.targets[0].fault == TargetFault::IpLiteral);
    CHECK(answer.targets[1].name == "mx1.example.org");
    CHECK_FALSE(answer.targets[1].duplicate);
    CHECK(answer.targets[2].name == "mx2.example.org");
    CHECK(answer.targets[3].preference == 30);
    CHECK(answer.targets[3].duplicate);

    const auto null_only = mailmon::analyse_mx_records({{0, ""}});
    CHECK(null_only.null_mx);
    CHECK(null_only.targets.empty());
    CHECK(mailmon::analyse_mx_records({}).targets.empty());
}

TEST_CASE("mx: IP literals are recognised in every spelling, host names are not")
{
    const std::pair<const char*, bool> table[] = {
        {"192.0.2.1", true},
        {"192.0.2.1.", true},
        {"[192.0.2.1]", true},
        {"2001:db8::1", true},
        {"[IPv6:2001:db8::1]", true},
        {"::1", true},
        {"mx.example.org", false},
        {"192.0.2", false},
        {"1.2.3.4.example", false},
        {"", false},
        {"[]", false},
        {"256.1.1.1", false},
    };
    for (const auto& [text, literal] : table) {
        CAPTURE(text);
        CHECK(mailmon::is_ip_literal(text) == literal);
    }
}

TEST_CASE("mx: the state of one MX follows its addresses and its DNS")
{
    const std::pair<MxTarget, State> table[] = {
        {mx(10, "a", {up("192.0.2.1"), up("2001:db8::1")}), State::Ok},
        {mx(10, "a", {up("192.0.2.1"), down("2001:db8::1", "connection refused")}), State::Warning},
        {mx(10, "a", {down("192.0.2.1", "timeout"), refusing("192.0.2.2")}), State::Critical},
        {mx(10, "a", {}), State::Critical},
        {alias(mx(10, "a", {up("192.0.2.1")}), "b"), State::Warning},
        {broken(10, "a", TargetFault::NoAddress), State::Critical},
        {broken(10, "a", TargetFault::IpLiteral), State::Critical},
        {broken(10, "a", TargetFault::NxDomain), State::Critical},
        {broken(10, "a", TargetFault::ServFail), State::Critical},
        {broken(10, "a", TargetFault::ResolverSilent), State::Unknown},
    };
    for (const auto& [target, state] : table) {
        CAPTURE(mailmon::to_string(state));
        CHECK(mailmon::target_state(target) == state);
    }
}

TEST_CASE("mx: the verdict for a domain, from a table of surveys")
{
    struct Row {
        const char* what;
        MxSurvey survey;
        MxPolicy policy;
        State state;
        std::string summary;
    };
    MxPolicy plain;
    MxPolicy must_receive;
    must_receive.require_mail = true;
    MxPolicy dnssec;
    dnssec.require_dnssec = true;
    MxPolicy three;
    three.min_mx = 3;
    MxPolicy expect;
    expect.expect = {"mx1.example.org", "MX3.example.org."};
    MxPolicy expect_strict = expect;
    expect_strict.expect_critical = true;

    const auto healthy =
        survey(DomainOutcome::Mx, {mx(10, "mx1.example.org", {up("192.0.2.1")}),
                                   mx(20, "mx2.example.org", {up("192.0.2.2", 0.02)})});
    auto mixed_null = healthy;
    mixed_null.null_mx_mixed = true;

    const Row table[] = {
        {"all up", healthy, plain, State::Ok, "example.org: 2/2 MX up"},
        {"one MX down",
         survey(DomainOutcome::Mx,
                {mx(10, "mx1.example.org", {up("192.0.2.1")}),
                 mx(20, "mx2.example.org", {down("192.0.2.2", "connection refused")})}),
         plain, State::Warning,
         "example.org: 1/2 MX up; mx2.example.org: 192.0.2.2 down: connection refused"},
        {"all down",
         survey(DomainOutcome::Mx,
                {mx(10, "mx1.example.org", {down("192.0.2.1", "connection refused")}),
                 mx(20, "mx2.example.org", {refusing("192.0.2.2")})}),
         plain, State::Critical,
         "example.org: 0/2 MX up; mx1.example.org: 192.0.2.1 down: connection refused (+1 more)"},
        {"one address of an MX down",
         survey(DomainOutcome::Mx,
                {mx(10, "mx1.example.org", {up("192.0.2.1"), down("::1", "timeout")})}),
         plain, State::Warning,
         "example.org: 1/1 MX up; mx1.example.org partly down: ::1 down: timeout"},
        {"alias target",
         survey(DomainOutcome::Mx,
                {alias(mx(10, "mx.example.org", {up("192.0.2.1")}), "host.example.net")}),
         plain, State::Warning,
         "example.org: 1/1 MX up; mx.example.org is an alias (CNAME) of host.example.net (RFC 2181 "
         "10.3)"},
        {"a down MX outweighs an alias",
         survey(DomainOutcome::Mx,
                {alias(mx(10, "mx.example.org", {up("192.0.2.1")}), "h.example.net"),
                 broken(20, "mx2.example.org", TargetFault::NoAddress)}),
         plain, State::Warning,
         "example.org: 1/2 MX up; mx2.example.org: exchange has no address record (+1 more)"},
        {"only MX without address",
         survey(DomainOutcome::Mx, {broken(10, "mx.example.org", TargetFault::NoAddress)}), plain,
         State::Critical, "example.org: 0/1 MX up; mx.example.org: exchange has no address record"},
        {"resolver silent for a target",
         survey(DomainOutcome::Mx, {broken(10, "mx.example.org", TargetFault::ResolverSilent)}),
         plain, State::Unknown,
         "example.org: 0/1 MX up; mx.example.org: resolver did not answer the address lookup"},
        {"implicit MX", survey(DomainOutcome::ImplicitMx, {[] {
                                   auto t = mx(0, "example.org", {up("192.0.2.1")});
                                   t.implicit = true;
                                   return t;
                               }()}),
         plain, State::Warning,
         "example.org: 1/1 MX up; no MX record; mail falls back to the domain's address"},
        {"null MX", survey(DomainOutcome::NullMx, {}), plain, State::Ok,
         "example.org: domain accepts no mail (null MX)"},
        {"null MX, mail required", survey(DomainOutcome::NullMx, {}), must_receive, State::Critical,
         "example.org: domain accepts no mail (null MX), but it must receive mail"},
        {"null MX beside others", mixed_null, plain, State::Warning,
         "example.org: 2/2 MX up; null MX beside other MX records (RFC 7505 3)"},
        {"NXDOMAIN", survey(DomainOutcome::NxDomain, {}), plain, State::Critical,
         "example.org: domain does not exist (NXDOMAIN)"},
        {"no mail host", survey(DomainOutcome::NoMailHost, {}), plain, State::Critical,
         "example.org: neither MX nor A/AAAA record: mail cannot be delivered"},
        {"SERVFAIL", survey(DomainOutcome::ServFail, {}), plain, State::Critical,
         "example.org: MX lookup failed with SERVFAIL: validating senders cannot deliver"},
        {"resolver silent", survey(DomainOutcome::ResolverSilent, {}), plain, State::Unknown,
         "example.org: resolver did not answer the MX lookup"},
        {"DNSSEC required, absent", healthy, dnssec, State::Warning,
         "example.org: 2/2 MX up; MX answer is not DNSSEC-validated"},
        {"DNSSEC required, present", survey(DomainOutcome::Mx, healthy.targets, true), dnssec,
         State::Ok, "example.org: 2/2 MX up"},
        {"too few MX", healthy, three, State::Warning,
         "example.org: 2/2 MX up; 2 MX record(s), fewer than the 3 required"},
        {"MX set differs", healthy, expect, State::Warning,
         "example.org: 2/2 MX up; MX set differs from --expect: missing mx3.example.org, "
         "unexpected mx2.example.org"},
        {"MX set differs, strict", healthy, expect_strict, State::Critical,
         "example.org: 2/2 MX up; MX set differs from --expect: missing mx3.example.org, "
         "unexpected mx2.example.org"},
        {"slow banner warns", healthy, policy_with("0.015", "1"), State::Warning,
         "example.org: 2/2 MX up; slowest banner took 0.02s"},
        {"slow banner critical", healthy, policy_with("0.005", "0.015"), State::Critical,
         "example.org: 2/2 MX up; slowest banner took 0.02s"},
        {"fast banner", healthy, policy_with("1", "2"), State::Ok, "example.org: 2/2 MX up"},
    };
    for (const auto& row : table) {
        CAPTURE(row.what);
        const auto report = mailmon::judge_mx(row.survey, row.policy);
        CHECK(report.state() == row.state);
        CHECK(report.summary() == row.summary);
    }
}

TEST_CASE("mx: a PTR that does not confirm warns, a confirmed one does not")
{
    auto confirmed = up("192.0.2.1");
    confirmed.ptr = PtrOutcome::Confirmed;
    auto mismatch = up("192.0.2.2");
    mismatch.ptr = PtrOutcome::Mismatch;
    mismatch.ptr_names = "other.example.net";

    const auto ok = mailmon::judge_mx(
        survey(DomainOutcome::Mx, {mx(10, "mx1.example.org", {confirmed})}), MxPolicy{});
    CHECK(ok.state() == State::Ok);
    const auto bad = mailmon::judge_mx(
        survey(DomainOutcome::Mx, {mx(10, "mx1.example.org", {confirmed, mismatch})}), MxPolicy{});
    CHECK(bad.state() == State::Warning);
    CHECK(bad.summary() ==
          "example.org: 1/1 MX up; mx1.example.org 192.0.2.2: PTR does not resolve back");
}

TEST_CASE("mx: long output has a DNS line, one line per MX and one per address")
{
    const auto report = mailmon::judge_mx(
        survey(DomainOutcome::Mx,
               {mx(10, "mx1.example.org", {up("192.0.2.1", 0.25)}),
                mx(20, "mx2.example.org", {down("192.0.2.2", "connection refused")})},
               true),
        MxPolicy{});
    const std::string text = report.to_text();
    CHECK(text == "MX WARNING - example.org: 1/2 MX up; mx2.example.org: 192.0.2.2 down: "
                  "connection refused | mx_count=2;;;0 mx_up=1;;;0;2 dns_time=0.004s;;;0 "
                  "banner_mx1.example.org=0.25s;;;0\n"
                  "[OK] DNS example.org: DNSSEC validated (AD), lookups 0.004s\n"
                  "[OK] mx1.example.org (pref 10): accepts, 1/1 addresses up\n"
                  "    [OK] 192.0.2.1: up, connect 0.001s, banner 0.25s, total 0.26s\n"
                  "[CRITICAL] mx2.example.org (pref 20): does not accept, 0/1 addresses up\n"
                  "    [CRITICAL] 192.0.2.2: down: connection refused\n");
}

namespace {

mailmon::dns::Response response(mailmon::dns::Status status,
                                std::vector<std::string> addresses = {},
                                std::vector<std::string> cnames = {})
{
    mailmon::dns::Response result;
    result.status = status;
    result.addresses = std::move(addresses);
    result.cnames = std::move(cnames);
    return result;
}

} // namespace

TEST_CASE("mx: the MX response decides the domain outcome")
{
    using mailmon::dns::Status;
    auto null_only = response(Status::Ok);
    null_only.mx = {{0, ""}};
    auto with_mx = response(Status::Ok);
    with_mx.mx = {{0, ""}, {10, "mx.example.org"}};
    const std::pair<mailmon::dns::Response, DomainOutcome> table[] = {
        {null_only, DomainOutcome::NullMx},
        {with_mx, DomainOutcome::Mx},
        {response(Status::NoData), DomainOutcome::NoMailHost},
        {response(Status::NxDomain), DomainOutcome::NxDomain},
        {response(Status::ServFail), DomainOutcome::ServFail},
        {response(Status::Timeout), DomainOutcome::ResolverSilent},
        {response(Status::Unreachable), DomainOutcome::ResolverSilent},
        {response(Status::Refused), DomainOutcome::ResolverFailed},
        {response(Status::Malformed), DomainOutcome::ResolverFailed},
    };
    for (const auto& [answer, outcome] : table) {
        CAPTURE(mailmon::dns::to_string(answer.status));
        CHECK(mailmon::mx_outcome(answer) == outcome);
    }
}

TEST_CASE("mx: without MX, the domain's own addresses decide (RFC 5321 5.1)")
{
    using mailmon::dns::Status;
    const std::pair<std::vector<mailmon::dns::Response>, DomainOutcome> table[] = {
        {{response(Status::Ok, {"192.0.2.1"}), response(Status::NoData)},
         DomainOutcome::ImplicitMx},
        {{response(Status::NoData), response(Status::Ok, {"::1"})}, DomainOutcome::ImplicitMx},
        {{response(Status::NoData), response(Status::NoData)}, DomainOutcome::NoMailHost},
        {{response(Status::ServFail), response(Status::NoData)}, DomainOutcome::ServFail},
        {{response(Status::Timeout), response(Status::NoData)}, DomainOutcome::ResolverSilent},
        {{}, DomainOutcome::NoMailHost},
    };
    for (const auto& [answers, outcome] : table) {
        CHECK(mailmon::implicit_mx_outcome(answers) == outcome);
    }
}

TEST_CASE("mx: address responses give a target its addresses, alias or fault")
{
    using mailmon::dns::Status;
    struct Row {
        std::vector<mailmon::dns::Response> answers;
        TargetFault fault;
        std::size_t addresses;
        std::string canonical;
    };
    const Row table[] = {
        {{response(Status::Ok, {"192.0.2.1", "192.0.2.2"}), response(Status::Ok, {"::1"})},
         TargetFault::None,
         3,
         ""},
        {{response(Status::Ok, {"192.0.2.1"}), response(Status::Timeout)},
         TargetFault::None,
         1,
         ""},
        {{response(Status::Ok, {"192.0.2.1"}, {"host.example.net"}),
          response(Status::NoData, {}, {"host.example.net"})},
         TargetFault::None,
         1,
         "host.example.net"},
        {{response(Status::NoData), response(Status::NoData)}, TargetFault::NoAddress, 0, ""},
        {{response(Status::NxDomain), response(Status::NxDomain)}, TargetFault::NxDomain, 0, ""},
        {{response(Status::NxDomain, {}, {"gone.example.net"})},
         TargetFault::NxDomain,
         0,
         "gone.example.net"},
        {{response(Status::ServFail), response(Status::NoData)}, TargetFault::ServFail, 0, ""},
        {{response(Status::Timeout), response(Status::NoData)}, TargetFault::ResolverSilent, 0, ""},
        {{response(Status::Refused), response(Status::Refused)},
         TargetFault::ResolverSilent,
         0,
         ""},
    };
    for (const auto& row : table) {
        MxTarget target = mx(10, "mx.example.org", {});
        mailmon::apply_address_responses(target, row.answers);
        CHECK(target.fault == row.fault);
        CHECK(target.addresses.size() == row.addresses);
        CHECK(target.canonical == row.canonical);
    }
}

TEST_CASE("mx: a probe result becomes up, refusing, down or STARTTLS failed")
{
    using mailmon::Phase;
    mailmon::ProbeResult fine;
    fine.timings = {{Phase::Connect, 0.001}, {Phase::Banner, 0.002}, {Phase::Ehlo, 0.001}};
    fine.banner = mailmon::Reply{220, "", {"mx ESMTP"}};
    const auto up_result = mailmon::address_result("192.0.2.1", fine);
    CHECK(up_result.outcome == ProbeOutcome::Up);
    CHECK(up_result.banner_seconds.value_or(0) == doctest::Approx(0.003));
    CHECK(up_result.total_seconds.value_or(0) == doctest::Approx(0.004));

    mailmon::ProbeResult refused = fine;
    refused.banner = mailmon::Reply{554, "5.7.1", {"5.7.1 go|away\r"}};
    refused.failure = mailmon::ProbeFailure{
        Phase::Banner, mailmon::make_error(mailmon::ErrorKind::Protocol, "refused")};
    const auto refusing_result = mailmon::address_result("192.0.2.1", refused);
    CHECK(refusing_result.outcome == ProbeOutcome::Refusing);
    CHECK(refusing_result.reply_code == 554);
    CHECK(refusing_result.reason == "554 '5.7.1 go/away '");

    mailmon::ProbeResult silent;
    silent.endpoint = "192.0.2.1:25";
    silent.timings = {{Phase::Connect, 0.001}, {Phase::Banner, 2.0}};
    silent.failure = mailmon::ProbeFailure{
        Phase::Banner, mailmon::make_error(mailmon::ErrorKind::Timeout,
                                           "cannot read from 192.0.2.1:25: timed out")};
    const auto down_result = mailmon::address_result("192.0.2.1", silent);
    CHECK(down_result.outcome == ProbeOutcome::Down);
    CHECK_FALSE(down_result.banner_seconds.has_value());
    CHECK(down_result.reason == "no banner: timed out");

    mailmon::ProbeResult no_tls = fine;
    no_tls.failure = mailmon::ProbeFailure{
        Phase::StartTls, mailmon::make_error(mailmon::ErrorKind::Protocol, "STARTTLS not offered")};
    no_tls.endpoint = "192.0.2.1:25";
    no_tls.failure->error.message = "cannot start TLS with 192.0.2.1:25: STARTTLS not offered";
    const auto tls_result = mailmon::address_result("192.0.2.1", no_tls);
    CHECK(tls_result.outcome == ProbeOutcome::TlsFailed);
    CHECK(tls_result.reason == "STARTTLS not offered");
}

TEST_CASE("mx: forward-confirmed reverse DNS from the PTR and forward responses")
{
    using mailmon::dns::Status;
    auto named = [](std::vector<std::string> names) {
        auto ptr = response(Status::Ok);
        ptr.texts = std::move(names);
        return ptr;
    };
    struct Row {
        mailmon::dns::Response ptr;
        std::vector<mailmon::dns::Response> forward;
        PtrOutcome outcome;
    };
    const Row table[] = {
        {named({"mx.example.org"}), {response(Status::Ok, {"192.0.2.1"})}, PtrOutcome::Confirmed},
        {named({"a.example.org", "b.example.org"}),
         {response(Status::Ok, {"192.0.2.9"}), response(Status::Ok, {"192.0.2.1"})},
         PtrOutcome::Confirmed},
        {named({"other.example.net"}), {response(Status::Ok, {"192.0.2.9"})}, PtrOutcome::Mismatch},
        {named({"gone.example.net"}), {response(Status::NxDomain)}, PtrOutcome::Mismatch},
        {named({"slow.example.net"}), {response(Status::Timeout)}, PtrOutcome::Unresolved},
        {response(Status::NxDomain), {}, PtrOutcome::Missing},
        {response(Status::NoData), {}, PtrOutcome::Missing},
        {response(Status::ServFail), {}, PtrOutcome::Unresolved},
    };
    for (const auto& row : table) {
        CHECK(mailmon::confirm_ptr("192.0.2.1", row.ptr, row.forward) == row.outcome);
    }
}

TEST_CASE("mx: a line's own state is shown, what it adds is capped while another MX accepts")
{
    const auto survey_one_down =
        survey(DomainOutcome::Mx, {mx(10, "mx1.example.org", {up("192.0.2.1")}),
                                   mx(20, "mx2.example.org", {down("192.0.2.2", "refused")})});
    const auto report = mailmon::judge_mx(survey_one_down, MxPolicy{});
    REQUIRE(report.lines().size() == 5);
    const State expected[] = {State::Ok, State::Ok, State::Ok, State::Warning, State::Warning};
    for (std::size_t i = 0; i < 5; ++i) {
        CAPTURE(report.lines()[i].text);
        CHECK(report.lines()[i].state == expected[i]);
    }
    CHECK(report.lines()[3].text.rfind("[CRITICAL] mx2.example.org", 0) == 0);

    auto all_down = survey_one_down;
    all_down.targets[0].addresses[0] = down("192.0.2.1", "refused");
    const auto critical = mailmon::judge_mx(all_down, MxPolicy{});
    CHECK(critical.lines()[3].state == State::Critical);
    CHECK(critical.lines()[4].state == State::Critical);
}
