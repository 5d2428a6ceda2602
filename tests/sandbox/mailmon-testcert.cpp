// SPDX-License-Identifier: GPL-3.0-or-later
// mailmon-testcert: issues one sandbox certificate with a chosen validity window (also in the
// past or future), key and signing digest, from a CA on disk or self-signed. The sandbox uses
// it at start for the certificate variants that Debian 12's openssl CLI cannot make.
#include "testcert.hpp"

#include <boost/program_options.hpp>
#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>

namespace po = boost::program_options;
using namespace mailmon;

namespace {

std::string read_file(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

bool write_file(const std::string& path, const std::string& text)
{
    std::ofstream out(path, std::ios::trunc);
    out << text;
    return static_cast<bool>(out);
}

Result<testcert::KeySpec> parse_key(const std::string& text)
{
    if (text == "ec256") {
        return testcert::KeySpec{testcert::KeyKind::Ec256, 0};
    }
    if (text == "ec384") {
        return testcert::KeySpec{testcert::KeyKind::Ec384, 0};
    }
    if (text == "ed25519") {
        return testcert::KeySpec{testcert::KeyKind::Ed25519, 0};
    }
    if (text.starts_with("rsa:")) {
        return testcert::KeySpec{testcert::KeyKind::Rsa, std::stoi(text.substr(4))};
    }
    return make_error(ErrorKind::Usage, "cannot use key '" + text +
                                            "': ec256, ec384, "
                                            "ed25519 or rsa:BITS");
}

std::chrono::seconds days(double value)
{
    return std::chrono::seconds(std::llround(value * 86400.0));
}

po::options_description options()
{
    po::options_description described("mailmon-testcert options");
    described.add_options()("help,h", "this text")("ca-cert", po::value<std::string>(),
                                                   "issuer certificate (PEM); none: self-signed")(
        "ca-key", po::value<std::string>(), "issuer private key (PEM)")(
        "cn", po::value<std::string>()->required(), "subject common name")(
        "dns", po::value<std::vector<std::string>>(), "subjectAltName DNS entry (repeatable)")(
        "ip", po::value<std::vector<std::string>>(), "subjectAltName IP entry (repeatable)")(
        "not-before-days", po::value<double>()->default_value(-1), "days from now, may be < 0")(
        "not-after-days", po::value<double>()->default_value(90), "days from now, may be < 0")(
        "key", po::value<std::string>()->default_value("ec256"),
        "ec256|ec384|ed25519|rsa:BITS")("digest", po::value<std::string>()->default_value("SHA256"),
                                        "signing digest, SHA1...")("ca", "issue a CA certificate")(
        "serial", po::value<long>()->default_value(1), "serial number")(
        "out-cert", po::value<std::string>()->required(), "certificate file to write")(
        "out-key", po::value<std::string>()->required(), "key file to write");
    return described;
}

Result<testcert::CertSpec> spec_from(const po::variables_map& values)
{
    testcert::CertSpec spec;
    spec.common_name = values["cn"].as<std::string>();
    if (values.count("dns") != 0) {
        spec.dns_names = values["dns"].as<std::vector<std::string>>();
    }
    if (values.count("ip") != 0) {
        spec.ip_addresses = values["ip"].as<std::vector<std::string>>();
    }
    spec.not_before = days(values["not-before-days"].as<double>());
    spec.not_after = days(values["not-after-days"].as<double>());
    spec.digest = values["digest"].as<std::string>();
    spec.ca = values.count("ca") != 0;
    spec.serial = values["serial"].as<long>();
    return spec;
}

int issue_to_files(const po::variables_map& values)
{
    auto key_spec = parse_key(values["key"].as<std::string>());
    auto key =
        key_spec ? testcert::Key::generate(*key_spec) : Result<testcert::Key>(key_spec.error());
    std::optional<testcert::Issued> issuer;
    if (key && values.count("ca-cert") != 0) {
        auto loaded = testcert::load_pem(read_file(values["ca-cert"].as<std::string>()),
                                         read_file(values["ca-key"].as<std::string>()));
        if (!loaded) {
            std::cerr << "mailmon-testcert: " << loaded.error().message << "\n";
            return 1;
        }
        issuer = std::move(loaded.value());
    }
    auto issued = key ? testcert::issue(*spec_from(values), *key, issuer ? &*issuer : nullptr)
                      : Result<testcert::Issued>(key.error());
    if (!issued) {
        std::cerr << "mailmon-testcert: " << issued.error().message << "\n";
        return 1;
    }
    if (!write_file(values["out-cert"].as<std::string>(), issued->pem) ||
        !write_file(values["out-key"].as<std::string>(), issued->key.pem())) {
        std::cerr << "mailmon-testcert: cannot write the output files\n";
        return 1;
    }
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    try {
        const auto described = options();
        po::variables_map values;
        po::store(po::parse_command_line(argc, argv, described), values);
        if (values.count("help") != 0) {
            std::cout << described;
            return 0;
        }
        po::notify(values);
        return issue_to_files(values);
    } catch (const std::exception& error) {
        std::cerr << "mailmon-testcert: " << error.what() << "\n";
        return 2;
    }
}
