// SPDX-License-Identifier: GPL-3.0-or-later
// Tests of the tls module through probe_smtp: a fake server with a real OpenSSL server side
// (self-signed identity made at run time) for the success paths, verification, DANE and
// handshake failures.
#include "fake_server.hpp"
#include "mailmon/smtp.hpp"

#include <array>
#include <cstdio>
#include <doctest/doctest.h>
#include <openssl/pem.h>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using mailmon::Deadline;
using mailmon::ErrorKind;
using mailmon::Phase;

namespace {

mailmon::ProbeResult probe_starttls(const fake::Identity& identity, const mailmon::TlsOptions& tls)
{
    const fake::Server server([&identity](int fd) { fake::starttls_dialogue(identity, fd); });
    mailmon::ProbeOptions options = fake::options_for(server, mailmon::SmtpMode::StartTls);
    options.tls = tls;
    return mailmon::probe_smtp(options, Deadline(10s));
}

std::vector<std::uint8_t> der_of(const fake::Identity& identity)
{
    unsigned char* der = nullptr;
    const int length = i2d_X509(identity.certificate.get(), &der);
    std::vector<std::uint8_t> bytes(der, der + length);
    OPENSSL_free(der);
    return bytes;
}

// The identity's certificate as a PEM file, removed again when the test ends.
class PemFile {
public:
    explicit PemFile(const fake::Identity& identity)
    {
        char name[] = "/tmp/mailmon-tls-test-XXXXXX";
        const int fd = ::mkstemp(name);
        ::close(fd);
        path_ = name;
        mailmon::BioPtr file(BIO_new_file(path_.c_str(), "w"));
        PEM_write_bio_X509(file.get(), identity.certificate.get());
    }
    PemFile(const PemFile&) = delete;
    PemFile& operator=(const PemFile&) = delete;
    ~PemFile() { (void)std::remove(path_.c_str()); }

    const std::string& path() const { return path_; }

private:
    std::string path_;
};

} // namespace

TEST_CASE("tls: a STARTTLS dialogue records the session, chain and both EHLO replies")
{
    const fake::Identity identity = fake::make_identity();
    const auto result = probe_starttls(identity, mailmon::TlsOptions{});

    REQUIRE(result.ok());
    CHECK(result.reached == Phase::Quit);
    std::vector<Phase> phases;
    for (const auto& timing : result.timings) {
        phases.push_back(timing.phase);
    }
    CHECK(phases == std::vector<Phase>{Phase::Connect, Phase::Banner, Phase::Ehlo, Phase::StartTls,
                                       Phase::Handshake, Phase::EhloAfterTls, Phase::Quit});
    CHECK(result.capabilities->has("STARTTLS"));
    CHECK(result.capabilities_after_tls->params("AUTH") ==
          std::vector<std::string>{"PLAIN", "LOGIN"});
    CHECK(result.starttls_reply->enhanced_code == "2.0.0");

    REQUIRE(result.tls.has_value());
    CHECK(result.tls->version == "TLSv1.3");
    CHECK_FALSE(result.tls->cipher.empty());
    CHECK_FALSE(result.tls->group.empty());
    CHECK(result.tls->verify_code == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
    CHECK(result.tls->verify_text == "self-signed certificate");
    CHECK(result.tls->chain_der == std::vector<std::vector<std::uint8_t>>{der_of(identity)});
    CHECK_FALSE(result.tls->dane.enabled);
    CHECK(result.tls->ocsp_response.empty());
}

TEST_CASE("tls: a trusted certificate verifies, a wrong name is recorded, not fatal")
{
    const fake::Identity identity = fake::make_identity();
    const PemFile trust(identity);
    mailmon::TlsOptions tls;
    tls.ca_file = trust.path();
    tls.sni = "mx.test";
    tls.want_ocsp = true;

    tls.verify_name = "mx.test";
    const auto good = probe_starttls(identity, tls);
    REQUIRE(good.ok());
    CHECK(good.tls->verify_code == X509_V_OK);
    CHECK(good.tls->verified());
    CHECK(good.tls->ocsp_requested);

    tls.verify_name = "other.test";
    const auto wrong = probe_starttls(identity, tls);
    REQUIRE(wrong.ok());
    CHECK(wrong.tls->verify_code == X509_V_ERR_HOSTNAME_MISMATCH);
    CHECK(wrong.reached == Phase::Quit);
}

TEST_CASE("tls: an unreadable trust store is a configuration error in the handshake phase")
{
    const fake::Identity identity = fake::make_identity();
    mailmon::TlsOptions tls;
    tls.ca_file = "/nonexistent/ca.pem";
    const auto result = probe_starttls(identity, tls);
    REQUIRE(result.failure.has_value());
    CHECK(result.failure->phase == Phase::Handshake);
    CHECK(result.failure->error.kind == ErrorKind::Config);
    CHECK(result.failure->error.message.rfind("cannot load trust store /nonexistent/ca.pem: ", 0) ==
          0);
}

TEST_CASE("tls: DANE-EE authenticates a self-signed certificate by its key digest")
{
    const fake::Identity identity = fake::make_identity();
    mailmon::TlsOptions tls;
    tls.verify_name = "mx.test";

    SUBCASE("matching 3 1 1 record")
    {
        tls.tlsa = {mailmon::TlsaRecord{3, 1, 1, fake::spki_sha256(identity)}};
        const auto result = probe_starttls(identity, tls);
        REQUIRE(result.ok());
        CHECK(result.tls->dane.enabled);
        CHECK(result.tls->dane.authenticated);
        CHECK(result.tls->dane.depth == 0);
        REQUIRE(result.tls->dane.matched.has_value());
        CHECK(result.tls->dane.matched->data == fake::spki_sha256(identity));
        CHECK(result.tls->verify_code == X509_V_OK);
    }
    SUBCASE("a record that does not match")
    {
        tls.tlsa = {mailmon::TlsaRecord{3, 1, 1, std::vector<std::uint8_t>(32, 0xab)}};
        const auto result = probe_starttls(identity, tls);
        REQUIRE(result.ok());
        CHECK(result.tls->dane.enabled);
        CHECK_FALSE(result.tls->dane.authenticated);
        CHECK(result.tls->verify_code != X509_V_OK);
    }
    SUBCASE("PKIX usages are unusable for SMTP (RFC 7672)")
    {
        tls.tlsa = {mailmon::TlsaRecord{1, 1, 1, fake::spki_sha256(identity)}};
        const auto result = probe_starttls(identity, tls);
        REQUIRE(result.ok());
        CHECK_FALSE(result.tls->dane.enabled);
        CHECK(result.tls->dane.unusable_records == 1);
    }
}

TEST_CASE("tls: implicit TLS runs the handshake before the banner")
{
    const fake::Identity identity = fake::make_identity();
    const fake::Server server([&identity](int fd) {
        fake::TlsServer tls(identity, fd);
        if (!tls.accept()) {
            return;
        }
        tls.send_text("220 fake.test ESMTP\r\n");
        tls.receive_line();
        tls.send_text("250-fake.test\r\n250 AUTH PLAIN\r\n");
        tls.receive_line();
    });
    const auto result = mailmon::probe_smtp(
        fake::options_for(server, mailmon::SmtpMode::ImplicitTls), Deadline(10s));
    REQUIRE(result.ok());
    REQUIRE(result.timings.size() == 5);
    CHECK(result.timings[1].phase == Phase::Handshake);
    CHECK(result.timings[2].phase == Phase::Banner);
    CHECK(result.banner->code == 220);
    CHECK(result.capabilities->has("auth"));
    CHECK(result.tls.has_value());
}

TEST_CASE("tls: a plain-text banner on an implicit-TLS port is shown")
{
    const fake::Server server([](int fd) {
        fake::send_text(fd, "220 plain.test ESMTP Postfix\r\n");
        fake::wait_for_close(fd);
    });
    const auto result = mailmon::probe_smtp(
        fake::options_for(server, mailmon::SmtpMode::ImplicitTls), Deadline(10s));
    REQUIRE(result.failure.has_value());
    CHECK(result.failure->phase == Phase::Handshake);
    CHECK(result.failure->error.kind == ErrorKind::Protocol);
    CHECK(result.failure->error.message ==
          "cannot complete TLS handshake with 127.0.0.1:" + std::to_string(server.port()) +
              ": the server answered in plain text: '220 plain.test ESMTP Postfix'");
}

TEST_CASE("tls: a server closing after the ClientHello fails the handshake")
{
    // Closing with unread bytes makes the kernel send a reset; after reading them, a FIN.
    bool read_whole_hello = false;
    SUBCASE("reset") {}
    SUBCASE("orderly close")
    {
        read_whole_hello = true;
    }
    const fake::Server server([read_whole_hello](int fd) {
        fake::greet(fd, "250-fake.test\r\n250 STARTTLS\r\n");
        fake::receive_line(fd);
        fake::send_text(fd, "220 go ahead\r\n");
        unsigned char header[5] = {};
        ::recv(fd, header, sizeof header, MSG_WAITALL);
        std::vector<char> body(static_cast<std::size_t>(header[3] << 8 | header[4]));
        if (read_whole_hello) {
            ::recv(fd, body.data(), body.size(), MSG_WAITALL);
        }
    });
    const auto result =
        mailmon::probe_smtp(fake::options_for(server, mailmon::SmtpMode::StartTls), Deadline(10s));
    REQUIRE(result.failure.has_value());
    CHECK(result.failure->phase == Phase::Handshake);
    const std::string expected_cause =
        read_whole_hello ? "unexpected eof while reading" : "connection reset by peer";
    CHECK(result.failure->error.kind == (read_whole_hello ? ErrorKind::Tls : ErrorKind::Connect));
    CHECK(result.failure->error.message ==
          "cannot complete TLS handshake with 127.0.0.1:" + std::to_string(server.port()) + ": " +
              expected_cause);
}

TEST_CASE("tls: a handshake alert from the server is reported by its name")
{
    const fake::Identity identity = fake::make_identity();
    const fake::Server server([&identity](int fd) {
        // An ECDSA key with only RSA ciphers: the server can only refuse.
        fake::TlsServer tls(identity, fd, [](SSL_CTX* context) {
            SSL_CTX_set_max_proto_version(context, TLS1_2_VERSION);
            SSL_CTX_set_cipher_list(context, "ECDHE-RSA-AES128-GCM-SHA256");
        });
        tls.accept();
    });
    const auto result = mailmon::probe_smtp(
        fake::options_for(server, mailmon::SmtpMode::ImplicitTls), Deadline(10s));
    REQUIRE(result.failure.has_value());
    CHECK(result.failure->phase == Phase::Handshake);
    CHECK(result.failure->error.kind == ErrorKind::Tls);
    CHECK(result.failure->error.message ==
          "cannot complete TLS handshake with 127.0.0.1:" + std::to_string(server.port()) +
              ": sslv3 alert handshake failure");
}

TEST_CASE("tls: probes run in parallel threads without interfering")
{
    const fake::Identity identity = fake::make_identity();
    constexpr int count = 4;
    std::vector<std::unique_ptr<fake::Server>> servers;
    servers.reserve(count);
    for (int index = 0; index < count; ++index) {
        servers.push_back(std::make_unique<fake::Server>(
            [&identity](int fd) { fake::starttls_dialogue(identity, fd); }));
    }
    std::vector<mailmon::ProbeResult> results(count);
    std::vector<std::thread> threads;
    threads.reserve(count);
    const Deadline deadline(10s);
    for (int index = 0; index < count; ++index) {
        threads.emplace_back([&, index] {
            results[index] = mailmon::probe_smtp(
                fake::options_for(*servers[index], mailmon::SmtpMode::StartTls), deadline);
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    for (const auto& result : results) {
        CHECK(result.ok());
        CHECK(result.tls->chain_der.size() == 1);
    }
}

namespace {

// Not a valid OCSP response: the client keeps the raw bytes; parsing them is the cert module's.
constexpr std::array<unsigned char, 5> fake_staple{0x30, 0x03, 0x0a, 0x01, 0x06};

// An OpenSSL server callback; the macros SSL_CTX_set_tlsext_status_cb and
// SSL_set_tlsext_status_ocsp_resp expand to these calls with C-style casts.
int staple_response(SSL* ssl, void*)
{
    void* copy = OPENSSL_memdup(fake_staple.data(), fake_staple.size());
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_STATUS_REQ_OCSP_RESP, fake_staple.size(), copy);
    return SSL_TLSEXT_ERR_OK;
}

} // namespace

TEST_CASE("tls: a stapled OCSP response is kept as raw bytes when asked for")
{
    const fake::Identity identity = fake::make_identity();
    const fake::Server server([&identity](int fd) {
        fake::TlsServer tls(identity, fd, [](SSL_CTX* context) {
            SSL_CTX_callback_ctrl(context, SSL_CTRL_SET_TLSEXT_STATUS_REQ_CB,
                                  reinterpret_cast<void (*)()>(staple_response));
        });
        if (tls.accept()) {
            tls.send_text("220 fake.test ESMTP\r\n");
            tls.receive_line();
            tls.send_text("250 fake.test\r\n");
            tls.receive_line();
        }
    });
    mailmon::ProbeOptions options = fake::options_for(server, mailmon::SmtpMode::ImplicitTls);
    options.tls.want_ocsp = true;
    const auto result = mailmon::probe_smtp(options, Deadline(10s));
    REQUIRE(result.ok());
    CHECK(result.tls->ocsp_requested);
    CHECK(result.tls->ocsp_response ==
          std::vector<std::uint8_t>(fake_staple.begin(), fake_staple.end()));
}
