// SPDX-License-Identifier: GPL-3.0-or-later
// What a check needs to know of a certificate, from its DER bytes: names, validity and days
// left, key, signature algorithm, fingerprint; host-name matching (RFC 6125); verification of a
// chain as a server sent it against a trust store, with every problem named; and the status of
// a stapled OCSP response.
#pragma once

#include "mailmon/result.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// OpenSSL's own type, kept out of the public interface.
struct x509_store_st;

namespace mailmon {

using Der = std::vector<std::uint8_t>;
using SystemTime = std::chrono::system_clock::time_point;

enum class KeyType { Rsa, Ec, Ed25519, Ed448, Dsa, Other };

// "RSA", "EC", "Ed25519", "Ed448", "DSA", "other".
const char* to_string(KeyType type);

struct CertificateInfo {
    std::string subject; // RFC 2253 form, "CN=mx.example.org,O=Example"
    std::string issuer;
    std::string common_name; // the most specific CN of the subject; empty when none
    std::vector<std::string> dns_names; // subjectAltName dNSName entries, as sent
    std::vector<std::string> ip_addresses; // subjectAltName iPAddress entries, printed
    SystemTime not_before;
    SystemTime not_after;
    KeyType key_type = KeyType::Other;
    int key_bits = 0;
    std::string key_curve; // EC only: "prime256v1"
    std::string signature_algorithm; // "sha256WithRSAEncryption", "ED25519"
    bool weak_signature = false; // signed with MD2, MD4, MD5 or SHA-1
    bool self_signed = false; // subject equals issuer and its own key verifies the signature
    bool is_ca = false; // basicConstraints cA
    std::string sha256; // "AB:12:...", upper-case hex pairs joined by ':'
    std::string serial; // upper-case hex

    // Fractional days from `now` until notAfter; negative once expired.
    double days_left(SystemTime now) const;
    // "RSA 2048", "EC 256 prime256v1", "Ed25519".
    std::string key_text() const;
};

// Parses one DER certificate. Errors: Certificate ("cannot parse certificate: ...") for bytes
// that are not exactly one X.509 certificate (trailing bytes are an error too). Thread-safe.
Result<CertificateInfo> inspect_certificate(std::span<const std::uint8_t> der);

// Whether the certificate is valid for `name`, RFC 6125 style as OpenSSL's X509_check_host does
// it with partial wildcards refused: a "*" only as the whole left-most label of a DNS-ID,
// matching one label; the CN is consulted only when there is no dNSName. An IPv4 or IPv6
// literal is matched against iPAddress entries instead. Errors: Certificate for bad DER.
Result<bool> matches_name(std::span<const std::uint8_t> der, std::string_view name);

// A date as "2026-12-31 23:59:59 UTC".
std::string format_utc(SystemTime time);

// Points `store` at the system trust store the way OpenSSL's defaults do ($SSL_CERT_FILE and
// $SSL_CERT_DIR first), but reads the default bundle file only when $SSL_CERT_FILE names one:
// otherwise the hashed directory alone is used, which is read lazily, one issuer at a time.
// Parsing Debian's 140-root bundle costs about 20 ms of CPU per load; the directory holds the
// same roots (update-ca-certificates writes both). Errors: Config naming what failed.
Status load_system_trust(x509_store_st* store);

// A set of trusted roots. Read-only after creation, so threads may verify against one store.
class TrustStore {
public:
    // Both empty: the system default store (as OpenSSL finds it). Errors: Config naming the
    // file or directory that could not be loaded.
    static Result<TrustStore> load(const std::string& ca_file, const std::string& ca_path);
    // Exactly these certificates (tests, pinned roots). Errors: Certificate for bad DER.
    static Result<TrustStore> from_der(const std::vector<Der>& anchors);

    TrustStore(TrustStore&&) noexcept;
    TrustStore& operator=(TrustStore&&) noexcept;
    ~TrustStore();

    x509_store_st* get() const { return store_.get(); }

private:
    struct Free {
        void operator()(x509_store_st* store) const;
    };
    explicit TrustStore(x509_store_st* store) : store_(store) {}
    std::unique_ptr<x509_store_st, Free> store_;
};

// What went wrong at one position of a chain. `code` is OpenSSL's X509_V_ERR_* value and
// `depth` the position in the chain OpenSSL built (0 = leaf).
struct ChainProblem {
    int depth = 0;
    int code = 0;
    std::string subject; // of the certificate at that depth; empty when unknown
    std::string text; // our wording, "expired", "missing intermediate: ...", "untrusted root: ..."
};

struct ChainVerification {
    std::vector<ChainProblem> problems; // empty: the chain verified
    std::vector<Der> built; // the chain as built, leaf first, up to the trust anchor if found

    bool ok() const { return problems.empty(); }
};

// Verifies `chain` (leaf first, as sent by the server) against `store` at time `at`, for the
// TLS server purpose, without name checks (see matches_name) and without filling gaps: an
// intermediate the server did not send and the store does not hold is a failure. Every problem
// OpenSSL finds is collected, not only the first. Errors: Certificate for an empty chain or bad
// DER, Internal for OpenSSL failures. Thread-safe.
Result<ChainVerification> verify_chain(const std::vector<Der>& chain, const TrustStore& store,
                                       SystemTime at);

enum class OcspStatus { Good, Revoked, Unknown };

// "good", "revoked", "unknown".
const char* to_string(OcspStatus status);

struct OcspStaple {
    std::string response_status; // "successful", "trylater", ... (RFC 6960 §4.2.1)
    std::optional<OcspStatus> status; // for the leaf's serial; nullopt: the leaf is not listed
    std::optional<SystemTime> revoked_at;
    std::optional<SystemTime> next_update;
};

// Reads a stapled OCSP response (RFC 6960) and finds the entry for `leaf_der`'s serial number.
// LIMIT: the response's signature is not verified — a forged staple could claim "good"; it is
// read to report revocation, not to trust it. Errors: Certificate for undecodable bytes.
Result<OcspStaple> read_ocsp_staple(std::span<const std::uint8_t> response,
                                    std::span<const std::uint8_t> leaf_der);

} // namespace mailmon
