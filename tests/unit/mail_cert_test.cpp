// SPDX-License-Identifier: GPL-3.0-or-later
// check_mail_cert's judgement from tables: probe results are built from certificates made
// in-process, so every state and reason is checked without a network.
#include "mailmon/mail_cert.hpp"
#include "testcert.hpp"

#include <doctest/doctest.h>
#include <openssl/x509_vfy.h>

using namespace mailmon;
using namespace std::chrono_literals;
namespace tc = mailmon::testcert;

namespace {

constexpr std::chrono::seconds day = 24h;

tc::Issued make(const tc::CertSpec& spec, const tc::Issued* issuer, tc::KeySpec key = {})
{
    auto made_key = tc::Key::generate(key);
    REQUIRE(made_key.ok());
    auto issued = tc::issue(spec, *made_key, issuer);
    REQUIRE_MESSAGE(issued.ok(), (issued.ok() ? "" : issued.error().message));
    return issued.value();
}

tc::CertSpec spec_for(std::string name, std::chrono::seconds not_after = 90 * day)
{
    tc::CertSpec spec;
    spec.common_name = name;
    spec.dns_names = {name};
    spec.not_after = not_after;
    return spec;
}

tc::CertSpec ca_for(std::string name, std::chrono::seconds not_after = 3650 * day)
{
    tc::CertSpec spec;
    spec.common_name = std::move(name);
    spec.ca = true;
    spec.not_after = not_after;
    return spec;
}

struct Pki {
    tc::Issued root = make(ca_for("Root"), nullptr);
    tc::Issued intermediate = make(ca_for("Intermediate"), &root);
    tc::Issued leaf = make(spec_for("mx.test"), &intermediate);
};

const Pki& pki()
{
    static const Pki shared;
    return shared;
}

const TrustStore& store()
{
    static const TrustStore shared = [] {
        auto made = TrustStore::from_der({pki().root.der});
        REQUIRE(made.ok());
        return std::move(made.value());
    }();
    return shared;
}

EndpointProbe probe_of(std::vector<Der> chain)
{
    EndpointProbe probe;
    probe.host = "mx.test";
    probe.address = "192.0.2.1";
    probe.port = 25;
    probe.verify_name = "mx.test";
    probe.tlsa.status = TlsaLookup::Status::None;
    probe.probe.tls = TlsSession{};
    probe.probe.tls->chain_der = std::move(chain);
    return probe;
}

EndpointProbe good_probe()
{
    return probe_of({pki().leaf.der, pki().intermediate.der});
}

EndpointVerdict judge(const EndpointProbe& probe, const CertPolicy& policy = {})
{
    CertPolicy with_days = policy;
    if (!with_days.days.warning && !with_days.days.critical) {
        auto days = parse_days_thresholds(std::string("21"), std::string("7"));
        REQUIRE(days.ok());
        with_days.days = *days;
    }
    return judge_endpoint(probe, store(), with_days, std::chrono::system_clock::now());
}

std::string first_problem(const EndpointVerdict& verdict)
{
    return verdict.problems.empty() ? std::string() : verdict.problems.front().text;
}

void secure_tlsa(EndpointProbe& probe)
{
    probe.tlsa.status = TlsaLookup::Status::Secure;
    probe.tlsa.records = {TlsaRecord{3, 1, 1, Der(32, 0xAB)}};
    probe.probe.tls->dane.enabled = true;
}

} // namespace

TEST_CASE("mail_cert: a good chain is OK and described")
{
    const EndpointVerdict verdict = judge(good_probe());
    CHECK(verdict.state == State::Ok);
    CHECK(verdict.problems.empty());
    CHECK(verdict.label == "mx.test 192.0.2.1:25");
    CHECK(verdict.verification == "verified");
    CHECK(verdict.dane == "no TLSA records");
    CHECK(verdict.ocsp == "no staple");
    REQUIRE(verdict.leaf_days.has_value());
    CHECK(*verdict.leaf_days == doctest::Approx(90).epsilon(0.001));
    CHECK(*verdict.chain_days_min == doctest::Approx(90).epsilon(0.001));
}

TEST_CASE("mail_cert: each certificate problem has its state and reason")
{
    const auto expiring = make(spec_for("mx.test", 10 * day), &pki().intermediate);
    const auto soon = make(spec_for("mx.test", 3 * day), &pki().intermediate);
    const auto short_ca = make(ca_for("Short Intermediate", 12 * day), &pki().root);
    const auto under_short = make(spec_for("mx.test"), &short_ca);
    const auto rsa = make(spec_for("mx.test"), &pki().intermediate, {tc::KeyKind::Rsa, 1024});
    tc::CertSpec sha1 = spec_for("mx.test");
    sha1.digest = "SHA1";
    const auto sha1_leaf = make(sha1, &pki().intermediate);
    const auto other_name = make(spec_for("other.test"), &pki().intermediate);
    const auto self = make(spec_for("mx.test"), nullptr);

    struct Row {
        const char* name;
        EndpointProbe probe;
        State state;
        std::string problem;
    };
    const std::vector<Row> rows = {
        {"10 days", probe_of({expiring.der, pki().intermediate.der}), State::Warning,
         "certificate expires in 10 days ("},
        {"3 days", probe_of({soon.der, pki().intermediate.der}), State::Critical,
         "certificate expires in 3 days ("},
        {"intermediate first", probe_of({under_short.der, short_ca.der}), State::Warning,
         "chain element 'CN=Short Intermediate,O=mailmon test' expires in 12 days ("},
        {"RSA 1024", probe_of({rsa.der, pki().intermediate.der}), State::Warning,
         "leaf key RSA 1024 is weak (minimum 2048 bits)"},
        {"SHA-1", probe_of({sha1_leaf.der, pki().intermediate.der}), State::Critical,
         "leaf signed with a weak digest (ecdsa-with-SHA1)"},
        {"name", probe_of({other_name.der, pki().intermediate.der}), State::Critical,
         "name mismatch: 'mx.test' not in 'other.test'"},
        {"missing intermediate", probe_of({pki().leaf.der}), State::Critical,
         "missing intermediate: issuer 'CN=Intermediate,O=mailmon test' of the leaf was not "
         "sent and is not trusted"},
        {"self-signed", probe_of({self.der}), State::Critical, "self-signed certificate"},
        {"no certificate", probe_of({}), State::Critical, "no certificate sent"},
        {"garbage", probe_of({Der{1, 2, 3}}), State::Critical, "cannot parse certificate: "},
    };
    for (const Row& row : rows) {
        CAPTURE(std::string(row.name));
        const EndpointVerdict verdict = judge(row.probe);
        CHECK(verdict.state == row.state);
        CHECK(first_problem(verdict).starts_with(row.problem));
    }
}

TEST_CASE("mail_cert: a self-signed root sent along is not judged for its signature")
{
    tc::CertSpec old_root = ca_for("SHA-1 Root");
    old_root.digest = "SHA1";
    const auto root = make(old_root, nullptr);
    const auto leaf = make(spec_for("mx.test"), &root);
    const EndpointVerdict verdict = judge(probe_of({leaf.der, root.der}));
    for (const Finding& found : verdict.problems) {
        CHECK(found.text.find("weak digest") == std::string::npos);
    }
}

TEST_CASE("mail_cert: thresholds and key minimums come from the policy")
{
    const auto rsa =
        make(spec_for("mx.test", 10 * day), &pki().intermediate, {tc::KeyKind::Rsa, 1024});
    CertPolicy policy;
    policy.min_rsa_bits = 1024;
    auto days = parse_days_thresholds(std::string("5.5"), std::string("3"));
    REQUIRE(days.ok());
    policy.days = *days;
    CHECK(judge(probe_of({rsa.der, pki().intermediate.der}), policy).state == State::Ok);
}

TEST_CASE("mail_cert: no name is checked when none is given")
{
    const auto other_name = make(spec_for("other.test"), &pki().intermediate);
    EndpointProbe probe = probe_of({other_name.der, pki().intermediate.der});
    probe.verify_name.clear();
    CHECK(judge(probe).state == State::Ok);
}

TEST_CASE("mail_cert: probe failures are CRITICAL, our own are UNKNOWN")
{
    EndpointProbe refused;
    refused.host = "192.0.2.1";
    refused.address = "192.0.2.1";
    refused.probe.failure = ProbeFailure{
        Phase::Connect, Error{ErrorKind::Connect, "cannot connect to 192.0.2.1:25: refused"}};
    const EndpointVerdict down = judge(refused);
    CHECK(down.state == State::Critical);
    CHECK(down.label == "192.0.2.1:25");
    CHECK(first_problem(down) == "cannot connect to 192.0.2.1:25: refused");
    CHECK_FALSE(down.leaf.has_value());

    refused.probe.failure->error.kind = ErrorKind::Internal;
    CHECK(judge(refused).state == State::Unknown);

    // A failure after the handshake still leaves the certificate to judge.
    EndpointProbe late = good_probe();
    late.probe.failure = ProbeFailure{
        Phase::EhloAfterTls, Error{ErrorKind::Protocol, "cannot parse reply from x: junk"}};
    const EndpointVerdict after = judge(late);
    CHECK(after.state == State::Critical);
    CHECK(after.leaf.has_value());
    CHECK(after.verification == "verified");
}

TEST_CASE("mail_cert: DANE outcomes")
{
    SUBCASE("an authenticated match overrides PKIX problems")
    {
        const auto self = make(spec_for("other.test"), nullptr);
        EndpointProbe probe = probe_of({self.der});
        secure_tlsa(probe);
        probe.probe.tls->dane.authenticated = true;
        probe.probe.tls->dane.depth = 0;
        probe.probe.tls->dane.matched = probe.tlsa.records.front();
        const EndpointVerdict verdict = judge(probe);
        CHECK(verdict.state == State::Ok);
        CHECK(verdict.dane == "matched TLSA 3 1 1 at depth 0");
        CHECK(verdict.verification.ends_with("(not used: DANE authenticated)"));
    }
    SUBCASE("a validated record that matches nothing")
    {
        EndpointProbe probe = good_probe();
        secure_tlsa(probe);
        probe.probe.tls->verify_code = X509_V_ERR_DANE_NO_MATCH;
        const EndpointVerdict verdict = judge(probe);
        CHECK(verdict.state == State::Critical);
        CHECK(first_problem(verdict) == "DANE no TLSA record matches");
    }

    struct Row {
        TlsaLookup::Status status;
        bool require;
        State state;
        std::string dane;
    };
    const Row rows[] = {
        {TlsaLookup::Status::None, false, State::Ok, "no TLSA records"},
        {TlsaLookup::Status::None, true, State::Warning, "no TLSA records"},
        {TlsaLookup::Status::Insecure, false, State::Ok, "TLSA in an unsigned zone, ignored"},
        {TlsaLookup::Status::Insecure, true, State::Warning, "TLSA in an unsigned zone, ignored"},
        {TlsaLookup::Status::Secure, true, State::Warning,
         "no usable TLSA records (only usages 0/1 or malformed)"},
        {TlsaLookup::Status::Failed, false, State::Critical, "TLSA lookup failed: servfail"},
        {TlsaLookup::Status::Unanswered, false, State::Unknown, "TLSA lookup unanswered: servfail"},
    };
    for (const Row& row : rows) {
        CAPTURE(row.dane);
        CAPTURE(row.require);
        EndpointProbe probe = good_probe();
        probe.tlsa.status = row.status;
        probe.tlsa.detail = "servfail";
        CertPolicy policy;
        policy.require_dane = row.require;
        const EndpointVerdict verdict = judge(probe, policy);
        CHECK(verdict.state == row.state);
        CHECK(verdict.dane == row.dane);
    }
}

TEST_CASE("mail_cert: a stapled OCSP response is reported, a revoked one is CRITICAL")
{
    for (const OcspStatus status : {OcspStatus::Good, OcspStatus::Revoked}) {
        CAPTURE(to_string(status));
        EndpointProbe probe = good_probe();
        auto response = tc::ocsp_response(pki().leaf, pki().intermediate, status);
        REQUIRE(response.ok());
        probe.probe.tls->ocsp_response = *response;
        const EndpointVerdict verdict = judge(probe);
        CHECK(verdict.ocsp == std::string("staple ") + to_string(status));
        CHECK(verdict.state == (status == OcspStatus::Good ? State::Ok : State::Critical));
    }
    EndpointProbe garbage = good_probe();
    garbage.probe.tls->ocsp_response = {1, 2};
    CHECK(judge(garbage).ocsp == "unreadable staple");
}

TEST_CASE("mail_cert: endpoints of one name must serve one leaf")
{
    const auto other = make(spec_for("mx.test", 30 * day), &pki().intermediate);
    EndpointProbe first = good_probe();
    EndpointProbe second = probe_of({other.der, pki().intermediate.der});
    second.address = "192.0.2.2";
    EndpointProbe third = good_probe();
    third.port = 465;
    std::vector<EndpointVerdict> verdicts = {judge(first), judge(second), judge(third)};

    const auto findings = compare_fleet(verdicts);
    REQUIRE(findings.size() == 1);
    CHECK(findings.front().state == State::Warning);
    CHECK(findings.front().text.starts_with("'mx.test' is served with different certificates: "));
    CHECK(findings.front().text.find("192.0.2.1:25,192.0.2.1:465 until ") != std::string::npos);
    CHECK(findings.front().text.find("192.0.2.2:25 until ") != std::string::npos);

    verdicts.erase(verdicts.begin() + 1);
    CHECK(compare_fleet(verdicts).empty());
    // Different names may carry different certificates.
    EndpointVerdict elsewhere = judge(second);
    elsewhere.host = "mx2.test";
    CHECK(compare_fleet({verdicts.front(), elsewhere}).empty());
}

TEST_CASE("mail_cert: the report names the worst problem and the soonest expiry")
{
    const auto expiring = make(spec_for("mx.test", 10 * day), &pki().intermediate);
    EndpointProbe warn = probe_of({expiring.der, pki().intermediate.der});
    warn.address = "192.0.2.2";
    EndpointProbe down;
    down.host = "mx.test";
    down.address = "192.0.2.3";
    down.probe.failure =
        ProbeFailure{Phase::Connect, Error{ErrorKind::Connect, "cannot connect: refused"}};
    const std::vector<EndpointVerdict> verdicts = {judge(good_probe()), judge(warn), judge(down)};
    auto days = parse_days_thresholds(std::string("21"), std::string("7"));
    REQUIRE(days.ok());
    const CertPolicy policy{*days, 2048, 256, false};

    const Report report = build_report(verdicts, {}, policy);
    CHECK(report.state() == State::Critical);
    CHECK(report.summary() == "mx.test 192.0.2.3:25: cannot connect: refused (+2 more); soonest "
                              "expiry in 10 days at mx.test 192.0.2.2:25");
    REQUIRE(report.lines().size() == 4);
    CHECK(report.lines()[0].text.starts_with("OK mx.test 192.0.2.1:25: subject 'CN=mx.test,"));
    CHECK(report.lines()[2].text == "CRITICAL mx.test 192.0.2.3:25: cannot connect: refused");
    CHECK(report.lines()[3].text.starts_with("WARNING 'mx.test' is served with different"));
    const std::string text = report.to_text();
    CHECK(text.find("'cert_days_left_mx.test_192.0.2.2:25'=10;21:;7: ") != std::string::npos);

    const Report fine = build_report({verdicts.front()}, {}, policy);
    CHECK(fine.state() == State::Ok);
    CHECK(fine.summary() == "1 endpoint fine; soonest expiry in 90 days at mx.test 192.0.2.1:25");

    const Report nothing =
        build_report({}, {Finding{State::Critical, "cannot resolve 'x.test': nxdomain"}}, policy);
    CHECK(nothing.state() == State::Critical);
    CHECK(nothing.summary() == "cannot resolve 'x.test': nxdomain");
}

TEST_CASE("mail_cert: -w/-c in days, or full ranges")
{
    struct Row {
        const char* warning;
        const char* critical;
        double days;
        State state;
    };
    const Row rows[] = {
        {"21", "7", 25, State::Ok},        {"21", "7", 20.9, State::Warning},
        {"21", "7", 6.5, State::Critical}, {"1.5", "0.5", 1, State::Warning},
        {"21", "7", -1, State::Critical},  {"@10:20", "5:", 15, State::Warning},
        {"10:", "5:", 7, State::Warning},
    };
    for (const Row& row : rows) {
        CAPTURE(std::string(row.warning));
        CAPTURE(row.days);
        auto parsed = parse_days_thresholds(std::string(row.warning), std::string(row.critical));
        REQUIRE(parsed.ok());
        CHECK(parsed->evaluate(row.days) == row.state);
    }
    const auto bad = parse_days_thresholds(std::string("x"), std::nullopt);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().kind == ErrorKind::Usage);
    CHECK(bad.error().message.starts_with("invalid -w/--warning 'x'"));
}

TEST_CASE("mail_cert: ports are a comma list of 1..65535")
{
    CHECK(parse_ports("25").value() == std::vector<std::uint16_t>{25});
    CHECK(parse_ports("25,465,587,25").value() == std::vector<std::uint16_t>{25, 465, 587});
    for (const char* bad : {"", "0", "65536", "25,", ",25", "25;465", "x", "25 "}) {
        CAPTURE(std::string(bad));
        const auto parsed = parse_ports(bad);
        REQUIRE_FALSE(parsed.ok());
        CHECK(parsed.error().kind == ErrorKind::Usage);
    }
    CHECK(mode_for_port(465) == SmtpMode::ImplicitTls);
    CHECK(mode_for_port(25) == SmtpMode::StartTls);
    CHECK(mode_for_port(587) == SmtpMode::StartTls);
}

TEST_CASE("mail_cert: TLSA answers as DANE reads them")
{
    struct Row {
        dns::Status status;
        bool authenticated;
        TlsaLookup::Status expected;
    };
    const Row rows[] = {
        {dns::Status::Ok, true, TlsaLookup::Status::Secure},
        {dns::Status::Ok, false, TlsaLookup::Status::Insecure},
        {dns::Status::NoData, true, TlsaLookup::Status::None},
        {dns::Status::NxDomain, false, TlsaLookup::Status::None},
        {dns::Status::ServFail, false, TlsaLookup::Status::Failed},
        {dns::Status::Timeout, false, TlsaLookup::Status::Unanswered},
        {dns::Status::Refused, false, TlsaLookup::Status::Unanswered},
        {dns::Status::Unreachable, false, TlsaLookup::Status::Unanswered},
        {dns::Status::BadName, false, TlsaLookup::Status::NotLooked},
    };
    for (const Row& row : rows) {
        CAPTURE(dns::to_string(row.status));
        dns::Response response;
        response.status = row.status;
        response.authenticated = row.authenticated;
        if (row.status == dns::Status::Ok) {
            response.tlsa = {dns::Tlsa{3, 1, 1, {1, 2, 3}}};
        }
        const TlsaLookup lookup = read_tlsa_response(response);
        CHECK(lookup.status == row.expected);
        CHECK(lookup.records.size() == (row.status == dns::Status::Ok ? 1U : 0U));
    }
}
