// SPDX-License-Identifier: GPL-3.0-or-later
// OpenSSL 3 client: context, DANE set-up, the handshake under the deadline, the session facts
// and the TLS Stream.
#include "mailmon/tls.hpp"

#include "mailmon/cert.hpp"
#include "openssl_ptr.hpp"
#include "sys_error.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

namespace mailmon {

std::string take_openssl_errors()
{
    std::string reasons;
    for (unsigned long code = ERR_get_error(); code != 0; code = ERR_get_error()) {
        const char* reason = ERR_reason_error_string(code);
        std::array<char, 256> fallback{};
        if (reason == nullptr) {
            ERR_error_string_n(code, fallback.data(), fallback.size());
            reason = fallback.data();
        }
        if (reasons.find(reason) == std::string::npos) {
            reasons += (reasons.empty() ? "" : "; ") + std::string(reason);
        }
    }
    return reasons;
}

const char* to_string(TlsVersion version)
{
    switch (version) {
    case TlsVersion::Tls10:
        return "TLSv1";
    case TlsVersion::Tls11:
        return "TLSv1.1";
    case TlsVersion::Tls12:
        return "TLSv1.2";
    case TlsVersion::Tls13:
        return "TLSv1.3";
    }
    return "TLSv1.2";
}

namespace {

int protocol_version(TlsVersion version)
{
    switch (version) {
    case TlsVersion::Tls10:
        return TLS1_VERSION;
    case TlsVersion::Tls11:
        return TLS1_1_VERSION;
    case TlsVersion::Tls12:
        return TLS1_2_VERSION;
    case TlsVersion::Tls13:
        return TLS1_3_VERSION;
    }
    return TLS1_2_VERSION;
}

Error openssl_failure(ErrorKind kind, const std::string& what)
{
    const std::string reasons = take_openssl_errors();
    return make_error(kind,
                      "cannot " + what + ": " + (reasons.empty() ? "unknown error" : reasons));
}

Status load_trust_store(SSL_CTX* context, const TlsOptions& options)
{
    // The hashed directory is read lazily; parsing the whole bundle per context cost more CPU
    // than the rest of a probe.
    if (options.ca_file.empty() && options.ca_path.empty()) {
        return load_system_trust(SSL_CTX_get_cert_store(context));
    }
    const char* file = options.ca_file.empty() ? nullptr : options.ca_file.c_str();
    const char* path = options.ca_path.empty() ? nullptr : options.ca_path.c_str();
    if (SSL_CTX_load_verify_locations(context, file, path) != 1) {
        const std::string name = file != nullptr ? options.ca_file : options.ca_path;
        return openssl_failure(ErrorKind::Config, "load trust store " + name);
    }
    return success();
}

bool usable_for_smtp(const TlsaRecord& record)
{
    return record.usage == 2 || record.usage == 3;
}

} // namespace

void TlsContext::Free::operator()(ssl_ctx_st* context) const
{
    SSL_CTX_free(context);
}

TlsContext::TlsContext(TlsContext&&) noexcept = default;
TlsContext& TlsContext::operator=(TlsContext&&) noexcept = default;
TlsContext::~TlsContext() = default;

Result<TlsContext> TlsContext::create(const TlsOptions& options)
{
    ERR_clear_error();
    SslCtxPtr context(SSL_CTX_new(TLS_client_method()));
    if (!context) {
        return openssl_failure(ErrorKind::Internal, "create a TLS context");
    }
    if (SSL_CTX_set_min_proto_version(context.get(), protocol_version(options.min_version)) != 1) {
        return openssl_failure(ErrorKind::Internal, "set the minimum TLS version");
    }
    auto trust = load_trust_store(context.get(), options);
    if (!trust) {
        return trust.error();
    }
    // Verification is recorded, never enforced: a check must see why a chain fails.
    SSL_CTX_set_verify(context.get(), SSL_VERIFY_NONE, nullptr);
    if (std::any_of(options.tlsa.begin(), options.tlsa.end(), usable_for_smtp) &&
        SSL_CTX_dane_enable(context.get()) <= 0) {
        return openssl_failure(ErrorKind::Internal, "enable DANE");
    }
    return TlsContext(context.release());
}

namespace {

// The first bytes the server sent during the handshake, so a plain-text answer can be shown.
struct WireCapture {
    std::array<char, 16> bytes{};
    std::size_t size = 0;
};

// A C callback: it only copies bytes and cannot throw.
long capture_read(BIO* bio, int operation, const char* data, std::size_t, int, long, int ret,
                  std::size_t* processed)
{
    if (operation == (BIO_CB_READ | BIO_CB_RETURN) && ret > 0 && processed != nullptr) {
        auto* capture = reinterpret_cast<WireCapture*>(BIO_get_callback_arg(bio));
        const std::size_t count = std::min(*processed, capture->bytes.size() - capture->size);
        std::copy_n(data, count, capture->bytes.data() + capture->size);
        capture->size += count;
    }
    return ret;
}

// A TLS record starts with a content type of 20..23; a printable first byte instead means a
// server speaking text (an SMTP banner, an HTTP error), worth showing to the operator.
bool looks_like_plain_text(const WireCapture& capture)
{
    if (capture.size == 0) {
        return false;
    }
    const auto first = static_cast<unsigned char>(capture.bytes[0]);
    return first >= 0x20 && first < 0x7f;
}

// The captured bytes and what follows them up to the end of the line.
std::string plain_text_line(const WireCapture& capture, int fd)
{
    std::string line(capture.bytes.data(), capture.size);
    std::array<char, 200> more{};
    const ssize_t count = ::recv(fd, more.data(), more.size(), MSG_PEEK | MSG_DONTWAIT);
    if (count > 0) {
        line.append(more.data(), static_cast<std::size_t>(count));
    }
    return line.substr(0, line.find_first_of("\r\n"));
}

Status configure_dane(SSL* ssl, const TlsOptions& options, DaneOutcome& dane)
{
    const std::string& base =
        options.dane_base_domain.empty() ? options.verify_name : options.dane_base_domain;
    if (SSL_dane_enable(ssl, base.empty() ? nullptr : base.c_str()) <= 0) {
        return openssl_failure(ErrorKind::Internal, "enable DANE for " + base);
    }
    if (!options.verify_name.empty() && options.verify_name != base) {
        SSL_add1_host(ssl, options.verify_name.c_str());
    }
    // RFC 7672 §3.1.1: with DANE-EE the certificate's names do not matter.
    SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    // Records of usages 0 and 1 were counted as unusable by the caller.
    for (const TlsaRecord& record : options.tlsa) {
        if (!usable_for_smtp(record)) {
            continue;
        }
        const bool added =
            SSL_dane_tlsa_add(ssl, record.usage, record.selector, record.matching_type,
                              record.data.data(), record.data.size()) > 0;
        dane.enabled = dane.enabled || added;
        dane.unusable_records += added ? 0 : 1;
    }
    // A rejected record is not a failure of ours: RFC 7672 §2.2 calls it unusable.
    ERR_clear_error();
    return success();
}

Result<SslPtr> make_ssl(const TlsContext& context, int fd, const TlsOptions& options,
                        TlsSession& session)
{
    SslPtr ssl(SSL_new(context.get()));
    if (!ssl || SSL_set_fd(ssl.get(), fd) != 1) {
        return openssl_failure(ErrorKind::Internal, "create a TLS connection");
    }
    // SSL_set_tlsext_host_name() is a macro with a C-style cast; this is its expansion.
    if (!options.sni.empty() &&
        SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(options.sni.c_str())) != 1) {
        return openssl_failure(ErrorKind::Usage, "use server name " + options.sni);
    }
    session.dane.unusable_records = static_cast<int>(
        std::count_if(options.tlsa.begin(), options.tlsa.end(),
                      [](const TlsaRecord& record) { return !usable_for_smtp(record); }));
    if (session.dane.unusable_records < static_cast<int>(options.tlsa.size())) {
        auto dane = configure_dane(ssl.get(), options, session.dane);
        if (!dane) {
            return dane.error();
        }
    } else if (!options.verify_name.empty()) {
        SSL_set_hostflags(ssl.get(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (SSL_set1_host(ssl.get(), options.verify_name.c_str()) != 1) {
            return openssl_failure(ErrorKind::Usage, "verify name " + options.verify_name);
        }
    }
    if (options.want_ocsp) {
        SSL_set_tlsext_status_type(ssl.get(), TLSEXT_STATUSTYPE_ocsp);
        session.ocsp_requested = true;
    }
    return ssl;
}

Error handshake_failure(int ssl_error, const WireCapture& capture, int fd, const std::string& peer)
{
    const std::string what = "cannot complete TLS handshake with " + peer + ": ";
    const int saved_errno = errno;
    std::string reasons = take_openssl_errors();
    if (looks_like_plain_text(capture)) {
        return make_error(ErrorKind::Protocol, what + "the server answered in plain text: '" +
                                                   plain_text_line(capture, fd) + "'");
    }
    if (ssl_error == SSL_ERROR_SYSCALL && saved_errno != 0) {
        return make_error(ErrorKind::Connect, what + system_error_text(saved_errno));
    }
    if (reasons.empty()) {
        // SSL_ERROR_SYSCALL with neither errno nor a queued error is an end of stream.
        reasons = ssl_error == SSL_ERROR_SYSCALL ? "connection closed by peer" : "unknown error";
    }
    return make_error(ErrorKind::Tls, what + reasons);
}

std::string group_name(SSL* ssl)
{
    const int nid = static_cast<int>(SSL_get_negotiated_group(ssl));
    if (nid == NID_undef) {
        return {};
    }
    const char* name = SSL_group_to_name(ssl, nid);
    return name != nullptr ? name : "unknown";
}

std::vector<std::uint8_t> der_bytes(X509* certificate)
{
    const int length = i2d_X509(certificate, nullptr);
    if (length <= 0) {
        return {};
    }
    std::vector<std::uint8_t> der(static_cast<std::size_t>(length));
    unsigned char* out = der.data();
    i2d_X509(certificate, &out);
    return der;
}

void record_dane(SSL* ssl, DaneOutcome& dane, long verify_code)
{
    std::uint8_t usage = 0;
    std::uint8_t selector = 0;
    std::uint8_t matching_type = 0;
    const unsigned char* data = nullptr;
    std::size_t length = 0;
    const int depth = SSL_get0_dane_tlsa(ssl, &usage, &selector, &matching_type, &data, &length);
    if (depth < 0) {
        return;
    }
    dane.depth = depth;
    dane.authenticated =
        verify_code == X509_V_OK && SSL_get0_dane_authority(ssl, nullptr, nullptr) >= 0;
    dane.matched =
        TlsaRecord{usage, selector, matching_type, std::vector<std::uint8_t>(data, data + length)};
}

void record_session(SSL* ssl, TlsSession& session)
{
    session.version = SSL_get_version(ssl);
    session.cipher = SSL_get_cipher_name(ssl);
    session.group = group_name(ssl);
    session.verify_code = SSL_get_verify_result(ssl);
    session.verify_text = X509_verify_cert_error_string(session.verify_code);
    if (session.dane.enabled) {
        record_dane(ssl, session.dane, session.verify_code);
    }

    // On the client side the peer chain includes the leaf, first.
    const STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);
    for (int index = 0; chain != nullptr && index < sk_X509_num(chain); ++index) {
        session.chain_der.push_back(der_bytes(sk_X509_value(chain, index)));
    }

    const unsigned char* response = nullptr;
    const long length = SSL_get_tlsext_status_ocsp_resp(ssl, &response);
    if (length > 0 && response != nullptr) {
        session.ocsp_response.assign(response, response + length);
    }
}

// Waits for what OpenSSL asked for. Returns false (and no error) for any other condition.
Result<bool> wait_for_openssl(int ssl_error, int fd, const Deadline& deadline,
                              std::string_view what, std::string_view peer)
{
    if (ssl_error != SSL_ERROR_WANT_READ && ssl_error != SSL_ERROR_WANT_WRITE) {
        return false;
    }
    auto ready = wait_for_socket(fd, ssl_error == SSL_ERROR_WANT_WRITE, deadline, what, peer);
    if (!ready) {
        return ready.error();
    }
    return true;
}

// A failed read or write: OpenSSL's reasons if it queued any, else the system error. Call it
// right after the failing call, before anything else can change errno.
Error io_error(std::string_view what, const std::string& peer)
{
    const int saved_errno = errno;
    const std::string reasons = take_openssl_errors();
    return make_error(ErrorKind::Tls,
                      "cannot " + std::string(what) + " " + peer + ": " +
                          (reasons.empty() ? system_error_text(saved_errno) : reasons));
}

} // namespace

TlsStream::TlsStream(ssl_st* ssl, int fd, std::string peer)
    : ssl_(ssl), fd_(fd), peer_(std::move(peer))
{
}

TlsStream::~TlsStream()
{
    SSL_free(ssl_);
}

Result<std::unique_ptr<TlsStream>> tls_connect(const TlsContext& context, const Socket& socket,
                                               std::string peer, const TlsOptions& options,
                                               const Deadline& deadline)
{
    ERR_clear_error();
    TlsSession session;
    auto made = make_ssl(context, socket.fd(), options, session);
    if (!made) {
        return made.error();
    }
    SslPtr ssl = std::move(made.value());

    WireCapture capture;
    BIO* wire = SSL_get_rbio(ssl.get());
    BIO_set_callback_arg(wire, reinterpret_cast<char*>(&capture));
    BIO_set_callback_ex(wire, capture_read);
    for (;;) {
        errno = 0;
        const int status = SSL_connect(ssl.get());
        if (status == 1) {
            break;
        }
        const int ssl_error = SSL_get_error(ssl.get(), status);
        auto waited =
            wait_for_openssl(ssl_error, socket.fd(), deadline, "complete TLS handshake with", peer);
        if (!waited) {
            return waited.error();
        }
        if (!waited.value()) {
            return handshake_failure(ssl_error, capture, socket.fd(), peer);
        }
    }
    // The capture lives on this stack frame; the stream must not call back into it.
    BIO_set_callback_ex(wire, nullptr);
    BIO_set_callback_arg(wire, nullptr);

    record_session(ssl.get(), session);
    std::unique_ptr<TlsStream> stream(new TlsStream(ssl.release(), socket.fd(), std::move(peer)));
    stream->session_ = std::move(session);
    return stream;
}

Result<std::size_t> TlsStream::read_some(std::span<char> buffer, const Deadline& deadline)
{
    // After a TLS 1.3 handshake the server sends its session tickets and then, on implicit
    // TLS, the banner; with Nagle on the server's side the banner waits for our ACK of the
    // tickets, which Linux delays by 40 ms unless asked to acknowledge at once. Quick-ACK mode
    // wears off by itself, hence before every read; failure only costs the delay.
    const int on = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
    for (;;) {
        ERR_clear_error();
        errno = 0;
        std::size_t count = 0;
        const int status = SSL_read_ex(ssl_, buffer.data(), buffer.size(), &count);
        if (status == 1) {
            return count;
        }
        const int ssl_error = SSL_get_error(ssl_, status);
        // Many servers close after QUIT without close_notify; that is an end, not an attack
        // here, because SMTP replies carry their own end.
        if (ssl_error == SSL_ERROR_ZERO_RETURN ||
            (ssl_error == SSL_ERROR_SSL &&
             ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
            ERR_clear_error();
            return std::size_t{0};
        }
        auto waited = wait_for_openssl(ssl_error, fd_, deadline, "read from", peer_);
        if (!waited) {
            return waited.error();
        }
        if (!waited.value()) {
            return io_error("read from", peer_);
        }
    }
}

Status TlsStream::write_all(std::string_view data, const Deadline& deadline)
{
    while (!data.empty()) {
        ERR_clear_error();
        errno = 0;
        std::size_t count = 0;
        const int status = SSL_write_ex(ssl_, data.data(), data.size(), &count);
        if (status == 1) {
            data.remove_prefix(count);
            continue;
        }
        const int ssl_error = SSL_get_error(ssl_, status);
        auto waited = wait_for_openssl(ssl_error, fd_, deadline, "write to", peer_);
        if (!waited) {
            return waited.error();
        }
        if (!waited.value()) {
            return io_error("write to", peer_);
        }
    }
    return success();
}

void TlsStream::close_notify()
{
    SSL_shutdown(ssl_);
    ERR_clear_error();
}

} // namespace mailmon
