// SPDX-License-Identifier: GPL-3.0-or-later
// check_dnsbl: is an address, a host, or a domain and its mail exchangers listed on DNS
// blocklists (or allowlists)? Every zone is asked in one concurrent round, each zone proves
// itself with its RFC 5782 test entries, and error codes are never taken for listings.
#include "mailmon/cli.hpp"
#include "mailmon/dnsbl.hpp"
#include "mailmon/run.hpp"

#include <algorithm>
#include <charconv>

namespace po = boost::program_options;
namespace bl = mailmon::dnsbl;

namespace {

const char* const purpose =
    "Checks IPv4 and IPv6 addresses, host names (all their addresses) and mail domains (the "
    "domain on domain lists, every address of every MX on IP lists) against DNS blocklists. "
    "All queries go out at once; each zone must pass the RFC 5782 self-test, and documented "
    "error codes (such as Spamhaus's refusal of public resolvers) are reported as zone errors, "
    "never as listings.";

const char* const usage =
    "-H ADDRESS|HOST ... | --domain DOMAIN ...\n"
    "    [--zone NAME[=CODES][,FLAGS] ...] [--domain-zone NAME[=CODES][,FLAGS] ...]\n"
    "    [--zones-file FILE] [--no-default-zones] [--allowlist] [-w COUNT] [-c COUNT]\n"
    "    [--max-zone-errors N] [--dns-server HOST] [-t SECONDS]";

const char* const notes =
    "States:\n"
    " CRITICAL  a target is listed on at least -c zones (default 1)\n"
    " WARNING   listed on at least -w zones (default 1), or only on zones flagged\n"
    "           'warning'; or zone errors, broken or silent zones above\n"
    "           --max-zone-errors (these never make CRITICAL)\n"
    " UNKNOWN   no zone gave a usable answer; our resolver did not answer\n"
    "Zone flags: ipv4, ipv6, ipv6-only, txt, no-txt, no-selftest, warning.\n"
    "Example:\n"
    " check_dnsbl --domain example.org --dns-server 127.0.0.1 \\\n"
    "     --zone 'zen.spamhaus.org=127.0.0.[2..11]' --zone bl.spamcop.net,warning\n";

struct Settings {
    bl::TargetRequest request;
    std::vector<bl::Zone> zones;
    bl::JudgeOptions judge;
    std::chrono::milliseconds try_timeout{0};
    int tries = 2;
};

template <typename T> std::vector<T> list(const po::variables_map& values, const char* key)
{
    return values.count(key) ? values[key].as<std::vector<T>>() : std::vector<T>();
}

template <typename T> std::optional<T> single(const po::variables_map& values, const char* key)
{
    return values.count(key) ? std::optional<T>(values[key].as<T>()) : std::nullopt;
}

mailmon::Result<std::vector<bl::Zone>> collect_zones(const po::variables_map& values, bl::Role role)
{
    std::vector<bl::Zone> zones;
    if (!values["no-default-zones"].as<bool>()) {
        for (const auto& entry : bl::catalogue()) {
            if (entry.enabled_by_default && entry.zone.role == role) {
                zones.push_back(entry.zone);
            }
        }
    }
    if (const auto file = single<std::string>(values, "zones-file")) {
        auto loaded = bl::load_zones_file(*file, role);
        if (!loaded) {
            return loaded.error();
        }
        for (auto& zone : *loaded) {
            bl::add_zone(zones, std::move(zone));
        }
    }
    for (const auto& [key, kind] :
         {std::pair{"zone", bl::ListKind::Ip}, std::pair{"domain-zone", bl::ListKind::Domain}}) {
        for (const auto& spec : list<std::string>(values, key)) {
            auto zone = bl::parse_zone_spec(spec, kind, role);
            if (!zone) {
                return zone.error();
            }
            bl::add_zone(zones, std::move(*zone));
        }
    }
    return zones;
}

// Each try waits a fraction of -t (c-ares doubles it on the retry), so that a silent zone is
// reported as unanswered with time left for the TXT round and the report.
mailmon::Result<std::chrono::milliseconds> try_timeout(const po::variables_map& values,
                                                       const mailmon::CommonOptions& common)
{
    const auto text = single<std::string>(values, "query-timeout");
    if (!text) {
        const auto share = common.timeout.budget / 8;
        return std::clamp(share, std::chrono::milliseconds(100), std::chrono::milliseconds(2000));
    }
    double seconds = 0;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), seconds,
                                           std::chars_format::fixed);
    if (ec != std::errc() || end != text->data() + text->size() || !(seconds >= 0.01) ||
        seconds > 60) {
        return mailmon::make_error(mailmon::ErrorKind::Usage,
                                   "invalid --query-timeout '" + *text +
                                       "': give seconds from 0.01 to 60");
    }
    return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

mailmon::Result<Settings> read_settings(const po::variables_map& values,
                                        const mailmon::CommonOptions& common)
{
    Settings settings;
    settings.judge.role = values["allowlist"].as<bool>() ? bl::Role::Allow : bl::Role::Block;
    settings.request.hosts = list<std::string>(values, "hostname");
    settings.request.domains = list<std::string>(values, "domain");
    settings.request.ipv4 = !common.ipv6_only;
    settings.request.ipv6 = !common.ipv4_only;
    if (settings.request.hosts.empty() && settings.request.domains.empty()) {
        return mailmon::make_error(mailmon::ErrorKind::Usage, "give -H or --domain");
    }
    auto zones = collect_zones(values, settings.judge.role);
    auto thresholds =
        bl::parse_count_thresholds(single<std::string>(values, "warning"),
                                   single<std::string>(values, "critical"), settings.judge.role);
    auto timeout = try_timeout(values, common);
    for (const auto* error :
         {zones ? nullptr : &zones.error(), thresholds ? nullptr : &thresholds.error(),
          timeout ? nullptr : &timeout.error()}) {
        if (error) {
            return *error;
        }
    }
    if (zones->empty()) {
        return mailmon::make_error(mailmon::ErrorKind::Usage, "no zones to check");
    }
    settings.zones = std::move(*zones);
    settings.judge.thresholds = std::move(*thresholds);
    settings.judge.max_zone_errors = values["max-zone-errors"].as<unsigned>();
    settings.try_timeout = *timeout;
    settings.tries = static_cast<int>(values["tries"].as<unsigned>());
    if (settings.tries < 1) {
        return mailmon::make_error(mailmon::ErrorKind::Usage, "--tries must be at least 1");
    }
    return settings;
}

void note_answers(mailmon::Diagnostics& diagnostics, const std::vector<mailmon::dns::Response>& rs)
{
    for (const auto& r : rs) {
        std::string line = "step=answer name=" + r.query.name +
                           " type=" + mailmon::dns::to_string(r.query.type) +
                           " result=" + mailmon::dns::to_string(r.status);
        for (const auto& a : r.addresses) {
            line += " a=" + a;
        }
        for (const auto& t : r.texts) {
            line += " txt=" + mailmon::quoted(t);
        }
        diagnostics.note(2, line);
    }
}

int check(const Settings& settings, const mailmon::CommonOptions& common)
{
    const auto start = mailmon::Deadline::Clock::now();
    const mailmon::Deadline overall(common.timeout.budget);
    mailmon::arm_watchdog("DNSBL", common.timeout, overall);
    const auto targets_deadline = mailmon::target_deadline(common.timeout, overall);
    mailmon::Diagnostics diagnostics(common.verbosity);

    auto resolver =
        mailmon::dns::Resolver::create({common.dns_servers, settings.try_timeout, settings.tries});
    if (!resolver) {
        return mailmon::emit_text("DNSBL UNKNOWN - " + resolver.error().message + "\n", 3);
    }
    const auto found = bl::resolve_targets(*resolver, settings.request, targets_deadline);
    diagnostics.note(1, "step=targets count=" + std::to_string(found.targets.size()) +
                            " failures=" + std::to_string(found.failures.size()));

    // The zones get most of what is left; the TXT round for the listings gets the rest.
    // LIMIT: every query of the round goes out at once; a server with a small UDP receive
    // buffer (rbldnsd keeps 128 KiB, about 150 queries) drops the excess, which c-ares sends
    // again after --query-timeout — such a run takes one try longer but stays correct.
    const auto left = targets_deadline.remaining();
    const auto plan = bl::plan_queries(found.targets, settings.zones);
    const auto answers = resolver->resolve(plan.queries, targets_deadline.capped(left * 3 / 4));
    note_answers(diagnostics, answers);
    auto assessment = bl::assess(plan, found.targets, settings.zones, answers);
    const auto reasons = bl::reason_queries(assessment, settings.zones);
    if (!reasons.empty()) {
        const auto texts = resolver->resolve(reasons, targets_deadline);
        note_answers(diagnostics, texts);
        bl::store_reasons(assessment, texts);
    }
    diagnostics.note(1, "step=dnsbl queries=" + std::to_string(plan.queries.size()) +
                            " txt=" + std::to_string(reasons.size()) +
                            " ms=" + std::to_string(mailmon::seconds_since(start) * 1000));
    const auto report = bl::build_report(assessment, settings.zones, found.failures, settings.judge,
                                         mailmon::seconds_since(start));
    return mailmon::emit(report, common.format);
}

} // namespace

int main(int argc, char** argv)
{
    return mailmon::run_guarded("DNSBL", [&] {
        mailmon::Cli cli({"check_dnsbl", "DNSBL", purpose, usage, notes});
        // One option per group of lines; the formatter would pack the chain.
        // clang-format off
        cli.add()
            ("hostname,H", po::value<std::vector<std::string>>()->value_name("ADDRESS|HOST"),
             "An IPv4 or IPv6 address, or a host name whose addresses are all checked "
             "(repeatable).")
            ("domain", po::value<std::vector<std::string>>()->value_name("DOMAIN"),
             "A mail domain: the domain on domain lists, the addresses of its MX hosts on IP "
             "lists (repeatable).")
            ("zone", po::value<std::vector<std::string>>()->value_name("NAME[=CODES][,FLAGS]"),
             "An IP list to check, with the answer codes that mean listed in postscreen syntax "
             "(127.0.0.[2..11]) and flags (repeatable). A catalogue name keeps its known codes.")
            ("domain-zone", po::value<std::vector<std::string>>()->value_name("NAME[=CODES]"),
             "A domain list to check (repeatable), same syntax.")
            ("zones-file", po::value<std::string>()->value_name("FILE"),
             "Zones from a file, one per line: 'ip SPEC' or 'domain SPEC'.")
            ("no-default-zones", po::bool_switch(),
             "Check only the zones given, not the built-in default set.")
            ("allowlist", po::bool_switch(),
             "Allowlist (DNSWL) mode: being listed is good; -w/-c N alert when listed on "
             "fewer than N zones (default: warning 1).")
            ("warning,w", po::value<std::string>()->value_name("COUNT|RANGE"),
             "WARNING when listed on at least COUNT zones (default 1), or a Nagios range.")
            ("critical,c", po::value<std::string>()->value_name("COUNT|RANGE"),
             "CRITICAL when listed on at least COUNT zones (default 1), or a Nagios range.")
            ("max-zone-errors", po::value<unsigned>()->default_value(0)->value_name("N"),
             "Zone errors, broken and silent zones tolerated before WARNING (default 0).")
            ("query-timeout", po::value<std::string>()->value_name("SECONDS"),
             "Wait per DNS try (default: an eighth of -t, at most 2 s; the retry waits twice "
             "as long).")
            ("tries", po::value<unsigned>()->default_value(2)->value_name("N"),
             "DNS tries per query (default 2).")
            ("list-zones", po::bool_switch(),
             "Print the built-in zone catalogue with its date and exit.");
        // clang-format on
        const auto parsed = cli.parse(argc, argv);
        if (const auto* exit = std::get_if<mailmon::CliExit>(&parsed)) {
            return mailmon::emit_text(exit->text, exit->exit_code);
        }
        if (cli.values()["list-zones"].as<bool>()) {
            // Exit 3 like --help and --version: information, not a check result.
            return mailmon::emit_text(bl::describe_catalogue(), 3);
        }
        const auto& common = std::get<mailmon::CommonOptions>(parsed);
        const auto settings = read_settings(cli.values(), common);
        if (!settings) {
            const auto exit = cli.usage_error(settings.error().message);
            return mailmon::emit_text(exit.text, exit.exit_code);
        }
        return check(*settings, common);
    });
}
