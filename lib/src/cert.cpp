// SPDX-License-Identifier: GPL-3.0-or-later
// Certificate inspection, name matching, chain verification and OCSP staple reading on
// OpenSSL 3. Every handle is owned by a unique_ptr; the verify callback never throws.
#include "mailmon/cert.hpp"

#include "mailmon/output.hpp"
#include "openssl_ptr.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cstdlib>
#include <ctime>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

namespace mailmon {

namespace {

struct LocalFree {
    void operator()(GENERAL_NAMES* names) const { GENERAL_NAMES_free(names); }
    void operator()(X509_STORE_CTX* context) const { X509_STORE_CTX_free(context); }
    void operator()(BIGNUM* number) const { BN_free(number); }
    void operator()(char* text) const { OPENSSL_free(text); }
    void operator()(OCSP_RESPONSE* response) const { OCSP_RESPONSE_free(response); }
    void operator()(OCSP_BASICRESP* response) const { OCSP_BASICRESP_free(response); }
};

template <typename T> using Owned = std::unique_ptr<T, LocalFree>;

Result<X509Ptr> parse_der(std::span<const std::uint8_t> der)
{
    const unsigned char* cursor = der.data();
    X509Ptr certificate(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
    if (!certificate) {
        const std::string reasons = take_openssl_errors();
        return make_error(ErrorKind::Certificate,
                          "cannot parse certificate: " +
                              (reasons.empty() ? std::string("not DER X.509") : reasons));
    }
    if (cursor != der.data() + der.size()) {
        return make_error(ErrorKind::Certificate,
                          "cannot parse certificate: trailing bytes after the certificate");
    }
    return certificate;
}

std::string name_text(const X509_NAME* name)
{
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
        return {};
    }
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return length > 0 ? std::string(data, static_cast<std::size_t>(length)) : std::string();
}

std::string asn1_text(const ASN1_STRING* text)
{
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                       static_cast<std::size_t>(ASN1_STRING_length(text)));
}

std::string common_name(const X509_NAME* name)
{
    int last = -1;
    for (int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1); index >= 0;
         index = X509_NAME_get_index_by_NID(name, NID_commonName, index)) {
        last = index;
    }
    if (last < 0) {
        return {};
    }
    return asn1_text(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last)));
}

std::string ip_text(const ASN1_OCTET_STRING* address)
{
    std::array<char, INET6_ADDRSTRLEN> text{};
    const int length = ASN1_STRING_length(address);
    const int family = length == 4 ? AF_INET : length == 16 ? AF_INET6 : -1;
    if (family < 0 || inet_ntop(family, ASN1_STRING_get0_data(address), text.data(),
                                static_cast<socklen_t>(text.size())) == nullptr) {
        return "?";
    }
    return text.data();
}

void read_alt_names(X509* certificate, CertificateInfo& info)
{
    Owned<GENERAL_NAMES> names(static_cast<GENERAL_NAMES*>(
        X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr)));
    for (int index = 0; names && index < sk_GENERAL_NAME_num(names.get()); ++index) {
        const GENERAL_NAME* entry = sk_GENERAL_NAME_value(names.get(), index);
        if (entry->type == GEN_DNS) {
            info.dns_names.push_back(asn1_text(entry->d.dNSName));
        } else if (entry->type == GEN_IPADD) {
            info.ip_addresses.push_back(ip_text(entry->d.iPAddress));
        }
    }
}

SystemTime to_system_time(const ASN1_TIME* time)
{
    std::tm parts{};
    if (ASN1_TIME_to_tm(time, &parts) != 1) {
        return SystemTime{};
    }
    return std::chrono::system_clock::from_time_t(timegm(&parts));
}

void read_key(X509* certificate, CertificateInfo& info)
{
    EVP_PKEY* key = X509_get0_pubkey(certificate);
    if (key == nullptr) {
        return;
    }
    info.key_bits = EVP_PKEY_get_bits(key);
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
        info.key_type = KeyType::Rsa;
        break;
    case EVP_PKEY_EC: {
        info.key_type = KeyType::Ec;
        std::array<char, 64> curve{};
        if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve.data(),
                                           curve.size(), nullptr) == 1) {
            info.key_curve = curve.data();
        }
        break;
    }
    case EVP_PKEY_ED25519:
        info.key_type = KeyType::Ed25519;
        break;
    case EVP_PKEY_ED448:
        info.key_type = KeyType::Ed448;
        break;
    case EVP_PKEY_DSA:
        info.key_type = KeyType::Dsa;
        break;
    default:
        info.key_type = KeyType::Other;
    }
}

bool weak_digest(int digest_nid)
{
    return digest_nid == NID_md2 || digest_nid == NID_md4 || digest_nid == NID_md5 ||
           digest_nid == NID_sha1 || digest_nid == NID_md5_sha1;
}

void read_signature(X509* certificate, CertificateInfo& info)
{
    const int signature_nid = X509_get_signature_nid(certificate);
    const char* name = OBJ_nid2ln(signature_nid);
    info.signature_algorithm = name != nullptr ? name : "unknown";
    int digest_nid = NID_undef;
    if (X509_get_signature_info(certificate, &digest_nid, nullptr, nullptr, nullptr) == 1) {
        info.weak_signature = weak_digest(digest_nid);
    }
}

std::string hex_pairs(std::span<const unsigned char> bytes)
{
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string text;
    for (const unsigned char byte : bytes) {
        if (!text.empty()) {
            text += ':';
        }
        text += digits[byte >> 4];
        text += digits[byte & 0x0F];
    }
    return text;
}

std::string serial_text(const ASN1_INTEGER* serial)
{
    Owned<BIGNUM> number(ASN1_INTEGER_to_BN(serial, nullptr));
    Owned<char> hex(number ? BN_bn2hex(number.get()) : nullptr);
    return hex ? std::string(hex.get()) : std::string();
}

void read_identity(X509* certificate, CertificateInfo& info)
{
    info.subject = name_text(X509_get_subject_name(certificate));
    info.issuer = name_text(X509_get_issuer_name(certificate));
    info.common_name = common_name(X509_get_subject_name(certificate));
    read_alt_names(certificate, info);
    info.serial = serial_text(X509_get0_serialNumber(certificate));

    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (X509_digest(certificate, EVP_sha256(), digest.data(), &length) == 1) {
        info.sha256 = hex_pairs(std::span(digest.data(), length));
    }
}

} // namespace

const char* to_string(KeyType type)
{
    switch (type) {
    case KeyType::Rsa:
        return "RSA";
    case KeyType::Ec:
        return "EC";
    case KeyType::Ed25519:
        return "Ed25519";
    case KeyType::Ed448:
        return "Ed448";
    case KeyType::Dsa:
        return "DSA";
    case KeyType::Other:
        break;
    }
    return "other";
}

double CertificateInfo::days_left(SystemTime now) const
{
    return std::chrono::duration<double>(not_after - now).count() / 86400.0;
}

std::string CertificateInfo::key_text() const
{
    if (key_type == KeyType::Ed25519 || key_type == KeyType::Ed448) {
        return to_string(key_type);
    }
    std::string text = std::string(to_string(key_type)) + " " + std::to_string(key_bits);
    return key_curve.empty() ? text : text + " " + key_curve;
}

Result<CertificateInfo> inspect_certificate(std::span<const std::uint8_t> der)
{
    auto parsed = parse_der(der);
    if (!parsed) {
        return parsed.error();
    }
    X509* certificate = parsed->get();

    CertificateInfo info;
    read_identity(certificate, info);
    info.not_before = to_system_time(X509_get0_notBefore(certificate));
    info.not_after = to_system_time(X509_get0_notAfter(certificate));
    read_key(certificate, info);
    read_signature(certificate, info);
    info.self_signed = X509_self_signed(certificate, 1) == 1;
    info.is_ca = (X509_get_extension_flags(certificate) & EXFLAG_CA) != 0;
    // Checks above may leave reasons in the queue (a self-signed test of a foreign key type).
    ERR_clear_error();
    return info;
}

Result<bool> matches_name(std::span<const std::uint8_t> der, std::string_view name)
{
    auto parsed = parse_der(der);
    if (!parsed) {
        return parsed.error();
    }
    // A fully qualified name may end in a dot; certificates never carry it.
    if (name.ends_with('.')) {
        name.remove_suffix(1);
    }
    const std::string text(name);
    std::array<unsigned char, 16> binary{};
    if (inet_pton(AF_INET, text.c_str(), binary.data()) == 1 ||
        inet_pton(AF_INET6, text.c_str(), binary.data()) == 1) {
        return X509_check_ip_asc(parsed->get(), text.c_str(), 0) == 1;
    }
    return X509_check_host(parsed->get(), text.data(), text.size(),
                           X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, nullptr) == 1;
}

std::string format_utc(SystemTime time)
{
    const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
    std::tm parts{};
    gmtime_r(&seconds, &parts);
    std::array<char, 32> text{};
    std::strftime(text.data(), text.size(), "%Y-%m-%d %H:%M:%S UTC", &parts);
    return text.data();
}

Status load_system_trust(x509_store_st* store)
{
    const char* file = std::getenv(X509_get_default_cert_file_env());
    const char* directory = std::getenv(X509_get_default_cert_dir_env());
    if (directory == nullptr || *directory == '\0') {
        directory = X509_get_default_cert_dir();
    }
    if (file != nullptr && *file != '\0' && X509_STORE_load_file(store, file) != 1) {
        return make_error(ErrorKind::Config, "cannot load the system trust store " +
                                                 std::string(file) + ": " + take_openssl_errors());
    }
    // A directory that does not exist is no error here either: OpenSSL's defaults skip it.
    X509_LOOKUP* lookup = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir());
    if (lookup == nullptr || X509_LOOKUP_add_dir(lookup, directory, X509_FILETYPE_PEM) != 1) {
        return make_error(ErrorKind::Config, "cannot load the system trust store " +
                                                 std::string(directory) + ": " +
                                                 take_openssl_errors());
    }
    ERR_clear_error();
    return success();
}

void TrustStore::Free::operator()(x509_store_st* store) const
{
    X509_STORE_free(store);
}

TrustStore::TrustStore(TrustStore&&) noexcept = default;
TrustStore& TrustStore::operator=(TrustStore&&) noexcept = default;
TrustStore::~TrustStore() = default;

Result<TrustStore> TrustStore::load(const std::string& ca_file, const std::string& ca_path)
{
    TrustStore store(X509_STORE_new());
    if (!store.store_) {
        return make_error(ErrorKind::Internal, "cannot create a trust store: out of memory");
    }
    if (ca_file.empty() && ca_path.empty()) {
        auto loaded = load_system_trust(store.get());
        if (!loaded) {
            return loaded.error();
        }
        return store;
    }
    if (!ca_file.empty() && X509_STORE_load_file(store.get(), ca_file.c_str()) != 1) {
        return make_error(ErrorKind::Config,
                          "cannot load trust store " + ca_file + ": " + take_openssl_errors());
    }
    if (!ca_path.empty() && X509_STORE_load_path(store.get(), ca_path.c_str()) != 1) {
        return make_error(ErrorKind::Config,
                          "cannot load trust store " + ca_path + ": " + take_openssl_errors());
    }
    return store;
}

Result<TrustStore> TrustStore::from_der(const std::vector<Der>& anchors)
{
    TrustStore store(X509_STORE_new());
    if (!store.store_) {
        return make_error(ErrorKind::Internal, "cannot create a trust store: out of memory");
    }
    for (const Der& anchor : anchors) {
        auto parsed = parse_der(anchor);
        if (!parsed) {
            return parsed.error();
        }
        if (X509_STORE_add_cert(store.get(), parsed->get()) != 1) {
            return make_error(ErrorKind::Internal,
                              "cannot add a trust anchor: " + take_openssl_errors());
        }
    }
    return store;
}

namespace {

struct RawProblem {
    int depth;
    int code;
    std::string subject;
    std::string issuer;
};

// Collected by the verify callback. Fixed capacity so the callback never allocates a vector
// slot: a chain with more problems than this has told us enough.
struct ProblemCollector {
    static constexpr std::size_t capacity = 32;
    std::array<RawProblem, capacity> problems{};
    std::size_t count = 0;
    bool failed = false; // a string copy threw inside the callback
};

// A C callback: it records each error and lets verification go on, so every problem is seen.
int collect_problem(int ok, X509_STORE_CTX* context) noexcept
{
    if (ok == 1) {
        return 1;
    }
    auto* collector = static_cast<ProblemCollector*>(X509_STORE_CTX_get_ex_data(context, 0));
    const int code = X509_STORE_CTX_get_error(context);
    const int depth = X509_STORE_CTX_get_error_depth(context);
    const bool seen =
        std::any_of(collector->problems.begin(), collector->problems.begin() + collector->count,
                    [&](const RawProblem& p) { return p.code == code && p.depth == depth; });
    if (seen || collector->count == ProblemCollector::capacity) {
        return 1;
    }
    try {
        X509* current = X509_STORE_CTX_get_current_cert(context);
        RawProblem& problem = collector->problems.at(collector->count);
        problem.depth = depth;
        problem.code = code;
        problem.subject = current ? name_text(X509_get_subject_name(current)) : std::string();
        problem.issuer = current ? name_text(X509_get_issuer_name(current)) : std::string();
        ++collector->count;
    } catch (...) {
        collector->failed = true;
        return 0;
    }
    return 1;
}

std::string position(const RawProblem& problem)
{
    if (problem.depth == 0) {
        return "leaf";
    }
    return "chain element " + std::to_string(problem.depth) + " " + quoted(problem.subject);
}

std::string describe(const RawProblem& problem)
{
    switch (problem.code) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return position(problem) + " expired";
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return position(problem) + " not yet valid";
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        return "self-signed certificate";
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        return "untrusted root " + quoted(problem.subject) + " (sent by the server)";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        if (problem.depth == 0) {
            return "missing intermediate: issuer " + quoted(problem.issuer) +
                   " of the leaf was not sent and is not trusted";
        }
        return "untrusted root: issuer " + quoted(problem.issuer) + " is not in the trust store";
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
        return position(problem) + " has a bad signature";
    case X509_V_ERR_INVALID_PURPOSE:
        return position(problem) + " is not for TLS servers (key usage)";
    case X509_V_ERR_INVALID_CA:
        return position(problem) + " is not a CA";
    default:
        return position(problem) + ": " + X509_verify_cert_error_string(problem.code);
    }
}

std::vector<Der> built_chain(X509_STORE_CTX* context)
{
    std::vector<Der> built;
    const STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(context);
    for (int index = 0; chain != nullptr && index < sk_X509_num(chain); ++index) {
        X509* certificate = sk_X509_value(chain, index);
        const int length = i2d_X509(certificate, nullptr);
        Der der(static_cast<std::size_t>(std::max(length, 0)));
        unsigned char* out = der.data();
        if (length > 0 && i2d_X509(certificate, &out) == length) {
            built.push_back(std::move(der));
        }
    }
    return built;
}

std::vector<ChainProblem> named_problems(const ProblemCollector& collector)
{
    std::vector<ChainProblem> problems;
    for (std::size_t index = 0; index < collector.count; ++index) {
        const RawProblem& raw = collector.problems.at(index);
        std::string text = describe(raw);
        // Several codes can mean one thing (no issuer found, so no signature to check).
        const bool repeated =
            std::any_of(problems.begin(), problems.end(),
                        [&](const ChainProblem& problem) { return problem.text == text; });
        if (!repeated) {
            problems.push_back(ChainProblem{raw.depth, raw.code, raw.subject, std::move(text)});
        }
    }
    return problems;
}

Result<X509StackPtr> parse_untrusted(const std::vector<Der>& chain)
{
    X509StackPtr untrusted(sk_X509_new_null());
    if (!untrusted) {
        return make_error(ErrorKind::Internal, "cannot verify chain: out of memory");
    }
    for (std::size_t index = 1; index < chain.size(); ++index) {
        auto parsed = parse_der(chain[index]);
        if (!parsed) {
            return parsed.error();
        }
        if (sk_X509_push(untrusted.get(), parsed->get()) <= 0) {
            return make_error(ErrorKind::Internal, "cannot verify chain: out of memory");
        }
        parsed->release();
    }
    return untrusted;
}

} // namespace

Result<ChainVerification> verify_chain(const std::vector<Der>& chain, const TrustStore& store,
                                       SystemTime at)
{
    if (chain.empty()) {
        return make_error(ErrorKind::Certificate, "cannot verify chain: no certificate was sent");
    }
    auto leaf = parse_der(chain.front());
    if (!leaf) {
        return leaf.error();
    }
    auto untrusted = parse_untrusted(chain);
    if (!untrusted) {
        return untrusted.error();
    }

    Owned<X509_STORE_CTX> context(X509_STORE_CTX_new());
    ProblemCollector collector;
    if (!context ||
        X509_STORE_CTX_init(context.get(), store.get(), leaf->get(), untrusted->get()) != 1) {
        return make_error(ErrorKind::Internal, "cannot verify chain: " + take_openssl_errors());
    }
    X509_STORE_CTX_set_purpose(context.get(), X509_PURPOSE_SSL_SERVER);
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(context.get()),
                               std::chrono::system_clock::to_time_t(at));
    X509_STORE_CTX_set_ex_data(context.get(), 0, &collector);
    X509_STORE_CTX_set_verify_cb(context.get(), collect_problem);

    const int verified = X509_verify_cert(context.get());
    ERR_clear_error();
    if (collector.failed || (verified != 1 && collector.count == 0)) {
        return make_error(ErrorKind::Internal, "cannot verify chain: verification aborted");
    }

    return ChainVerification{named_problems(collector), built_chain(context.get())};
}

const char* to_string(OcspStatus status)
{
    switch (status) {
    case OcspStatus::Good:
        return "good";
    case OcspStatus::Revoked:
        return "revoked";
    case OcspStatus::Unknown:
        break;
    }
    return "unknown";
}

namespace {

OcspStatus ocsp_status(int status)
{
    if (status == V_OCSP_CERTSTATUS_GOOD) {
        return OcspStatus::Good;
    }
    return status == V_OCSP_CERTSTATUS_REVOKED ? OcspStatus::Revoked : OcspStatus::Unknown;
}

// The single response for `serial`, if the staple lists it.
void find_entry(OCSP_BASICRESP* basic, const ASN1_INTEGER* serial, OcspStaple& staple)
{
    for (int index = 0; index < OCSP_resp_count(basic); ++index) {
        OCSP_SINGLERESP* single = OCSP_resp_get0(basic, index);
        ASN1_INTEGER* listed = nullptr;
        if (OCSP_id_get0_info(nullptr, nullptr, nullptr, &listed,
                              const_cast<OCSP_CERTID*>(OCSP_SINGLERESP_get0_id(single))) != 1 ||
            ASN1_INTEGER_cmp(listed, serial) != 0) {
            continue;
        }
        int reason = 0;
        ASN1_GENERALIZEDTIME* revoked = nullptr;
        ASN1_GENERALIZEDTIME* this_update = nullptr;
        ASN1_GENERALIZEDTIME* next_update = nullptr;
        const int status =
            OCSP_single_get0_status(single, &reason, &revoked, &this_update, &next_update);
        staple.status = ocsp_status(status);
        if (revoked != nullptr) {
            staple.revoked_at = to_system_time(revoked);
        }
        if (next_update != nullptr) {
            staple.next_update = to_system_time(next_update);
        }
        return;
    }
}

} // namespace

Result<OcspStaple> read_ocsp_staple(std::span<const std::uint8_t> response,
                                    std::span<const std::uint8_t> leaf_der)
{
    auto leaf = parse_der(leaf_der);
    if (!leaf) {
        return leaf.error();
    }
    const unsigned char* cursor = response.data();
    Owned<OCSP_RESPONSE> decoded(
        d2i_OCSP_RESPONSE(nullptr, &cursor, static_cast<long>(response.size())));
    if (!decoded) {
        ERR_clear_error();
        return make_error(ErrorKind::Certificate,
                          "cannot parse OCSP staple: not a DER OCSP response");
    }

    OcspStaple staple;
    const int status = OCSP_response_status(decoded.get());
    staple.response_status = OCSP_response_status_str(status);
    if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        return staple;
    }
    Owned<OCSP_BASICRESP> basic(OCSP_response_get1_basic(decoded.get()));
    if (!basic) {
        ERR_clear_error();
        return make_error(ErrorKind::Certificate,
                          "cannot parse OCSP staple: no basic response inside");
    }
    find_entry(basic.get(), X509_get0_serialNumber(leaf->get()), staple);
    return staple;
}

} // namespace mailmon
