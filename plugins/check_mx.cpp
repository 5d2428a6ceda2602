// SPDX-License-Identifier: GPL-3.0-or-later
// check_mx: does this domain resolve to working mail hosts, and is the redundancy intact? Looks
// up the MX records, resolves every exchange, probes every address at once, and judges.
#include "mailmon/cli.hpp"
#include "mailmon/dns.hpp"
#include "mailmon/mx.hpp"
#include "mailmon/output.hpp"
#include "mailmon/run.hpp"

#include <algorithm>
#include <boost/algorithm/string/classification.hpp>
#include <boost/algorithm/string/split.hpp>
#include <optional>
#include <string>
#include <unistd.h>
#include <variant>

namespace po = boost::program_options;

namespace {

struct MxOptions {
    std::string domain;
    mailmon::MxPolicy policy;
    mailmon::MxProbeSettings probe;
    bool check_ptr = false;
};

const char* const purpose =
    "Checks that a domain's mail exchangers work: looks up its MX records (or the implicit MX "
    "of RFC 5321 5.1, or the null MX of RFC 7505), resolves every exchange to its A and AAAA "
    "addresses, and probes every address at once on port 25 (connect, banner, EHLO, QUIT). "
    "OK when every MX accepts mail, WARNING when some do not but one does, CRITICAL when none "
    "does.";

const char* const usage = "-H DOMAIN [-p PORT] [-w RANGE] [-c RANGE] [--starttls] [options]";

const char* const notes =
    "States:\n"
    " OK        every MX accepts mail (or a null MX, unless --require-mail)\n"
    " WARNING   some MX or address down but one accepts; no MX record (implicit MX);\n"
    "           CNAME or duplicate exchange; fewer than --min-mx; MX set differs from\n"
    "           --expect; PTR mismatch (--check-ptr); no AD (--require-dnssec); -w\n"
    " CRITICAL  no MX accepts mail; NXDOMAIN; neither MX nor address; SERVFAIL;\n"
    "           --expect-critical; -c\n"
    " UNKNOWN   our resolver did not answer; bad options; -t ran out\n"
    "\nExamples:\n"
    " check_mx -H example.org\n"
    " check_mx -H example.org --min-mx 2 --starttls -w 2 -c 5\n"
    " check_mx -H example.org --expect mx1.example.org,mx2.example.org --check-ptr\n";

void declare_options(mailmon::Cli& cli)
{
    // One option per group of lines; the formatter would pack the chain.
    // clang-format off
    cli.add()
        ("hostname,H", po::value<std::string>()->value_name("DOMAIN"),
         "The mail domain to check (the right-hand side of an address).")
        ("domain,D", po::value<std::string>()->value_name("DOMAIN"), "Same as -H.")
        ("port,p", po::value<int>()->value_name("PORT"),
         "SMTP port of every exchange (default 25).")
        ("warning,w", po::value<std::string>()->value_name("RANGE"),
         "Range for the slowest banner time in seconds; outside it is WARNING.")
        ("critical,c", po::value<std::string>()->value_name("RANGE"),
         "Range for the slowest banner time in seconds; outside it is CRITICAL.")
        ("starttls", po::bool_switch(),
         "Also require STARTTLS to be offered and the TLS handshake to succeed (the "
         "certificate is not verified: use check_smtp_tls for that).")
        ("min-mx", po::value<int>()->value_name("N"),
         "WARNING when the domain has fewer than N MX records.")
        ("expect", po::value<std::string>()->value_name("NAME,..."),
         "The MX host names the domain must have, no more and no fewer; WARNING otherwise.")
        ("expect-critical", po::bool_switch(), "A different MX set (--expect) is CRITICAL.")
        ("require-mail", po::bool_switch(),
         "The domain must receive mail: a null MX (RFC 7505) is CRITICAL instead of OK.")
        ("require-dnssec", po::bool_switch(),
         "WARNING when the MX answer is not DNSSEC-validated (no AD flag from the resolver).")
        ("check-ptr", po::bool_switch(),
         "Check forward-confirmed reverse DNS of every address; a mismatch is WARNING.")
        ("helo", po::value<std::string>()->value_name("NAME"),
         "Our name in EHLO (default: this machine's host name).");
    // clang-format on
}

std::string local_host_name()
{
    char name[256] = {};
    if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') {
        return "localhost";
    }
    return name;
}

std::optional<std::string> optional_value(const po::variables_map& values, const char* key)
{
    return values.count(key) != 0 ? std::optional(values[key].as<std::string>()) : std::nullopt;
}

// The judging policy, or the text of a usage error.
std::variant<mailmon::MxPolicy, std::string> read_policy(const po::variables_map& values)
{
    mailmon::MxPolicy policy;
    auto thresholds = mailmon::parse_thresholds(optional_value(values, "warning"),
                                                optional_value(values, "critical"));
    if (!thresholds) {
        return thresholds.error().message;
    }
    policy.banner = *thresholds;
    // int, not unsigned: Boost reads "-1" as a huge unsigned number without complaint.
    const int min_mx = values.count("min-mx") != 0 ? values["min-mx"].as<int>() : 0;
    if (min_mx < 0 || min_mx > 100) {
        return std::string("invalid --min-mx: use 0 to 100");
    }
    policy.min_mx = static_cast<unsigned>(min_mx);
    if (const auto expect = optional_value(values, "expect")) {
        boost::split(policy.expect, *expect, boost::is_any_of(","));
        policy.expect.erase(std::remove(policy.expect.begin(), policy.expect.end(), ""),
                            policy.expect.end());
    }
    policy.expect_critical = values["expect-critical"].as<bool>();
    policy.require_mail = values["require-mail"].as<bool>();
    policy.require_dnssec = values["require-dnssec"].as<bool>();
    return policy;
}

// The plugin's own options, or the text of a usage error.
std::variant<MxOptions, std::string> read_options(const mailmon::Cli& cli,
                                                  const mailmon::CommonOptions& common)
{
    const auto& values = cli.values();
    if (values.count("hostname") != 0 && values.count("domain") != 0) {
        return std::string("give the domain once, with -H or -D");
    }
    MxOptions options;
    options.domain =
        optional_value(values, "hostname").value_or(optional_value(values, "domain").value_or(""));
    if (mailmon::normalise_name(options.domain).empty()) {
        return std::string("missing -H/--hostname DOMAIN");
    }
    auto policy = read_policy(values);
    if (const auto* error = std::get_if<std::string>(&policy)) {
        return *error;
    }
    options.policy = std::get<mailmon::MxPolicy>(std::move(policy));
    const int port = values.count("port") != 0 ? values["port"].as<int>() : 25;
    if (port <= 0 || port > 65535) {
        return std::string("invalid -p/--port: use 1 to 65535");
    }
    options.check_ptr = values["check-ptr"].as<bool>();
    options.probe.port = static_cast<std::uint16_t>(port);
    options.probe.starttls = values["starttls"].as<bool>();
    options.probe.helo_name = optional_value(values, "helo").value_or(local_host_name());
    options.probe.ca_file = common.ca_file;
    options.probe.ca_path = common.ca_path;
    return options;
}

// -v: one line per probe; -vv adds the MX records and every banner.
void trace(mailmon::Diagnostics& diagnostics, const mailmon::MxSurvey& survey)
{
    for (const auto& target : survey.targets) {
        diagnostics.note(2, "step=mx domain=" + survey.domain + " preference=" +
                                std::to_string(target.preference) + " exchange=" + target.name +
                                " addresses=" + std::to_string(target.addresses.size()));
        for (const auto& address : target.addresses) {
            const auto seconds = address.total_seconds.value_or(0.0);
            diagnostics.note(
                1, "step=probe host=" + target.name + " address=" + address.address +
                       " result=" + (address.reason.empty() ? "up" : "'" + address.reason + "'") +
                       " s=" + mailmon::format_number(seconds).value_or("?"));
            if (!address.banner.empty()) {
                diagnostics.note(2, "step=banner address=" + address.address + " reply='" +
                                        address.banner + "'");
            }
        }
    }
}

// Discovers, probes and judges; the resolver errors that are our fault end in UNKNOWN.
mailmon::Report run_check(const MxOptions& options, const mailmon::CommonOptions& common,
                          mailmon::Diagnostics& diagnostics, const mailmon::Deadline& targets)
{
    mailmon::dns::ResolverConfig config;
    config.servers = common.dns_servers;
    auto resolver = mailmon::dns::Resolver::create(config);
    if (!resolver) {
        mailmon::Report report("MX");
        report.raise(mailmon::State::Unknown);
        report.set_summary(resolver.error().message);
        return report;
    }
    // DNS gets half the budget, so a silent resolver is reported long before -t.
    const mailmon::Deadline dns_deadline = targets.capped(common.timeout.budget / 2);
    const mailmon::Families families{!common.ipv6_only, !common.ipv4_only};
    auto survey = mailmon::discover_mx(*resolver, options.domain, families, dns_deadline);
    diagnostics.note(1, "step=dns domain=" + survey.domain +
                            " targets=" + std::to_string(survey.targets.size()) +
                            " s=" + mailmon::format_number(survey.dns_seconds).value_or("?"));
    if (options.check_ptr) {
        mailmon::check_ptrs(*resolver, survey.targets, dns_deadline);
    }
    mailmon::probe_targets(survey.targets, options.probe, targets);
    trace(diagnostics, survey);
    return mailmon::judge_mx(survey, options.policy);
}

} // namespace

int main(int argc, char** argv)
{
    const mailmon::PluginInfo info{"check_mx", "MX", purpose, usage, notes};
    return mailmon::run_plugin<MxOptions>(info, argc, argv, declare_options, read_options,
                                          run_check);
}
