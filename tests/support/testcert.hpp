// SPDX-License-Identifier: GPL-3.0-or-later
// Test certificates made in-process with OpenSSL: any validity window (past and future
// included, which Debian 12's openssl CLI cannot set), key type and size, signing digest.
// Used by the unit tests and by the sandbox tool mailmon-testcert. Test code only.
#pragma once

#include "mailmon/cert.hpp"
#include "mailmon/result.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace mailmon::testcert {

enum class KeyKind { Ec256, Ec384, Rsa, Ed25519 };

struct KeySpec {
    KeyKind kind = KeyKind::Ec256;
    int rsa_bits = 2048; // for KeyKind::Rsa
};

struct CertSpec {
    std::string common_name;
    std::vector<std::string> dns_names; // subjectAltName dNSName entries
    std::vector<std::string> ip_addresses; // subjectAltName iPAddress entries
    // Validity relative to now; notBefore may lie in the future, notAfter in the past.
    std::chrono::seconds not_before{-std::chrono::hours(1)};
    std::chrono::seconds not_after{std::chrono::hours(24 * 90)};
    std::string digest = "SHA256"; // ignored for Ed25519, which signs without one
    bool ca = false;
    long serial = 1;
};

// A private key; opaque, shared so an Issued value can be copied.
class Key {
public:
    explicit Key(std::shared_ptr<void> key) : key_(std::move(key)) {}
    static Result<Key> generate(const KeySpec& spec);
    std::string pem() const; // PKCS#8, unencrypted
    void* get() const { return key_.get(); } // EVP_PKEY*

private:
    std::shared_ptr<void> key_;
};

struct Issued {
    Key key;
    Der der;
    std::string pem; // the certificate alone
};

// Issues a certificate for `key`, signed by `issuer` (its key and subject), or self-signed when
// issuer is null. Errors: Usage for an unknown digest or bad IP text, Internal for OpenSSL.
Result<Issued> issue(const CertSpec& spec, const Key& key, const Issued* issuer);

// A successful OCSP response (RFC 6960) for `subject`, signed by its issuer, saying `status`.
Result<Der> ocsp_response(const Issued& subject, const Issued& issuer, OcspStatus status);
// An OCSP response with a non-successful status and no body (1 = malformedRequest,
// 3 = tryLater, ...).
Result<Der> ocsp_error_response(int response_status);

// Reads a PEM certificate and key (the sandbox CA kept on disk). Errors: Config.
Result<Issued> load_pem(const std::string& cert_pem, const std::string& key_pem);

} // namespace mailmon::testcert
