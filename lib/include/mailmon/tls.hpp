// SPDX-License-Identifier: GPL-3.0-or-later
// The OpenSSL 3 client side: a context with trust store, minimum version and DANE, a handshake
// over a non-blocking socket under the Deadline, the facts of the negotiated session, and a
// Stream over TLS so an SMTP dialogue can continue after STARTTLS.
#pragma once

#include "mailmon/deadline.hpp"
#include "mailmon/net.hpp"
#include "mailmon/result.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

// OpenSSL's own types, kept out of the public interface.
struct ssl_ctx_st;
struct ssl_st;

namespace mailmon {

enum class TlsVersion { Tls10, Tls11, Tls12, Tls13 };

// "TLSv1.2", as OpenSSL names the protocol.
const char* to_string(TlsVersion version);

// One TLSA record (RFC 6698 §2.1). Per RFC 7672 §3.1.3 only usages 2 (DANE-TA) and 3 (DANE-EE)
// apply to SMTP; records with usages 0 and 1 are ignored and counted as unusable.
struct TlsaRecord {
    std::uint8_t usage = 3;
    std::uint8_t selector = 1;
    std::uint8_t matching_type = 1;
    std::vector<std::uint8_t> data;
};

struct TlsOptions {
    std::string sni; // server name sent in the ClientHello; empty: none
    std::string verify_name; // name the certificate must carry; empty: no name check
    std::string ca_file; // trust store; both empty: the system default store
    std::string ca_path;
    TlsVersion min_version = TlsVersion::Tls12;
    // DANE (RFC 7672): active when tlsa holds a usable record. dane_base_domain is the TLSA
    // base domain (the MX host name); empty means verify_name. Name checks are skipped for
    // DANE-EE as RFC 7672 §3.1.1 requires. With DANE and an empty sni, the base domain is sent
    // as SNI (OpenSSL does so; RFC 7672 §8.1 asks for it).
    std::vector<TlsaRecord> tlsa;
    std::string dane_base_domain;
    bool want_ocsp = false; // ask for a stapled OCSP response (RFC 6066 §8)
};

struct DaneOutcome {
    bool enabled = false; // at least one usable record was given to OpenSSL
    int unusable_records = 0; // usages 0/1, or records OpenSSL rejected
    bool authenticated = false; // a record matched and the chain verified through it
    int depth = -1; // chain depth of the matched certificate (0 = leaf)
    std::optional<TlsaRecord> matched;
};

// What the handshake negotiated and saw. Verification is recorded, not enforced: the
// handshake goes on when the chain or name does not verify, so a check can report why.
struct TlsSession {
    std::string version; // "TLSv1.3"
    std::string cipher; // "TLS_AES_256_GCM_SHA384"
    std::string group; // key-exchange group, "X25519"; empty when none was used
    long verify_code = 0; // X509_V_OK (0) or an X509_V_ERR_* code
    std::string verify_text; // "ok", "self-signed certificate", ...
    DaneOutcome dane;
    std::vector<std::vector<std::uint8_t>> chain_der; // peer chain as sent, leaf first
    bool ocsp_requested = false;
    std::vector<std::uint8_t> ocsp_response; // raw DER OCSP response; empty: none stapled

    bool verified() const { return verify_code == 0; }
};

// An SSL_CTX configured for client use. May be shared by threads once created: OpenSSL 3
// allows SSL_new on one context from many threads.
class TlsContext {
public:
    // Errors: Config for an unreadable ca_file/ca_path, Internal for OpenSSL failures.
    static Result<TlsContext> create(const TlsOptions& options);

    TlsContext(TlsContext&&) noexcept;
    TlsContext& operator=(TlsContext&&) noexcept;
    ~TlsContext();

    ssl_ctx_st* get() const { return context_.get(); }

private:
    struct Free {
        void operator()(ssl_ctx_st* context) const;
    };
    explicit TlsContext(ssl_ctx_st* context) : context_(context) {}
    std::unique_ptr<ssl_ctx_st, Free> context_;
};

// A Stream over an established TLS connection on a socket it does not own.
class TlsStream final : public Stream {
public:
    ~TlsStream() override;
    TlsStream(const TlsStream&) = delete;
    TlsStream& operator=(const TlsStream&) = delete;

    Result<std::size_t> read_some(std::span<char> buffer, const Deadline& deadline) override;
    Status write_all(std::string_view data, const Deadline& deadline) override;
    const std::string& peer() const override { return peer_; }

    const TlsSession& session() const { return session_; }
    // Sends close_notify without waiting for the peer's; best effort.
    void close_notify();

private:
    friend Result<std::unique_ptr<TlsStream>>
    tls_connect(const TlsContext&, const Socket&, std::string, const TlsOptions&, const Deadline&);
    TlsStream(ssl_st* ssl, int fd, std::string peer);

    ssl_st* ssl_;
    int fd_;
    std::string peer_;
    TlsSession session_;
};

// Runs the client handshake on a connected non-blocking socket until the deadline. `peer` is
// the endpoint name for messages. Errors: Tls with the OpenSSL reason or the peer's alert
// ("cannot complete TLS handshake with 127.0.0.1:465: sslv3 alert handshake failure");
// Protocol when the server answered in plain text ("... : the server answered in plain text:
// '220 mx ESMTP'"); Timeout; Connect when the peer closed or reset.
// Thread-safe for distinct sockets. Writes on a socket the peer has closed may raise SIGPIPE:
// the caller blocks or ignores it (probe_smtp does).
Result<std::unique_ptr<TlsStream>> tls_connect(const TlsContext& context, const Socket& socket,
                                               std::string peer, const TlsOptions& options,
                                               const Deadline& deadline);

} // namespace mailmon
