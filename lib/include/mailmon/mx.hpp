// SPDX-License-Identifier: GPL-3.0-or-later
// Mail-exchanger discovery and judging for check_mx: what a domain's MX answer means (RFC 5321
// 5.1 implicit MX, RFC 7505 null MX, RFC 2181 10.3 alias targets), and how the state of every
// MX and of the whole domain follows from the DNS answers and the SMTP probes of its addresses.
#pragma once

#include "mailmon/deadline.hpp"
#include "mailmon/dns.hpp"
#include "mailmon/output.hpp"
#include "mailmon/range.hpp"
#include "mailmon/smtp.hpp"
#include "mailmon/state.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailmon {

// One MX record as the DNS returned it; `exchange` may carry a trailing dot, any case, or be
// empty or "." for the root (a null MX).
struct MxRecord {
    unsigned preference = 0;
    std::string exchange;
};

// How one address answered the SMTP probe (connect, banner, EHLO, QUIT; STARTTLS on request).
enum class ProbeOutcome {
    NotProbed, // not (yet) probed: the MX is broken, or -4/-6 excluded it
    Up, // 220 banner and EHLO accepted (and STARTTLS when required)
    Refusing, // the banner was 4xx/5xx: the host answers but turns mail away
    Down, // refused, unreachable, silent, or the dialogue failed
    TlsFailed, // --starttls: STARTTLS missing or the handshake failed
};

// Forward-confirmed reverse DNS of one address (--check-ptr).
enum class PtrOutcome {
    NotChecked,
    Confirmed, // a PTR name resolves back to this address
    Missing, // no PTR record
    Mismatch, // no PTR name resolves back to this address
    Unresolved, // the resolver failed or was silent: could not tell
};

struct AddressResult {
    std::string address; // textual IP ("192.0.2.1", "2001:db8::1")
    ProbeOutcome outcome = ProbeOutcome::NotProbed;
    int reply_code = 0; // banner code when Refusing
    std::string reason; // why it is not up, already sanitised ("connection refused")
    std::optional<double> connect_seconds;
    std::optional<double> banner_seconds; // connect to banner
    std::optional<double> total_seconds;
    std::string banner; // the banner reply, sanitised, for -vv
    PtrOutcome ptr = PtrOutcome::NotChecked;
    std::string ptr_names; // the PTR names seen, comma separated, sanitised
};

// Why an MX target cannot be probed at all.
enum class TargetFault {
    None,
    IpLiteral, // the exchange is an address, which RFC 5321 5.1 does not allow
    NxDomain, // the exchange name does not exist
    NoAddress, // the name exists but has no A/AAAA (in the families asked for)
    ServFail, // the address lookup failed with SERVFAIL
    ResolverSilent, // our resolver did not answer the address lookup: not the domain's fault
};

struct MxTarget {
    unsigned preference = 0;
    std::string name; // lowercase, without the trailing dot
    bool implicit = false; // RFC 5321 5.1: no MX, the domain itself
    std::string canonical; // the CNAME target when `name` is an alias (RFC 2181 10.3)
    bool duplicate = false; // a second MX record with the same exchange
    TargetFault fault = TargetFault::None;
    std::string fault_detail; // the resolver's words, sanitised
    std::vector<AddressResult> addresses;
};

// What the MX lookup of the domain said.
enum class DomainOutcome {
    Mx, // one or more usable MX records
    ImplicitMx, // no MX, but an address: mail goes to the domain itself
    NullMx, // RFC 7505 "MX 0 ." only
    NxDomain, // the domain does not exist
    NoMailHost, // neither MX nor A/AAAA
    ServFail, // SERVFAIL, e.g. a DNSSEC-bogus zone
    ResolverSilent, // our resolver never answered
    ResolverFailed, // our resolver refused or answered garbage
};

struct MxSurvey {
    std::string domain;
    DomainOutcome outcome = DomainOutcome::Mx;
    std::string detail; // the resolver's words for a failed lookup, sanitised
    bool authenticated = false; // the MX answer carried AD (validated by our resolver)
    bool null_mx_mixed = false; // "MX 0 ." beside other MX records, against RFC 7505 3
    double dns_seconds = 0; // MX lookup and address lookups together
    std::vector<MxTarget> targets;
};

// The operator's policy for judging a survey.
struct MxPolicy {
    bool require_mail = false; // a null MX is CRITICAL instead of OK
    unsigned min_mx = 0; // fewer MX records than this: WARNING
    std::vector<std::string> expect; // the exact MX set wanted (names); empty: any
    bool expect_critical = false; // a different MX set is CRITICAL instead of WARNING
    bool require_dnssec = false; // an MX answer without AD is WARNING
    Thresholds banner; // on the slowest banner time, seconds
};

// The MX records turned into probe targets: sorted by preference then name, names lowercased
// without the trailing dot, duplicates marked, IP-literal exchanges marked as faults. A null
// MX record (preference 0, root exchange; RFC 7505) is left out and reported separately.
struct MxAnswer {
    std::vector<MxTarget> targets;
    bool null_mx = false; // a null MX record was present
};
MxAnswer analyse_mx_records(const std::vector<MxRecord>& records);

// "Example.ORG." -> "example.org"; the root ("." or "") -> "".
std::string normalise_name(std::string_view name);

// True when `text` is an IPv4 or IPv6 address literal, with or without brackets or an
// RFC 5321 "IPv6:" tag.
bool is_ip_literal(std::string_view text);

// Whether an MX accepts mail: at least one address is Up.
bool target_accepts(const MxTarget& target);

// The state of one MX on its own: OK when every address is up; WARNING when some are down or
// the target is an alias or a duplicate; CRITICAL when none accepts or it cannot be probed;
// UNKNOWN when our resolver was silent.
State target_state(const MxTarget& target);

// The slowest banner time among the addresses that sent one, if any did.
std::optional<double> slowest_banner(const MxSurvey& survey);

// The whole verdict as a Report: the state, a summary naming the domain, the MX up count and
// the worst problem, one long-output line per MX and per address, and the perfdata mx_count,
// mx_up, dns_time and banner_<mx name> per MX that sent a banner.
Report judge_mx(const MxSurvey& survey, const MxPolicy& policy);

// Which address families to look up and probe (-4, -6; both by default).
struct Families {
    bool ipv4 = true;
    bool ipv6 = true;
};

// What the MX response says about the domain, before any address is known: Mx (also for a null
// MX beside other records), NullMx, NxDomain, ServFail, ResolverSilent (timeout, unreachable),
// ResolverFailed (refused, malformed, a name that cannot be queried), or NoMailHost when there
// is no MX record — the caller then looks at the domain's own addresses (implicit_mx_outcome).
DomainOutcome mx_outcome(const dns::Response& mx);

// With no MX record: ImplicitMx when the domain has an address, NoMailHost when it has none,
// ServFail or ResolverSilent when the address lookups failed (RFC 5321 5.1).
DomainOutcome implicit_mx_outcome(const std::vector<dns::Response>& addresses);

// Fills a target from its A/AAAA responses: the addresses (NotProbed), the alias it points to
// (RFC 2181 10.3) or the fault that keeps it from being probed. Any address wins over a
// failure of the other family.
void apply_address_responses(MxTarget& target, const std::vector<dns::Response>& responses);

// The survey as far as the MX lookup tells it: the outcome, the AD flag, the targets in order
// (the domain itself for an implicit MX, with its addresses), without target addresses yet.
// `own_addresses` are the A/AAAA responses for the domain, used only when it has no MX.
MxSurvey read_mx_answer(const std::string& domain, const dns::Response& mx,
                        const std::vector<dns::Response>& own_addresses);

// Steps 1 and 2 of check_mx: the MX lookup (with the domain's own A/AAAA in the same batch, for
// the implicit MX), then the A/AAAA of every target at once. All within `deadline`.
MxSurvey discover_mx(dns::Resolver& resolver, const std::string& domain, Families families,
                     const Deadline& deadline);

// Forward-confirmed reverse DNS of one address: Confirmed when one of the forward responses
// (A or AAAA of the PTR names) holds the address; Missing without PTR; Unresolved when a lookup
// failed softly and nothing confirmed; Mismatch otherwise.
PtrOutcome confirm_ptr(const std::string& address, const dns::Response& ptr,
                       const std::vector<dns::Response>& forward);

// --check-ptr: forward-confirmed reverse DNS of every address of every target, the PTR
// lookups of all addresses at once, then the forward lookups of all PTR names at once.
void check_ptrs(dns::Resolver& resolver, std::vector<MxTarget>& targets, const Deadline& deadline);

// How the probes talk to each address.
struct MxProbeSettings {
    std::uint16_t port = 25;
    bool starttls = false; // require STARTTLS and a successful handshake (no verification)
    std::string helo_name; // our name in EHLO
    std::string ca_file; // trust store for the handshake; empty: the system's
    std::string ca_path;
};

// One address's probe turned into its verdict: Up, Refusing (a 4xx/5xx banner, with the code
// and the sanitised text), TlsFailed (STARTTLS requested and missing or failed) or Down; the
// banner time runs from the start of the connect to the banner.
AddressResult address_result(const std::string& address, const ProbeResult& probe);

// Probes every address of every target at once, one thread per distinct address (an address
// shared by several MX is probed once), each bounded by `deadline`. Targets with a fault are
// left alone. Returns when every probe has finished, so no later than the deadline plus the
// time to wind up a thread. Thread-safe as long as nobody else touches `targets`.
void probe_targets(std::vector<MxTarget>& targets, const MxProbeSettings& settings,
                   const Deadline& deadline);

} // namespace mailmon
