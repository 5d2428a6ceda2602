// SPDX-License-Identifier: GPL-3.0-or-later
// In-process fake peers on 127.0.0.1 for faults a real MTA cannot produce (silence, dribble,
// 2 MiB lines, broken handshakes), and a self-signed TLS identity made with OpenSSL at run time.
#pragma once

#include "mailmon/smtp.hpp"
#include "openssl_ptr.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <cstdint>
#include <functional>
#include <netinet/in.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fake {

// Sends all of text; false once the client has gone.
inline bool send_text(int fd, const std::string& text)
{
    std::size_t sent = 0;
    while (sent < text.size()) {
        const ssize_t count = ::send(fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
        if (count <= 0) {
            return false;
        }
        sent += static_cast<std::size_t>(count);
    }
    return true;
}

// One line from the client, without its line end; empty once the client has gone.
inline std::string receive_line(int fd)
{
    std::string line;
    char c = 0;
    while (::recv(fd, &c, 1, 0) == 1 && c != '\n') {
        line += c;
    }
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    return line;
}

// Blocks until the client closes (or the socket's 10 s receive timeout passes).
inline void wait_for_close(int fd)
{
    char buffer[256];
    while (::recv(fd, buffer, sizeof buffer, 0) > 0) {
    }
}

// The start most fakes share: a 220 banner, then the EHLO line answered with `capabilities`.
inline void greet(int fd, const std::string& capabilities)
{
    send_text(fd, "220 fake.test ESMTP\r\n");
    receive_line(fd);
    send_text(fd, capabilities);
}

// Accepts one connection on 127.0.0.1 at a kernel-chosen port and runs the handler on it in a
// thread. The handler's socket is blocking with 10 s timeouts, so no test can hang on it.
class Server {
public:
    explicit Server(std::function<void(int)> handler)
    {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        auto* generic = reinterpret_cast<sockaddr*>(&address);
        if (listener_ < 0 || ::bind(listener_, generic, length) != 0 ||
            ::listen(listener_, 4) != 0 || ::getsockname(listener_, generic, &length) != 0) {
            throw std::runtime_error("cannot start fake server");
        }
        port_ = ntohs(address.sin_port);
        thread_ = std::thread([this, handler = std::move(handler)] { serve(handler); });
    }
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    ~Server()
    {
        ::shutdown(listener_, SHUT_RDWR);
        thread_.join();
        ::close(listener_);
    }

    std::uint16_t port() const { return port_; }

private:
    void serve(const std::function<void(int)>& handler) const
    {
        const int client = ::accept(listener_, nullptr, nullptr);
        if (client < 0) {
            return;
        }
        const timeval limit{10, 0};
        ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
        ::setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
        handler(client);
        ::close(client);
    }

    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::thread thread_;
};

// A self-signed P-256 certificate for "mx.test", valid from an hour ago for a day.
struct Identity {
    mailmon::EvpPkeyPtr key;
    mailmon::X509Ptr certificate;
};

inline Identity make_identity()
{
    Identity identity;
    identity.key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    identity.certificate.reset(X509_new());
    X509* cert = identity.certificate.get();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
    X509_set_pubkey(cert, identity.key.get());
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("mx.test"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* names =
        X509V3_EXT_conf_nid(nullptr, &context, NID_subject_alt_name, "DNS:mx.test");
    X509_add_ext(cert, names, -1);
    X509_EXTENSION_free(names);
    X509_sign(cert, identity.key.get(), EVP_sha256());
    return identity;
}

// SHA-256 of the DER SubjectPublicKeyInfo: the data of a "3 1 1" TLSA record.
inline std::vector<std::uint8_t> spki_sha256(const Identity& identity)
{
    unsigned char* der = nullptr;
    const int length = i2d_PUBKEY(identity.key.get(), &der);
    std::vector<std::uint8_t> digest(SHA256_DIGEST_LENGTH);
    SHA256(der, static_cast<std::size_t>(length), digest.data());
    OPENSSL_free(der);
    return digest;
}

// A server-side TLS connection on a blocking socket, for the handler thread.
class TlsServer {
public:
    // `tune` may restrict the server, e.g. to ciphers the client cannot use.
    TlsServer(
        const Identity& identity, int fd,
        const std::function<void(SSL_CTX*)>& tune = [](SSL_CTX*) {})
    {
        context_.reset(SSL_CTX_new(TLS_server_method()));
        SSL_CTX_use_certificate(context_.get(), identity.certificate.get());
        SSL_CTX_use_PrivateKey(context_.get(), identity.key.get());
        tune(context_.get());
        ssl_.reset(SSL_new(context_.get()));
        SSL_set_fd(ssl_.get(), fd);
    }

    bool accept() { return SSL_accept(ssl_.get()) == 1; }

    bool send_text(const std::string& text)
    {
        std::size_t written = 0;
        return SSL_write_ex(ssl_.get(), text.data(), text.size(), &written) == 1;
    }

    std::string receive_line()
    {
        std::string line;
        char c = 0;
        std::size_t count = 0;
        while (SSL_read_ex(ssl_.get(), &c, 1, &count) == 1 && c != '\n') {
            line += c;
        }
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        return line;
    }

private:
    mailmon::SslCtxPtr context_;
    mailmon::SslPtr ssl_;
};

// A complete STARTTLS dialogue as an MTA runs it.
inline void starttls_dialogue(const Identity& identity, int fd)
{
    greet(fd, "250-fake.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n");
    if (receive_line(fd) != "STARTTLS") {
        return;
    }
    send_text(fd, "220 2.0.0 Ready to start TLS\r\n");
    TlsServer tls(identity, fd);
    if (!tls.accept()) {
        return;
    }
    tls.receive_line();
    tls.send_text("250-fake.test\r\n250 AUTH PLAIN LOGIN\r\n");
    if (tls.receive_line() == "QUIT") {
        tls.send_text("221 2.0.0 Bye\r\n");
    }
}

// Probe options for one of these servers, as the tests use them.
inline mailmon::ProbeOptions options_for(const Server& server, mailmon::SmtpMode mode)
{
    mailmon::ProbeOptions options;
    options.address = "127.0.0.1";
    options.port = server.port();
    options.mode = mode;
    options.helo_name = "probe.test";
    return options;
}

} // namespace fake
