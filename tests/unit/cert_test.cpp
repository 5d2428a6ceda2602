// SPDX-License-Identifier: GPL-3.0-or-later
// Certificate inspection, name matching, chain verification and OCSP staples, on certificates
// made in-process (tests/support/testcert.hpp): no files, no network.
#include "mailmon/cert.hpp"
#include "testcert.hpp"

#include <doctest/doctest.h>
#include <openssl/x509_vfy.h>

using namespace mailmon;
using namespace std::chrono_literals;
namespace tc = mailmon::testcert;

namespace {

constexpr std::chrono::seconds day = 24h;

tc::Key make_key(tc::KeySpec spec = {})
{
    auto key = tc::Key::generate(spec);
    REQUIRE(key.ok());
    return key.value();
}

tc::Issued make(const tc::CertSpec& spec, const tc::Issued* issuer, tc::KeySpec key = {})
{
    auto issued = tc::issue(spec, make_key(key), issuer);
    REQUIRE_MESSAGE(issued.ok(), (issued.ok() ? "" : issued.error().message));
    return issued.value();
}

tc::CertSpec leaf_spec(std::string name)
{
    tc::CertSpec spec;
    spec.common_name = name;
    spec.dns_names = {name};
    spec.serial = 42;
    return spec;
}

tc::CertSpec ca_spec(std::string name)
{
    tc::CertSpec spec;
    spec.common_name = std::move(name);
    spec.ca = true;
    spec.not_after = 3650 * day;
    return spec;
}

// One root and one intermediate for the whole file: key generation is the slow part.
struct Pki {
    tc::Issued root = make(ca_spec("Test Root"), nullptr);
    tc::Issued intermediate = make(ca_spec("Test Intermediate"), &root);
    tc::Issued other_root = make(ca_spec("Other Root"), nullptr);
    tc::Issued other_intermediate = make(ca_spec("Other Intermediate"), &other_root);
};

const Pki& pki()
{
    static const Pki shared;
    return shared;
}

CertificateInfo inspect(const tc::Issued& issued)
{
    auto info = inspect_certificate(issued.der);
    REQUIRE(info.ok());
    return info.value();
}

std::vector<std::string> problem_texts(const std::vector<Der>& chain, SystemTime at = {})
{
    auto store = TrustStore::from_der({pki().root.der});
    REQUIRE(store.ok());
    auto verified =
        verify_chain(chain, *store, at == SystemTime{} ? std::chrono::system_clock::now() : at);
    REQUIRE_MESSAGE(verified.ok(), (verified.ok() ? "" : verified.error().message));
    std::vector<std::string> texts;
    for (const ChainProblem& problem : verified->problems) {
        texts.push_back(problem.text);
    }
    return texts;
}

std::string joined(const std::vector<std::string>& texts)
{
    std::string all;
    for (const std::string& text : texts) {
        all += (all.empty() ? "" : " | ") + text;
    }
    return all;
}

} // namespace

TEST_CASE("cert: inspection reads names, dates, key, signature and fingerprint")
{
    tc::CertSpec spec = leaf_spec("mx.example.org");
    spec.dns_names.push_back("smtp.example.org");
    spec.ip_addresses = {"192.0.2.25", "2001:db8::25"};
    spec.not_after = 30 * day;
    const auto issued = make(spec, &pki().intermediate);
    const CertificateInfo info = inspect(issued);

    CHECK(info.subject == "CN=mx.example.org,O=mailmon test");
    CHECK(info.issuer == "CN=Test Intermediate,O=mailmon test");
    CHECK(info.common_name == "mx.example.org");
    CHECK(info.dns_names == std::vector<std::string>{"mx.example.org", "smtp.example.org"});
    CHECK(info.ip_addresses == std::vector<std::string>{"192.0.2.25", "2001:db8::25"});
    CHECK(info.key_type == KeyType::Ec);
    CHECK(info.key_text() == "EC 256 prime256v1");
    CHECK(info.signature_algorithm == "ecdsa-with-SHA256");
    CHECK_FALSE(info.weak_signature);
    CHECK_FALSE(info.self_signed);
    CHECK_FALSE(info.is_ca);
    CHECK(info.serial == "2A");
    CHECK(info.sha256.size() == 32 * 3 - 1);
    CHECK(info.sha256.find_first_not_of("0123456789ABCDEF:") == std::string::npos);
    CHECK(info.days_left(std::chrono::system_clock::now()) == doctest::Approx(30).epsilon(0.001));
    CHECK(info.days_left(info.not_after + 36h) == doctest::Approx(-1.5));
}

TEST_CASE("cert: a root is a self-signed CA, an intermediate is not self-signed")
{
    const CertificateInfo root = inspect(pki().root);
    CHECK(root.self_signed);
    CHECK(root.is_ca);
    const CertificateInfo intermediate = inspect(pki().intermediate);
    CHECK_FALSE(intermediate.self_signed);
    CHECK(intermediate.is_ca);
}

TEST_CASE("cert: key types and sizes are named")
{
    struct Row {
        tc::KeySpec key;
        KeyType type;
        int bits;
        const char* text;
    };
    const Row rows[] = {
        {{tc::KeyKind::Rsa, 1024}, KeyType::Rsa, 1024, "RSA 1024"},
        {{tc::KeyKind::Ec384, 0}, KeyType::Ec, 384, "EC 384 secp384r1"},
        {{tc::KeyKind::Ed25519, 0}, KeyType::Ed25519, 256, "Ed25519"},
    };
    for (const Row& row : rows) {
        CAPTURE(std::string(row.text));
        const CertificateInfo info = inspect(make(leaf_spec("k.test"), &pki().root, row.key));
        CHECK(info.key_type == row.type);
        CHECK(info.key_bits == row.bits);
        CHECK(info.key_text() == row.text);
    }
}

TEST_CASE("cert: SHA-1 and MD5 signatures are flagged as weak")
{
    struct Row {
        const char* digest;
        const char* algorithm;
        bool weak;
    };
    const Row rows[] = {
        {"SHA1", "sha1WithRSAEncryption", true},
        {"MD5", "md5WithRSAEncryption", true},
        {"SHA256", "sha256WithRSAEncryption", false},
        {"SHA384", "sha384WithRSAEncryption", false},
    };
    const auto rsa_ca = make(ca_spec("RSA CA"), nullptr, {tc::KeyKind::Rsa, 1024});
    for (const Row& row : rows) {
        CAPTURE(std::string(row.digest));
        tc::CertSpec spec = leaf_spec("w.test");
        spec.digest = row.digest;
        const CertificateInfo info = inspect(make(spec, &rsa_ca));
        CHECK(info.signature_algorithm == row.algorithm);
        CHECK(info.weak_signature == row.weak);
    }
}

TEST_CASE("cert: bytes that are not exactly one certificate are refused")
{
    const Der good = pki().root.der;
    CHECK(inspect_certificate(Der{}).error().kind == ErrorKind::Certificate);
    CHECK(inspect_certificate(Der{0x30, 0x03, 0x02, 0x01, 0x01}).error().kind ==
          ErrorKind::Certificate);
    for (std::size_t length = 0; length < good.size(); ++length) {
        CAPTURE(length);
        CHECK_FALSE(inspect_certificate(std::span(good.data(), length)).ok());
    }
    Der trailing = good;
    trailing.push_back(0);
    const auto refused = inspect_certificate(trailing);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message == "cannot parse certificate: trailing bytes after the "
                                     "certificate");
}

TEST_CASE("cert: names match per RFC 6125, wildcards only as a whole left-most label")
{
    tc::CertSpec spec = leaf_spec("mx.example.org");
    spec.dns_names = {"mx.example.org", "*.example.net", "m*.example.com"};
    spec.ip_addresses = {"127.0.0.1"};
    const Der san = make(spec, &pki().root).der;
    tc::CertSpec cn_only;
    cn_only.common_name = "legacy.example.org";
    const Der cn = make(cn_only, &pki().root).der;

    struct Row {
        const Der* der;
        const char* name;
        bool match;
    };
    const Row rows[] = {
        {&san, "mx.example.org", true},    {&san, "MX.Example.ORG", true},
        {&san, "mx.example.org.", true},   {&san, "a.example.net", true},
        {&san, "a.b.example.net", false},  {&san, "example.net", false},
        {&san, "mx.example.com", false},   {&san, "other.example.org", false},
        {&san, "127.0.0.1", true},         {&san, "127.0.0.2", false},
        {&cn, "legacy.example.org", true}, {&cn, "mx.example.org", false},
    };
    for (const Row& row : rows) {
        CAPTURE(std::string(row.name));
        const auto matched = matches_name(*row.der, row.name);
        REQUIRE(matched.ok());
        CHECK(matched.value() == row.match);
    }
}

TEST_CASE("cert: a SAN certificate's CN is not used for name matching")
{
    tc::CertSpec spec = leaf_spec("cn.example.org");
    spec.dns_names = {"san.example.org"};
    const Der der = make(spec, &pki().root).der;
    CHECK(matches_name(der, "san.example.org").value());
    CHECK_FALSE(matches_name(der, "cn.example.org").value());
}

TEST_CASE("cert: a complete chain to a trusted root verifies")
{
    const auto leaf = make(leaf_spec("mx.test"), &pki().intermediate);
    CHECK(problem_texts({leaf.der, pki().intermediate.der}).empty());
    // A root sent along is fine when it is the trusted one.
    CHECK(problem_texts({leaf.der, pki().intermediate.der, pki().root.der}).empty());

    auto store = TrustStore::from_der({pki().root.der});
    REQUIRE(store.ok());
    const auto verified =
        verify_chain({leaf.der, pki().intermediate.der}, *store, std::chrono::system_clock::now());
    REQUIRE(verified.ok());
    CHECK(verified->built.size() == 3);
    CHECK(verified->built.back() == pki().root.der);
}

TEST_CASE("cert: every chain problem is named")
{
    tc::CertSpec expired = leaf_spec("mx.test");
    expired.not_before = -30 * day;
    expired.not_after = -2 * day;
    tc::CertSpec future = leaf_spec("mx.test");
    future.not_before = 2 * day;
    tc::CertSpec self = leaf_spec("mx.test");
    tc::CertSpec old_ca = ca_spec("Old Intermediate");
    old_ca.not_before = -30 * day;
    old_ca.not_after = -1 * day;
    const auto old_intermediate = make(old_ca, &pki().root);

    const auto valid = make(leaf_spec("mx.test"), &pki().intermediate);
    const auto foreign = make(leaf_spec("mx.test"), &pki().other_intermediate);
    const auto under_old = make(leaf_spec("mx.test"), &old_intermediate);
    const auto expired_leaf = make(expired, &pki().intermediate);
    const auto future_leaf = make(future, &pki().intermediate);
    const auto self_leaf = make(self, nullptr);

    const std::string intermediate = "'CN=Test Intermediate,O=mailmon test'";
    struct Row {
        const char* name;
        std::vector<Der> chain;
        std::vector<std::string> texts;
    };
    const std::vector<Row> rows = {
        {"missing intermediate",
         {valid.der},
         {"missing intermediate: issuer " + intermediate +
          " of the leaf was not sent and is not trusted"}},
        {"expired leaf", {expired_leaf.der, pki().intermediate.der}, {"leaf expired"}},
        {"not yet valid", {future_leaf.der, pki().intermediate.der}, {"leaf not yet valid"}},
        {"self-signed", {self_leaf.der}, {"self-signed certificate"}},
        {"untrusted CA",
         {foreign.der, pki().other_intermediate.der},
         {"untrusted root: issuer 'CN=Other Root,O=mailmon test' is not in the trust store"}},
        {"untrusted root sent",
         {foreign.der, pki().other_intermediate.der, pki().other_root.der},
         {"untrusted root 'CN=Other Root,O=mailmon test' (sent by the server)"}},
        {"expired intermediate",
         {under_old.der, old_intermediate.der},
         {"chain element 1 'CN=Old Intermediate,O=mailmon test' expired"}},
        {"expired leaf and missing intermediate",
         {expired_leaf.der},
         {"missing intermediate: issuer " + intermediate +
              " of the leaf was not sent and is not trusted",
          "leaf expired"}},
    };
    for (const Row& row : rows) {
        CAPTURE(std::string(row.name));
        CHECK(joined(problem_texts(row.chain)) == joined(row.texts));
    }
}

TEST_CASE("cert: verification uses the given time")
{
    const auto leaf = make(leaf_spec("mx.test"), &pki().intermediate);
    const auto later = std::chrono::system_clock::now() + 100 * day;
    CHECK(joined(problem_texts({leaf.der, pki().intermediate.der}, later)) == "leaf expired");
}

TEST_CASE("cert: an empty chain and an unreadable trust store are errors")
{
    auto store = TrustStore::from_der({pki().root.der});
    REQUIRE(store.ok());
    const auto empty = verify_chain({}, *store, std::chrono::system_clock::now());
    REQUIRE_FALSE(empty.ok());
    CHECK(empty.error().message == "cannot verify chain: no certificate was sent");

    const auto missing = TrustStore::load("/nonexistent/ca.pem", "");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().kind == ErrorKind::Config);
    CHECK(missing.error().message.starts_with("cannot load trust store /nonexistent/ca.pem: "));
    CHECK(TrustStore::from_der({Der{1, 2, 3}}).error().kind == ErrorKind::Certificate);
}

TEST_CASE("cert: a stapled OCSP response gives the leaf's status")
{
    const auto leaf = make(leaf_spec("mx.test"), &pki().intermediate);
    for (const OcspStatus status : {OcspStatus::Good, OcspStatus::Revoked, OcspStatus::Unknown}) {
        CAPTURE(to_string(status));
        auto response = tc::ocsp_response(leaf, pki().intermediate, status);
        REQUIRE(response.ok());
        const auto staple = read_ocsp_staple(*response, leaf.der);
        REQUIRE(staple.ok());
        CHECK(staple->response_status == "successful");
        CHECK(staple->status == status);
        CHECK(staple->revoked_at.has_value() == (status == OcspStatus::Revoked));
        CHECK(staple->next_update.has_value());
    }

    // A staple that lists another serial says nothing about the leaf.
    tc::CertSpec other = leaf_spec("x.test");
    other.serial = 7;
    const auto seven = make(other, &pki().intermediate);
    auto response = tc::ocsp_response(seven, pki().intermediate, OcspStatus::Revoked);
    REQUIRE(response.ok());
    const auto unrelated = read_ocsp_staple(*response, leaf.der);
    REQUIRE(unrelated.ok());
    CHECK_FALSE(unrelated->status.has_value());
}

TEST_CASE("cert: an OCSP error response and garbage are told apart")
{
    const auto leaf = make(leaf_spec("mx.test"), &pki().intermediate);
    auto try_later = tc::ocsp_error_response(3);
    REQUIRE(try_later.ok());
    const auto staple = read_ocsp_staple(*try_later, leaf.der);
    REQUIRE(staple.ok());
    CHECK(staple->response_status == "trylater");
    CHECK_FALSE(staple->status.has_value());

    const auto garbage = read_ocsp_staple(Der{0x30, 0x00}, leaf.der);
    REQUIRE_FALSE(garbage.ok());
    CHECK(garbage.error().message == "cannot parse OCSP staple: not a DER OCSP response");
}
