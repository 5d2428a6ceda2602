// SPDX-License-Identifier: GPL-3.0-or-later
// check_mail_cert: will any of my mail certificates break delivery or submission, and when?
// Finds the hosts (-H, or every MX of --domain), probes every address x port at once, and
// judges each certificate chain: verification, name, days left, key and signature, DANE, OCSP.
#include "mailmon/cli.hpp"
#include "mailmon/dns.hpp"
#include "mailmon/mail_cert.hpp"
#include "mailmon/mx.hpp"
#include "mailmon/net.hpp"
#include "mailmon/output.hpp"
#include "mailmon/run.hpp"

#include <unistd.h>

namespace po = boost::program_options;
using namespace mailmon;

namespace {

struct CertOptions {
    std::string host;
    std::string domain;
    std::string name;
    CertPolicy policy;
    ProbeSettings probe;
};

const char* const purpose =
    "Checks the TLS certificates of mail servers as senders and mail clients see them: every "
    "address of -H, or of every MX of --domain, on every port of -p, all at once. Each chain "
    "is verified against the trust store (a missing intermediate is a failure), the name is "
    "matched (RFC 6125), the days left of every certificate sent are compared with -w/-c, weak "
    "keys and SHA-1/MD5 signatures are flagged, DANE TLSA records (RFC 7672) are checked when "
    "DNSSEC-validated, a stapled OCSP response is read, and the endpoints of one name must "
    "serve the same certificate.";

const char* const usage = "-H HOST | --domain DOMAIN [-p PORTS] [-w DAYS] [-c DAYS] [...]";

const char* const notes =
    "-w/-c take days: '-w 21' alerts when fewer than 21 days remain (fractions\n"
    "allowed); a value with ':' or '@' is a Nagios range. Port 465 uses implicit\n"
    "TLS, every other port STARTTLS.\n"
    "\nStates:\n"
    " OK        chains verify, names match, more days than -w, DANE matches\n"
    " WARNING   fewer days than -w; RSA key below --min-rsa-bits, EC below 256\n"
    "           bits; endpoints of one name serve different certificates; no\n"
    "           usable TLSA (--require-dane)\n"
    " CRITICAL  fewer days than -c; expired, not yet valid, self-signed,\n"
    "           untrusted, missing intermediate, name mismatch; SHA-1/MD5\n"
    "           signature; validated TLSA that matches nothing; revoked OCSP\n"
    "           staple; refused, timeout, no STARTTLS, handshake failure; host\n"
    "           or MX name that does not resolve\n"
    " UNKNOWN   our resolver did not answer; null MX; bad options; -t ran out\n"
    "\nExamples:\n"
    " check_mail_cert -H mx1.example.org -p 25,465,587\n"
    " check_mail_cert --domain example.org -w 30 -c 14 --require-dane\n"
    " check_mail_cert -H 192.0.2.25 --name mx1.example.org\n";

void declare_options(Cli& cli)
{
    // One option per group of lines; the formatter would pack the chain.
    // clang-format off
    cli.add()("hostname,H", po::value<std::string>()->value_name("HOST"),
              "A mail server: host name (all its addresses are checked) or IP address.")(
        "domain", po::value<std::string>()->value_name("DOMAIN"),
        "Check every MX of this mail domain (as check_mx finds them).")(
        "port,p", po::value<std::string>()->value_name("PORTS"),
        "Comma-separated ports (default 25); 465 is implicit TLS.")(
        "name", po::value<std::string>()->value_name("NAME"),
        "The name the certificates must carry (default: the host or MX name; with -H ADDRESS "
        "no name is checked unless given).")(
        "warning,w", po::value<std::string>()->value_name("DAYS"),
        "WARNING when fewer days remain on any certificate of a chain (default 21).")(
        "critical,c", po::value<std::string>()->value_name("DAYS"),
        "CRITICAL when fewer days remain (default 7).")(
        "min-rsa-bits", po::value<int>()->value_name("BITS"),
        "WARNING for RSA keys smaller than this (default 2048).")(
        "require-dane", po::bool_switch(),
        "WARNING when an endpoint has no usable DNSSEC-validated TLSA records.")(
        "helo", po::value<std::string>()->value_name("NAME"),
        "Our name in EHLO (default: this machine's host name).");
    // clang-format on
}

std::string local_host_name()
{
    std::array<char, 256> name{};
    if (gethostname(name.data(), name.size() - 1) != 0 || name[0] == '\0') {
        return "localhost";
    }
    return name.data();
}

std::variant<CertOptions, std::string> read_options(const Cli& cli, const CommonOptions& common)
{
    const auto& values = cli.values();
    const auto optional = [&](const char* key) {
        return values.count(key) != 0 ? std::optional(values[key].as<std::string>()) : std::nullopt;
    };
    CertOptions options;
    options.host = normalise_name(optional("hostname").value_or(""));
    options.domain = normalise_name(optional("domain").value_or(""));
    options.name = optional("name").value_or("");
    if (options.host.empty() && options.domain.empty()) {
        return std::string("give -H/--hostname HOST or --domain DOMAIN");
    }
    auto days = parse_days_thresholds(optional("warning").value_or("21"),
                                      optional("critical").value_or("7"));
    if (!days) {
        return days.error().message;
    }
    auto ports = parse_ports(optional("port").value_or("25"));
    if (!ports) {
        return ports.error().message;
    }
    options.policy.days = *days;
    options.policy.min_rsa_bits =
        values.count("min-rsa-bits") != 0 ? values["min-rsa-bits"].as<int>() : 2048;
    options.policy.require_dane = values["require-dane"].as<bool>();
    options.probe.ports = *ports;
    options.probe.helo_name = optional("helo").value_or(local_host_name());
    options.probe.ca_file = common.ca_file;
    options.probe.ca_path = common.ca_path;
    return options;
}

// -H: an address as it is, or a name with its A/AAAA addresses.
void add_host(dns::Resolver& resolver, const CertOptions& options, Families families,
              const Deadline& deadline, std::vector<HostTarget>& hosts,
              std::vector<Finding>& discovery)
{
    if (is_ip_literal(options.host)) {
        hosts.push_back(HostTarget{options.host, options.name, {options.host}});
        return;
    }
    MxTarget target;
    target.name = options.host;
    std::vector<dns::Query> queries;
    if (families.ipv4) {
        queries.push_back(dns::Query{options.host, dns::Type::A});
    }
    if (families.ipv6) {
        queries.push_back(dns::Query{options.host, dns::Type::AAAA});
    }
    apply_address_responses(target, resolver.resolve(queries, deadline));
    if (target.fault != TargetFault::None) {
        const State state =
            target.fault == TargetFault::ResolverSilent ? State::Unknown : State::Critical;
        discovery.push_back(
            Finding{state, "cannot resolve " + quoted(options.host) + ": " + target.fault_detail});
        return;
    }
    HostTarget host{options.host, options.name.empty() ? options.host : options.name, {}};
    for (const AddressResult& address : target.addresses) {
        host.addresses.push_back(address.address);
    }
    hosts.push_back(std::move(host));
}

// --domain: every MX target with its addresses, as check_mx discovers them.
void add_domain(dns::Resolver& resolver, const CertOptions& options, Families families,
                const Deadline& deadline, std::vector<HostTarget>& hosts,
                std::vector<Finding>& discovery)
{
    const MxSurvey survey = discover_mx(resolver, options.domain, families, deadline);
    if (survey.outcome != DomainOutcome::Mx && survey.outcome != DomainOutcome::ImplicitMx) {
        const bool ours = survey.outcome == DomainOutcome::ResolverSilent ||
                          survey.outcome == DomainOutcome::ResolverFailed ||
                          survey.outcome == DomainOutcome::NullMx;
        const std::string why = survey.outcome == DomainOutcome::NullMx
                                    ? "has a null MX (RFC 7505): no mail servers to check"
                                    : "has no usable MX: " + survey.detail;
        discovery.push_back(
            Finding{ours ? State::Unknown : State::Critical, quoted(options.domain) + " " + why});
        return;
    }
    for (const MxTarget& target : survey.targets) {
        if (target.fault != TargetFault::None) {
            const bool ours = target.fault == TargetFault::ResolverSilent;
            discovery.push_back(Finding{ours ? State::Unknown : State::Critical,
                                        "MX " + quoted(target.name) + ": " + target.fault_detail});
            continue;
        }
        HostTarget host{target.name, options.name.empty() ? target.name : options.name, {}};
        for (const AddressResult& address : target.addresses) {
            host.addresses.push_back(address.address);
        }
        hosts.push_back(std::move(host));
    }
}

// -v: one line per endpoint with the time of every phase; -vv adds the chain as sent.
void trace_probe(Diagnostics& diagnostics, const EndpointProbe& endpoint)
{
    if (!diagnostics.enabled(1)) {
        return;
    }
    std::string line = "step=probe host=" + endpoint.host +
                       " endpoint=" + endpoint_name(endpoint.address, endpoint.port);
    for (const PhaseTime& timing : endpoint.probe.timings) {
        line += std::string(" ") + to_string(timing.phase) +
                "_ms=" + format_number(timing.seconds * 1000).value_or("?");
    }
    line += " result=" + (endpoint.probe.failure ? sanitize(endpoint.probe.failure->error.message)
                                                 : std::string("ok"));
    diagnostics.note(1, line);
    if (!diagnostics.enabled(2) || !endpoint.probe.tls) {
        return;
    }
    int depth = 0;
    for (const Der& der : endpoint.probe.tls->chain_der) {
        const auto info = inspect_certificate(der);
        diagnostics.note(
            2, "step=chain endpoint=" + endpoint_name(endpoint.address, endpoint.port) +
                   " depth=" + std::to_string(depth++) +
                   " subject=" + (info ? quoted(info->subject) : std::string("unreadable")) +
                   " not_after=" + (info ? format_utc(info->not_after) : std::string("?")));
    }
}

Report run_check(const CertOptions& options, const CommonOptions& common, Diagnostics& diagnostics,
                 const Deadline& targets)
{
    auto store = TrustStore::load(common.ca_file, common.ca_path);
    dns::ResolverConfig config;
    config.servers = common.dns_servers;
    auto resolver = dns::Resolver::create(config);
    if (!store || !resolver) {
        Report report("MAIL_CERT");
        report.raise(State::Unknown);
        report.set_summary(!store ? store.error().message : resolver.error().message);
        return report;
    }
    // DNS gets half the budget, so a silent resolver is reported long before -t.
    const Deadline dns_deadline = targets.capped(common.timeout.budget / 2);
    const Families families{!common.ipv6_only, !common.ipv4_only};
    std::vector<HostTarget> hosts;
    std::vector<Finding> discovery;
    if (!options.host.empty()) {
        add_host(*resolver, options, families, dns_deadline, hosts, discovery);
    }
    if (!options.domain.empty()) {
        add_domain(*resolver, options, families, dns_deadline, hosts, discovery);
    }

    const auto endpoints = probe_hosts(*resolver, hosts, options.probe, dns_deadline, targets);
    const SystemTime now = std::chrono::system_clock::now();
    std::vector<EndpointVerdict> verdicts;
    for (const EndpointProbe& endpoint : endpoints) {
        trace_probe(diagnostics, endpoint);
        verdicts.push_back(judge_endpoint(endpoint, *store, options.policy, now));
        diagnostics.note(1,
                         "step=judge endpoint=" + endpoint_name(endpoint.address, endpoint.port) +
                             " state=" + to_string(verdicts.back().state));
    }
    return build_report(verdicts, discovery, options.policy);
}

} // namespace

int main(int argc, char** argv)
{
    const PluginInfo info{"check_mail_cert", "MAIL_CERT", purpose, usage, notes};
    return run_plugin<CertOptions>(info, argc, argv, declare_options, read_options, run_check);
}
