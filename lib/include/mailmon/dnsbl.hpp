// SPDX-License-Identifier: GPL-3.0-or-later
// DNS blocklists and allowlists: the built-in zone catalogue, zone specifications from the
// command line or a file, query planning for many targets on many zones in one round, answer
// classification, the RFC 5782 zone self-test, and the judgement that turns it into a Report.
#pragma once

#include "mailmon/dns.hpp"
#include "mailmon/output.hpp"
#include "mailmon/range.hpp"
#include "mailmon/result.hpp"
#include "mailmon/state.hpp"

#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailmon::dnsbl {

// The date the built-in catalogue was last checked against the lists' own documentation.
inline constexpr std::string_view catalogue_date = "2026-12";

// What a zone is queried with: reversed IP addresses (RFC 5782 2.1, 2.4) or domain names (2.3).
enum class ListKind { Ip, Domain };

// A blocklist lists what should be refused; an allowlist (DNSWL) lists what may be trusted.
enum class Role { Block, Allow };

// An IPv4 address in host byte order, as DNSBL answer codes are compared.
using Code = std::uint32_t;

// "127.0.0.2" as a Code; nullopt unless it is a dotted quad of four decimal octets.
std::optional<Code> parse_code(std::string_view text);
std::string format_code(Code code);

// Which answer codes count, in Postfix postscreen's syntax: four octets, each a number or a
// bracketed list of numbers and ranges, "127.0.0.[2..11;30]". Octets match independently.
class CodeFilter {
public:
    // Errors are Usage errors: "invalid answer filter '127.0.0.[2..': <cause>".
    static Result<CodeFilter> parse(std::string_view text);
    // Every address in 127.0.0.0/8 except 127.0.0.0 and 127.0.0.1: the RFC 5782 default.
    static CodeFilter any_listing();

    bool matches(Code code) const;
    // False for any_listing(), true for a filter the zone or the user wrote down.
    bool is_explicit() const { return !rfc_default_; }
    const std::string& text() const { return text_; }

private:
    CodeFilter() = default;

    std::array<std::bitset<256>, 4> octets_;
    bool rfc_default_ = false; // any_listing(): 127.0.0.0 and 127.0.0.1 never match
    std::string text_;
};

// An answer that is not a listing but a message from the list operator, and what to do.
struct ErrorCode {
    Code code = 0;
    std::string meaning; // "query through a public or open resolver refused"
    std::string hint; // "use your own recursive resolver or a Spamhaus DQS key"
};

// Error codes every zone is assumed to use unless an explicit filter counts them as listings:
// Spamhaus's 127.255.255.252/254/255, which its mirrors and resellers share.
const std::vector<ErrorCode>& common_error_codes();

struct Zone {
    std::string name; // "zen.spamhaus.org", no trailing dot
    ListKind kind = ListKind::Ip; // what it is queried with
    Role role = Role::Block; // what a listing means
    CodeFilter listed = CodeFilter::any_listing(); // the codes that count as listed
    std::vector<ErrorCode> errors; // zone-specific error codes, checked first
    bool ipv4 = true; // IP lists: answers for IPv4 addresses
    bool ipv6 = false; // IP lists: answers for IPv6 addresses
    bool txt = true; // publishes TXT reasons for its listings
    bool self_test = true; // holds the RFC 5782 test entries
    State worst = State::Critical; // Warning: a listing here only ever warns
    std::string listed_probe = "test"; // domain lists: the entry that must be listed
    std::string unlisted_probe = "invalid"; // domain lists: the one that must not be
};

struct CatalogueEntry {
    Zone zone;
    bool enabled_by_default = false; // checked when no --no-default-zones is given
    std::string description; // one line for the README table and --list-zones
};

// The built-in catalogue (see docs/check_dnsbl.md for the table and its date).
const std::vector<CatalogueEntry>& catalogue();

// The catalogue as text for --list-zones: its date, then one line per entry with the name,
// kind, default set, listed codes and description.
std::string describe_catalogue();

// The catalogue's knowledge of a zone name: an exact entry, or a "*.suffix" entry such as a
// Spamhaus DQS zone "KEY.zen.dq.spamhaus.net" (then named as asked). nullopt if unknown.
std::optional<Zone> find_zone(std::string_view name);

// "NAME[=CODES][,FLAG...]", as given to --zone (kind Ip) or --domain-zone (kind Domain).
// A catalogue name keeps the catalogue's codes, error codes and flags unless the spec
// overrides them; an unknown name gets the RFC 5782 defaults. Flags: ipv4, ipv6, ipv6-only,
// txt, no-txt, no-selftest, warning. Errors are Usage errors naming the spec.
Result<Zone> parse_zone_spec(std::string_view spec, ListKind kind, Role role);

// A zones file: one zone per line, "ip SPEC" or "domain SPEC"; '#' starts a comment. Errors
// are Config errors naming the line: "cannot read zones file 'f': line 3: <cause>".
Result<std::vector<Zone>> parse_zones_file(std::string_view content, std::string_view origin,
                                           Role role);
Result<std::vector<Zone>> load_zones_file(const std::string& path, Role role);

// The query name of an IP address on a zone: "2.0.0.127.zen.spamhaus.org", or the 32
// nibbles of an IPv6 address (RFC 5782 2.1 and 2.4). nullopt if ip is not an address.
std::optional<std::string> ip_query_name(std::string_view ip, std::string_view zone);
// "example.org.dbl.spamhaus.org" (RFC 5782 2.3); a trailing dot of the domain is dropped.
std::string domain_query_name(std::string_view domain, std::string_view zone);

// How one answer of a zone reads.
enum class Verdict {
    Listed, // a code the zone defines as listed
    Filtered, // a listing code, but not one this zone's filter counts
    NotListed, // NXDOMAIN or no A record
    ZoneError, // a documented error code, or an answer outside 127.0.0.0/8
    Unanswered, // timeout, SERVFAIL, REFUSED, unreachable: the zone said nothing usable
};

struct Classification {
    Verdict verdict = Verdict::Unanswered;
    std::vector<Code> codes; // the answer's A records (sorted), for Listed/Filtered/ZoneError
    std::string problem; // ZoneError and Unanswered: what was seen, for the long output
    std::string hint; // ZoneError: what the operator can do about it
};

// Classifies one A answer of a zone: documented error codes first (the zone's, then the
// common ones), then anything outside 127.0.0.0/8 (a resolver rewriting NXDOMAIN), then the
// zone's filter. `addresses` are the answer's A records in text form.
Classification classify(const Zone& zone, dns::Status status,
                        const std::vector<std::string>& addresses);

// A zone's fitness for this run, from its self-test and its answers.
enum class Health {
    Usable, // self-test passed (or disabled) and no error code seen
    Broken, // failed the RFC 5782 self-test: dead, wildcarded or blocking us
    Error, // answered a documented error code or a non-loopback address
    Unanswered, // some query of the zone got no answer
};

struct ZoneHealth {
    Health health = Health::Usable;
    std::string problem; // why it is not usable
    std::string hint;
};

// RFC 5782 section 5: the listed probe ("127.0.0.2", "TEST") must be Listed or Filtered, the
// unlisted probe ("127.0.0.1", "INVALID") must be NotListed. Errors and silence in a probe are
// reported as such, not as a broken zone.
ZoneHealth judge_self_test(const Classification& listed, const Classification& unlisted,
                           std::string_view listed_name, std::string_view unlisted_name);

// Something to look up: an IP address (from -H or an MX) or a domain (from --domain).
struct Target {
    std::string subject; // "192.0.2.25", "2001:db8::25" or "example.org"
    ListKind kind = ListKind::Ip;
    std::string origin; // where it came from, "mx1.example.org"; empty when given literally
};

// Every query of a run: target cells and self-test probes, deduplicated by name.
struct Plan {
    std::vector<dns::Query> queries;
    // cells[target][zone]: the query index, or nullopt when the zone does not apply.
    std::vector<std::vector<std::optional<std::size_t>>> cells;
    // For each zone: pairs of (listed probe, unlisted probe) query indices, one per family
    // (IPv4, IPv6) or for domains, that this run's targets need; empty if the zone is unused
    // or flagged no-selftest.
    struct Probe {
        std::size_t listed = 0;
        std::size_t unlisted = 0;
        std::string listed_name; // "127.0.0.2", "::ffff:7f00:2", "test"
        std::string unlisted_name; // "127.0.0.1", "::ffff:7f00:1", "invalid"
    };
    std::vector<std::vector<Probe>> probes;
};

// A zone applies to a target of its kind; an IP zone only to addresses of a family it serves.
Plan plan_queries(const std::vector<Target>& targets, const std::vector<Zone>& zones);

struct Listing {
    std::size_t zone = 0;
    std::vector<Code> codes;
    std::string query; // the query name, for the TXT lookup
    std::string reason; // TXT text from the zone, raw (sanitised when reported)
};

struct TargetResult {
    Target target;
    std::size_t applicable = 0; // zones of this run that serve the target's kind and family
    std::size_t checked = 0; // usable zones that answered for this target
    std::vector<Listing> listings;
};

struct Assessment {
    std::vector<bool> used; // per zone: queried in this run
    std::vector<ZoneHealth> health; // per zone
    std::vector<TargetResult> targets;
};

// Reads the answers of a plan: zone health from the probes and every answer of the zone (an
// error code anywhere marks the zone), then each target's listings on usable zones.
// `responses` are in the order of plan.queries.
Assessment assess(const Plan& plan, const std::vector<Target>& targets,
                  const std::vector<Zone>& zones, const std::vector<dns::Response>& responses);

// The TXT queries for the listings of zones that publish reasons, and storing their answers
// (matched by query name; several TXT records are joined with "; ").
std::vector<dns::Query> reason_queries(const Assessment& assessment,
                                       const std::vector<Zone>& zones);
void store_reasons(Assessment& assessment, const std::vector<dns::Response>& responses);

// Adds a zone to a run's list, replacing an earlier zone of the same name and kind, so that
// "--zone zen.spamhaus.org,warning" refines the default entry instead of doubling it.
void add_zone(std::vector<Zone>& zones, Zone zone);

// -w/-c as listing counts ("2" = at least 2 zones for a blocklist, fewer than 2 for an
// allowlist) or, with ':' or '@', as Nagios ranges on the listed count. When neither is given
// both default to 1 (an allowlist: warning 1, no critical). Usage errors name the option.
Result<Thresholds> parse_count_thresholds(const std::optional<std::string>& warning,
                                          const std::optional<std::string>& critical, Role role);

struct JudgeOptions {
    Thresholds thresholds;
    Role role = Role::Block;
    std::size_t max_zone_errors = 0;
};

// A failure met before the zones were asked (a target name that does not resolve).
struct TargetFailure {
    State state = State::Critical;
    std::string text;
};

// What -H and --domain ask for. -H takes IPv4 and IPv6 addresses and host names (all their
// addresses); --domain checks the domain on domain lists and every address of every MX (the
// domain's own addresses when it has no MX, RFC 5321 5.1; none for a null MX, RFC 7505).
struct TargetRequest {
    std::vector<std::string> hosts;
    std::vector<std::string> domains;
    bool ipv4 = true; // look up A records of names
    bool ipv6 = true; // look up AAAA records of names
};

struct ResolvedTargets {
    std::vector<Target> targets; // deduplicated by subject, in the order found
    std::vector<TargetFailure> failures;
};

// Two rounds at most (names and MX, then the MX hosts), all queries of a round at once. A
// name that does not resolve is CRITICAL; our resolver not answering in time is UNKNOWN.
ResolvedTargets resolve_targets(dns::Resolver& resolver, const TargetRequest& request,
                                const Deadline& deadline);

// The whole report: per-target listing counts against the thresholds (the worst target
// decides; a zone marked "warning" can never make CRITICAL), zone problems (never CRITICAL:
// WARNING above max_zone_errors, UNKNOWN when no zone gave a usable answer), one long-output
// line per listing and per zone problem, and the perfdata listed, checked, errors,
// unanswered, time.
Report build_report(const Assessment& assessment, const std::vector<Zone>& zones,
                    const std::vector<TargetFailure>& failures, const JudgeOptions& options,
                    double seconds);

} // namespace mailmon::dnsbl
