// SPDX-License-Identifier: GPL-3.0-or-later
// Making test keys and certificates with the OpenSSL 3 library API.
#include "testcert.hpp"

#include <arpa/inet.h>
#include <array>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

namespace mailmon::testcert {

namespace {

struct Free {
    void operator()(X509* certificate) const { X509_free(certificate); }
    void operator()(BIO* bio) const { BIO_free_all(bio); }
    void operator()(GENERAL_NAMES* names) const { GENERAL_NAMES_free(names); }
    void operator()(X509_EXTENSION* extension) const { X509_EXTENSION_free(extension); }
    void operator()(OCSP_BASICRESP* response) const { OCSP_BASICRESP_free(response); }
    void operator()(OCSP_RESPONSE* response) const { OCSP_RESPONSE_free(response); }
    void operator()(ASN1_TIME* time) const { ASN1_TIME_free(time); }
};

template <typename T> using Owned = std::unique_ptr<T, Free>;

Error failure(const std::string& what)
{
    std::string reasons;
    for (unsigned long code = ERR_get_error(); code != 0; code = ERR_get_error()) {
        const char* reason = ERR_reason_error_string(code);
        reasons += (reasons.empty() ? "" : "; ") + std::string(reason ? reason : "?");
    }
    return make_error(ErrorKind::Internal, "cannot " + what + ": " + reasons);
}

std::shared_ptr<void> share(EVP_PKEY* key)
{
    return std::shared_ptr<void>(key,
                                 [](void* owned) { EVP_PKEY_free(static_cast<EVP_PKEY*>(owned)); });
}

std::string bio_text(BIO* bio)
{
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    return length > 0 ? std::string(data, static_cast<std::size_t>(length)) : std::string();
}

Status add_extension(X509* certificate, X509* issuer, int nid, const std::string& value)
{
    X509V3_CTX context{};
    X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
    Owned<X509_EXTENSION> extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str()));
    if (!extension || X509_add_ext(certificate, extension.get(), -1) != 1) {
        return failure("add extension " + value);
    }
    return success();
}

Status add_alt_names(X509* certificate, const CertSpec& spec)
{
    std::string value;
    for (const std::string& name : spec.dns_names) {
        value += (value.empty() ? "" : ",") + std::string("DNS:") + name;
    }
    for (const std::string& address : spec.ip_addresses) {
        std::array<unsigned char, 16> binary{};
        if (inet_pton(AF_INET, address.c_str(), binary.data()) != 1 &&
            inet_pton(AF_INET6, address.c_str(), binary.data()) != 1) {
            return make_error(ErrorKind::Usage, "cannot use IP address '" + address + "'");
        }
        value += (value.empty() ? "" : ",") + std::string("IP:") + address;
    }
    if (value.empty()) {
        return success();
    }
    return add_extension(certificate, certificate, NID_subject_alt_name, value);
}

Status add_extensions(X509* certificate, X509* issuer, const CertSpec& spec)
{
    const std::string constraints = spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE";
    const std::string usage =
        spec.ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,keyEncipherment";
    auto added = add_extension(certificate, issuer, NID_basic_constraints, constraints);
    if (added) {
        added = add_extension(certificate, issuer, NID_key_usage, usage);
    }
    if (added) {
        added = add_extension(certificate, issuer, NID_subject_key_identifier, "hash");
    }
    if (added && issuer != certificate) {
        added = add_extension(certificate, issuer, NID_authority_key_identifier, "keyid:always");
    }
    if (added && !spec.ca) {
        added = add_extension(certificate, issuer, NID_ext_key_usage, "serverAuth");
    }
    if (added) {
        added = add_alt_names(certificate, spec);
    }
    return added;
}

Result<Der> der_of(X509* certificate)
{
    const int length = i2d_X509(certificate, nullptr);
    if (length <= 0) {
        return failure("encode certificate");
    }
    Der der(static_cast<std::size_t>(length));
    unsigned char* out = der.data();
    i2d_X509(certificate, &out);
    return der;
}

Result<Issued> finish(X509* certificate, const Key& key)
{
    auto der = der_of(certificate);
    if (!der) {
        return der.error();
    }
    Owned<BIO> bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), certificate) != 1) {
        return failure("write certificate PEM");
    }
    return Issued{key, std::move(der.value()), bio_text(bio.get())};
}

Result<Owned<X509>> parse_issuer(const Issued& issuer)
{
    const unsigned char* cursor = issuer.der.data();
    Owned<X509> parsed(d2i_X509(nullptr, &cursor, static_cast<long>(issuer.der.size())));
    if (!parsed) {
        return failure("parse issuer certificate");
    }
    return parsed;
}

Status set_names_and_dates(X509* certificate, X509* issuer, const CertSpec& spec)
{
    X509_NAME* subject = X509_get_subject_name(certificate);
    const auto* cn = reinterpret_cast<const unsigned char*>(spec.common_name.c_str());
    if (X509_set_version(certificate, 2) != 1 ||
        ASN1_INTEGER_set(X509_get_serialNumber(certificate), spec.serial) != 1 ||
        X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("mailmon test"), -1, -1,
                                   0) != 1 ||
        X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, cn, -1, -1, 0) != 1 ||
        X509_set_issuer_name(certificate, X509_get_subject_name(issuer)) != 1 ||
        X509_gmtime_adj(X509_getm_notBefore(certificate), spec.not_before.count()) == nullptr ||
        X509_gmtime_adj(X509_getm_notAfter(certificate), spec.not_after.count()) == nullptr) {
        return failure("fill certificate fields");
    }
    return success();
}

} // namespace

Result<Key> Key::generate(const KeySpec& spec)
{
    EVP_PKEY* key = nullptr;
    switch (spec.kind) {
    case KeyKind::Ec256:
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
        break;
    case KeyKind::Ec384:
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
        break;
    case KeyKind::Rsa:
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(spec.rsa_bits));
        break;
    case KeyKind::Ed25519:
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
        break;
    }
    if (key == nullptr) {
        return failure("generate a key");
    }
    return Key(share(key));
}

std::string Key::pem() const
{
    Owned<BIO> bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), static_cast<EVP_PKEY*>(get()), nullptr, nullptr,
                                         0, nullptr, nullptr) != 1) {
        return {};
    }
    return bio_text(bio.get());
}

Result<Issued> issue(const CertSpec& spec, const Key& key, const Issued* issuer)
{
    Owned<X509> certificate(X509_new());
    if (!certificate) {
        return failure("create a certificate");
    }
    Owned<X509> issuer_certificate;
    if (issuer != nullptr) {
        auto parsed = parse_issuer(*issuer);
        if (!parsed) {
            return parsed.error();
        }
        issuer_certificate = std::move(parsed.value());
    }
    X509* signer = issuer != nullptr ? issuer_certificate.get() : certificate.get();
    auto* signing_key = static_cast<EVP_PKEY*>(issuer != nullptr ? issuer->key.get() : key.get());

    if (X509_set_pubkey(certificate.get(), static_cast<EVP_PKEY*>(key.get())) != 1) {
        return failure("set the public key");
    }
    auto filled = set_names_and_dates(certificate.get(), signer, spec);
    if (filled) {
        filled = add_extensions(certificate.get(), signer, spec);
    }
    if (!filled) {
        return filled.error();
    }

    const bool digestless = EVP_PKEY_get_base_id(signing_key) == EVP_PKEY_ED25519;
    const EVP_MD* digest = digestless ? nullptr : EVP_get_digestbyname(spec.digest.c_str());
    if (!digestless && digest == nullptr) {
        return make_error(ErrorKind::Usage, "cannot sign with unknown digest " + spec.digest);
    }
    if (X509_sign(certificate.get(), signing_key, digest) <= 0) {
        return failure("sign the certificate");
    }
    return finish(certificate.get(), key);
}

namespace {

Result<Der> response_der(OCSP_RESPONSE* response)
{
    const int length = i2d_OCSP_RESPONSE(response, nullptr);
    if (length <= 0) {
        return failure("encode OCSP response");
    }
    Der der(static_cast<std::size_t>(length));
    unsigned char* out = der.data();
    i2d_OCSP_RESPONSE(response, &out);
    return der;
}

int certificate_status(OcspStatus status)
{
    switch (status) {
    case OcspStatus::Good:
        return V_OCSP_CERTSTATUS_GOOD;
    case OcspStatus::Revoked:
        return V_OCSP_CERTSTATUS_REVOKED;
    case OcspStatus::Unknown:
        break;
    }
    return V_OCSP_CERTSTATUS_UNKNOWN;
}

} // namespace

Result<Der> ocsp_response(const Issued& subject, const Issued& issuer, OcspStatus status)
{
    auto subject_x509 = parse_issuer(subject);
    auto issuer_x509 = parse_issuer(issuer);
    if (!subject_x509 || !issuer_x509) {
        return failure("parse OCSP subject");
    }
    Owned<OCSP_BASICRESP> basic(OCSP_BASICRESP_new());
    OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), subject_x509->get(), issuer_x509->get());
    Owned<ASN1_TIME> now(X509_gmtime_adj(nullptr, 0));
    Owned<ASN1_TIME> next(X509_gmtime_adj(nullptr, 86400));
    const bool revoked = status == OcspStatus::Revoked;
    const bool added =
        basic && id != nullptr &&
        OCSP_basic_add1_status(basic.get(), id, certificate_status(status),
                               revoked ? OCSP_REVOKED_STATUS_KEYCOMPROMISE : -1,
                               revoked ? now.get() : nullptr, now.get(), next.get()) != nullptr;
    OCSP_CERTID_free(id);
    if (!added ||
        OCSP_basic_sign(basic.get(), issuer_x509->get(), static_cast<EVP_PKEY*>(issuer.key.get()),
                        EVP_sha256(), nullptr, 0) != 1) {
        return failure("make OCSP response");
    }
    Owned<OCSP_RESPONSE> response(
        OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
    if (!response) {
        return failure("make OCSP response");
    }
    return response_der(response.get());
}

Result<Der> ocsp_error_response(int response_status)
{
    Owned<OCSP_RESPONSE> response(OCSP_response_create(response_status, nullptr));
    if (!response) {
        return failure("make OCSP response");
    }
    return response_der(response.get());
}

Result<Issued> load_pem(const std::string& cert_pem, const std::string& key_pem)
{
    Owned<BIO> cert_bio(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
    Owned<BIO> key_bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
    if (!cert_bio || !key_bio) {
        return failure("read PEM");
    }
    Owned<X509> certificate(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr);
    if (!certificate || key == nullptr) {
        EVP_PKEY_free(key);
        auto error = failure("read the CA certificate and key");
        error.kind = ErrorKind::Config;
        return error;
    }
    return finish(certificate.get(), Key(share(key)));
}

} // namespace mailmon::testcert
