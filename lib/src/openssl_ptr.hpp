// SPDX-License-Identifier: GPL-3.0-or-later
// RAII owners for OpenSSL handles, and the one place that drains OpenSSL's error queue. The
// queue is per thread, so a probe only ever sees its own errors.
#pragma once

#include <memory>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string>

namespace mailmon {

struct OpensslFree {
    void operator()(SSL_CTX* handle) const { SSL_CTX_free(handle); }
    void operator()(SSL* handle) const { SSL_free(handle); }
    void operator()(X509* handle) const { X509_free(handle); }
    void operator()(EVP_PKEY* handle) const { EVP_PKEY_free(handle); }
    void operator()(STACK_OF(X509) * handle) const { sk_X509_pop_free(handle, X509_free); }
    void operator()(X509_NAME* handle) const { X509_NAME_free(handle); }
    void operator()(BIO* handle) const { BIO_free_all(handle); }
};

using SslCtxPtr = std::unique_ptr<SSL_CTX, OpensslFree>;
using SslPtr = std::unique_ptr<SSL, OpensslFree>;
using X509Ptr = std::unique_ptr<X509, OpensslFree>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpensslFree>;
using X509StackPtr = std::unique_ptr<STACK_OF(X509), OpensslFree>;
using BioPtr = std::unique_ptr<BIO, OpensslFree>;

// Empties this thread's OpenSSL error queue and returns the reasons, oldest first, joined by
// "; " ("sslv3 alert handshake failure"); empty when the queue was empty.
std::string take_openssl_errors();

} // namespace mailmon
