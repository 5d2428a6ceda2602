// SPDX-License-Identifier: GPL-3.0-or-later
// check_smtp_tls: do the SMTP ports of a host answer, and does TLS really work on each? Probes
// every address x port at once (STARTTLS or implicit TLS), verifies the certificate, and
// reports per endpoint with per-phase timings.
#include "mailmon/cli.hpp"
#include "mailmon/dns.hpp"
#include "mailmon/mx.hpp"
#include "mailmon/output.hpp"
#include "mailmon/run.hpp"
#include "mailmon/smtp_tls.hpp"

#include <unistd.h>

namespace po = boost::program_options;

namespace {

struct SmtpTlsOptions {
    std::string host;
    std::vector<mailmon::PortPlan> plans;
    mailmon::SmtpTlsPolicy policy;
    mailmon::ProbeOptions probe; // the template: helo name and TLS settings
    bool dane = false;
};

const char* const purpose =
    "Checks that the SMTP ports of a mail host answer and that TLS really works on each: "
    "connects to every address of the host on every port at once, reads the banner, sends "
    "EHLO, starts TLS (STARTTLS, RFC 3207, or implicit TLS on 465, RFC 8314), verifies the "
    "certificate chain and host name, and sends EHLO again. Reports the TLS version, cipher, "
    "group, verification, capabilities and the time of every phase per endpoint.";

const char* const usage = "-H HOST [-p PORT,...] [--mode PORT:MODE] [-w RANGE] [-c RANGE] "
                          "[--verify POLICY] [--dane] [options]";

const char* const notes =
    "States:\n"
    " OK        every endpoint answers, TLS works and verifies as required\n"
    " WARNING   certificate not verified on a port under --verify warn (default: all\n"
    "           but 465/587); AUTH before TLS on 587; TLS below --min-tls; banner\n"
    "           lacks --expect; -w or a --warning-PHASE range\n"
    " CRITICAL  refused, unreachable or silent; 4xx/5xx greeting; STARTTLS missing\n"
    "           or refused; handshake failure; over-long reply line; TLS and plain\n"
    "           text mixed up; certificate not verified on 465/587 (--verify strict);\n"
    "           validated TLSA matching nothing; TLSA lookup failure; host NXDOMAIN\n"
    " UNKNOWN   our resolver did not answer; bad options; unreadable CA file; -t\n"
    "\nExamples:\n"
    " check_smtp_tls -H mail.example.org\n"
    " check_smtp_tls -H mail.example.org -p 25,465,587 -w 2 -c 5\n"
    " check_smtp_tls -H mx.example.org --dane --verify strict\n"
    " check_smtp_tls -H 192.0.2.25 -p 2525 --mode 2525:tls --sni mx.example.org\n";

constexpr const char* phase_names[] = {"connect", "banner", "ehlo", "starttls", "handshake"};

void declare_options(mailmon::Cli& cli)
{
    // One option per group of lines; the formatter would pack the chain.
    // clang-format off
    cli.add()
        ("hostname,H", po::value<std::string>()->value_name("HOST"),
         "The mail host: a name (every address is checked) or an IP address.")
        ("port,p", po::value<std::string>()->value_name("PORT,..."),
         "Ports to check, comma separated (default 25).")
        ("mode", po::value<std::vector<std::string>>()->value_name("PORT:MODE"),
         "starttls, tls (implicit) or plain for one port (repeatable). Default: tls on "
         "465, starttls elsewhere.")
        ("warning,w", po::value<std::string>()->value_name("RANGE"),
         "Range for the total time of an endpoint in seconds; outside it is WARNING.")
        ("critical,c", po::value<std::string>()->value_name("RANGE"),
         "Range for the total time of an endpoint in seconds; outside it is CRITICAL.")
        ("expect", po::value<std::string>()->value_name("TEXT"),
         "Text the 220 banner must contain; WARNING otherwise.")
        ("helo", po::value<std::string>()->value_name("NAME"),
         "Our name in EHLO (default: this machine's host name).")
        ("sni", po::value<std::string>()->value_name("NAME"),
         "Server name sent in TLS and checked in the certificate (default: -H if a name).")
        ("verify", po::value<std::string>()->value_name("POLICY"),
         "What a certificate that does not verify is: strict (CRITICAL), warn or none. "
         "Default: strict on 465 and 587, warn on other ports.")
        ("min-tls", po::value<std::string>()->value_name("VERSION"),
         "Lowest acceptable TLS version: 1.0, 1.1, 1.2 (default) or 1.3; lower is WARNING.")
        ("dane", po::bool_switch(),
         "Look up TLSA at _PORT._tcp.HOST and, when DNSSEC-validated, verify the server by "
         "it (RFC 7672). Unsigned TLSA is ignored.")
        ("require-dane", po::bool_switch(),
         "With --dane: a port without a validated TLSA record is CRITICAL.");
    // clang-format on
    for (const char* phase : phase_names) {
        // One option per group of lines; the formatter would pack the chain.
        // clang-format off
        cli.add()((std::string("warning-") + phase).c_str(),
                  po::value<std::string>()->value_name("RANGE"),
                  (std::string("Range for the ") + phase + " time in seconds (WARNING).").c_str())(
            (std::string("critical-") + phase).c_str(),
            po::value<std::string>()->value_name("RANGE"),
            (std::string("Range for the ") + phase + " time in seconds (CRITICAL).").c_str());
        // clang-format on
    }
}

std::string local_host_name()
{
    char name[256] = {};
    if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') {
        return "localhost";
    }
    // LIMIT: the name is gethostname(2)'s, not looked up in DNS — a short host name is sent
    // in EHLO as it is unless --helo gives the FQDN.
    return name;
}

using Values = po::variables_map;

std::optional<std::string> optional_value(const Values& values, const std::string& key)
{
    return values.count(key) != 0 ? std::optional(values[key].as<std::string>()) : std::nullopt;
}

mailmon::Result<mailmon::TlsVersion> parse_min_tls(const std::string& text)
{
    using mailmon::TlsVersion;
    const std::pair<const char*, TlsVersion> known[] = {{"1.0", TlsVersion::Tls10},
                                                        {"1.1", TlsVersion::Tls11},
                                                        {"1.2", TlsVersion::Tls12},
                                                        {"1.3", TlsVersion::Tls13}};
    for (const auto& [word, version] : known) {
        if (text == word || text == std::string("TLSv") + word) {
            return version;
        }
    }
    return mailmon::make_error(mailmon::ErrorKind::Usage,
                               "invalid --min-tls '" + text + "': use 1.0, 1.1, 1.2 or 1.3");
}

// -w/-c and the per-phase ranges into the policy; the error text on failure.
std::optional<std::string> read_thresholds(const Values& values, mailmon::SmtpTlsPolicy& policy)
{
    auto total = mailmon::parse_thresholds(optional_value(values, "warning"),
                                           optional_value(values, "critical"));
    if (!total) {
        return total.error().message;
    }
    policy.total = *total;
    for (std::size_t index = 0; index < std::size(phase_names); ++index) {
        const std::string phase = phase_names[index];
        auto ranges = mailmon::parse_thresholds(optional_value(values, "warning-" + phase),
                                                optional_value(values, "critical-" + phase));
        if (!ranges) {
            return "--warning/critical-" + phase + ": " + ranges.error().message;
        }
        policy.phases[index] = *ranges;
    }
    return std::nullopt;
}

// The policy options; the error text on failure.
std::optional<std::string> read_policy(const Values& values, SmtpTlsOptions& options)
{
    auto& policy = options.policy;
    if (const auto verify = optional_value(values, "verify")) {
        auto parsed = mailmon::parse_verify_policy(*verify);
        if (!parsed) {
            return parsed.error().message;
        }
        policy.verify = *parsed;
    }
    if (const auto min_tls = optional_value(values, "min-tls")) {
        auto parsed = parse_min_tls(*min_tls);
        if (!parsed) {
            return parsed.error().message;
        }
        policy.min_tls = *parsed;
    }
    policy.expect = optional_value(values, "expect").value_or("");
    options.dane = values["dane"].as<bool>() || values["require-dane"].as<bool>();
    policy.require_dane = values["require-dane"].as<bool>();
    if (options.dane && mailmon::is_ip_literal(options.host)) {
        return std::string("--dane needs a host name, not an address");
    }
    return read_thresholds(values, policy);
}

void fill_probe_template(const Values& values, const mailmon::CommonOptions& common,
                         SmtpTlsOptions& options)
{
    auto& probe = options.probe;
    probe.helo_name = optional_value(values, "helo").value_or(local_host_name());
    const bool literal = mailmon::is_ip_literal(options.host);
    // RFC 6066 §3: no address in SNI. OpenSSL 3 checks an address name against IP SANs.
    probe.tls.sni = optional_value(values, "sni").value_or(literal ? "" : options.host);
    probe.tls.verify_name = probe.tls.sni.empty() ? options.host : probe.tls.sni;
    probe.tls.ca_file = common.ca_file;
    probe.tls.ca_path = common.ca_path;
    // Lower versions must still connect, so --min-tls can report them as WARNING.
    // LIMIT: OpenSSL 3's default security level refuses TLS 1.0 and 1.1 anyway — a server
    // offering nothing newer fails the handshake (CRITICAL) instead of a --min-tls WARNING.
    probe.tls.min_version = mailmon::TlsVersion::Tls10;
    probe.tls.dane_base_domain = options.host;
    probe.await_quit_reply = false;
}

std::variant<SmtpTlsOptions, std::string> read_options(const mailmon::Cli& cli,
                                                       const mailmon::CommonOptions& common)
{
    const auto& values = cli.values();
    SmtpTlsOptions options;
    options.host = mailmon::normalise_name(optional_value(values, "hostname").value_or(""));
    if (options.host.size() > 2 && options.host.front() == '[' && options.host.back() == ']') {
        options.host = options.host.substr(1, options.host.size() - 2);
    }
    if (options.host.empty()) {
        return std::string("missing -H/--hostname HOST");
    }
    const auto modes = values.count("mode") != 0 ? values["mode"].as<std::vector<std::string>>()
                                                 : std::vector<std::string>{};
    auto plans = mailmon::plan_ports(optional_value(values, "port").value_or("25"), modes);
    if (!plans) {
        return plans.error().message;
    }
    options.plans = *plans;
    if (auto error = read_policy(values, options)) {
        return *error;
    }
    fill_probe_template(values, common, options);
    return options;
}

void trace(mailmon::Diagnostics& diagnostics, const std::vector<mailmon::Endpoint>& endpoints)
{
    for (const auto& endpoint : endpoints) {
        for (const auto& timing : endpoint.probe.timings) {
            diagnostics.note(1, "step=" + std::string(mailmon::to_string(timing.phase)) +
                                    " endpoint=" + endpoint.probe.endpoint +
                                    " s=" + mailmon::format_number(timing.seconds).value_or("?"));
        }
        // -vv: the replies as the server sent them, sanitised.
        const auto& probe = endpoint.probe;
        const std::pair<const char*, const std::optional<mailmon::Reply>*> replies[] = {
            {"banner", &probe.banner},
            {"starttls", &probe.starttls_reply},
            {"ehlo-last", &probe.ehlo_reply}};
        for (const auto& [step, reply] : replies) {
            if (diagnostics.enabled(2) && reply->has_value()) {
                diagnostics.note(2, "step=" + std::string(step) + " endpoint=" + probe.endpoint +
                                        " reply=" + std::to_string((*reply)->code) +
                                        " text=" + mailmon::quoted((*reply)->text(), 400));
            }
        }
        if (endpoint.probe.failure) {
            diagnostics.note(1, "endpoint=" + endpoint.probe.endpoint + " result=" +
                                    mailmon::sanitize(endpoint.probe.failure->error.message));
        }
    }
}

// The addresses (and TLSA) of the host; an IP literal is its own address.
mailmon::HostLookup find_host(const SmtpTlsOptions& options, const mailmon::CommonOptions& common,
                              const mailmon::Deadline& targets)
{
    if (mailmon::is_ip_literal(options.host)) {
        mailmon::HostLookup lookup;
        lookup.addresses.push_back(options.host);
        lookup.dane.resize(options.plans.size());
        return lookup;
    }
    mailmon::dns::ResolverConfig config;
    config.servers = common.dns_servers;
    auto resolver = mailmon::dns::Resolver::create(config);
    if (!resolver) {
        mailmon::HostLookup lookup;
        lookup.failure_state = mailmon::State::Unknown;
        lookup.failure = resolver.error().message;
        return lookup;
    }
    // DNS gets half the budget, so a silent resolver is reported long before -t.
    const auto dns_deadline = targets.capped(common.timeout.budget / 2);
    auto lookup =
        mailmon::look_up_host(*resolver, options.host, !common.ipv6_only, !common.ipv4_only,
                              options.plans, options.dane, dns_deadline);
    lookup.dane.resize(options.plans.size());
    return lookup;
}

mailmon::Report run_check(const SmtpTlsOptions& options, const mailmon::CommonOptions& common,
                          mailmon::Diagnostics& diagnostics, const mailmon::Deadline& targets)
{
    const auto lookup = find_host(options, common, targets);
    if (lookup.failure_state != mailmon::State::Ok) {
        mailmon::Report report("SMTP_TLS");
        report.raise(lookup.failure_state);
        report.set_summary(lookup.failure);
        return report;
    }
    std::vector<mailmon::Endpoint> endpoints;
    for (const auto& address : lookup.addresses) {
        for (std::size_t index = 0; index < options.plans.size(); ++index) {
            endpoints.push_back({address, options.plans[index], {}, lookup.dane[index]});
        }
    }
    mailmon::probe_endpoints(endpoints, options.probe, targets);
    trace(diagnostics, endpoints);
    return mailmon::judge_smtp_tls(options.host, options.plans, endpoints, options.policy);
}

} // namespace

int main(int argc, char** argv)
{
    const mailmon::PluginInfo info{"check_smtp_tls", "SMTP_TLS", purpose, usage, notes};
    return mailmon::run_plugin<SmtpTlsOptions>(info, argc, argv, declare_options, read_options,
                                               run_check);
}
