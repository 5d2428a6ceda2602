// SPDX-License-Identifier: GPL-3.0-or-later
// check_smtp_tls's judgement: which mode each port speaks (RFC 8314 implicit TLS on 465, RFC
// 3207 STARTTLS elsewhere), the TLSA records that apply to it (RFC 7672), and how the probe of
// every address x port becomes a state, a long-output line and perfdata.
#pragma once

#include "mailmon/dns.hpp"
#include "mailmon/output.hpp"
#include "mailmon/range.hpp"
#include "mailmon/result.hpp"
#include "mailmon/smtp.hpp"
#include "mailmon/tls.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailmon {

// "starttls", "tls", "plain": the words of --mode.
const char* mode_word(SmtpMode mode);

// 465 is implicit TLS (RFC 8314 §3.3); every other port speaks STARTTLS (RFC 3207).
SmtpMode default_mode(std::uint16_t port);

struct PortPlan {
    std::uint16_t port = 25;
    SmtpMode mode = SmtpMode::StartTls;
};

// "-p 25,465,587" with "--mode PORT:starttls|tls|plain" overrides (one entry each). Ports are
// kept in the order given, duplicates dropped. Errors (Usage): a port outside 1..65535 or an
// empty piece ("25,"), an unknown mode word, a --mode for a port that is not checked.
Result<std::vector<PortPlan>> plan_ports(std::string_view ports,
                                         const std::vector<std::string>& modes);

// How a certificate verification failure counts (--verify). Unset, submission ports (465,
// 587) use Strict, because mail clients refuse such a server, and every other port Warn,
// because opportunistic senders deliver anyway (RFC 7435).
enum class VerifyPolicy { Strict, Warn, None };

Result<VerifyPolicy> parse_verify_policy(std::string_view word);

// True for 465 and 587, the ports of RFC 8314 and RFC 6409.
bool is_submission_port(std::uint16_t port);

// The timed phases reported as perfdata, in output order.
enum class Timing { Connect, Banner, Ehlo, StartTls, Handshake, Total };
constexpr std::array all_timings{Timing::Connect,  Timing::Banner,    Timing::Ehlo,
                                 Timing::StartTls, Timing::Handshake, Timing::Total};

// "connect", "banner", "ehlo", "starttls", "handshake", "total": perfdata label suffixes.
const char* to_string(Timing timing);

// Seconds spent in a phase; Total runs from the connect to the last EHLO reply (QUIT is a
// courtesy and not counted). nullopt when the phase did not run.
std::optional<double> timing_seconds(const ProbeResult& probe, Timing timing);

// What the DNS said about the TLSA records of one port (--dane).
enum class DaneState {
    NotAsked, // --dane not given
    Absent, // NXDOMAIN or NODATA: no DANE for this port
    Unsigned, // records found but not validated (no AD): ignored, RFC 7672 §2.2
    Validated, // records with AD: OpenSSL checks the peer against them
    Failed, // SERVFAIL (e.g. DNSSEC bogus): a DANE sender defers mail, RFC 7672 §2.1
    Unanswered, // our resolver never answered: we cannot tell
};

struct DaneLookup {
    DaneState state = DaneState::NotAsked;
    std::vector<TlsaRecord> records; // Validated only
    std::string detail; // the resolver's words for Failed and Unanswered, sanitised
};

// The TLSA owner name of RFC 6698 §3: "_25._tcp.mx.example.org".
std::string tlsa_name(std::string_view host, std::uint16_t port);

// Classifies one TLSA response (Type::TLSA).
DaneLookup read_dane_lookup(const dns::Response& response);

// OpenSSL's default hashed certificate directory when it holds hash links, else "". Loading
// the default bundle file costs about 50 ms of CPU per TLS context; a hashed directory is read
// lazily, one file per issuer looked up, which keeps a probe within a few milliseconds.
// LIMIT: a store made only of the bundle file (no hash links) falls back to the default
// paths — each probe then pays the bundle parse.
std::string system_ca_dir();

// The addresses of the checked host and the TLSA lookups of its ports.
struct HostLookup {
    std::vector<std::string> addresses; // A then AAAA, as the resolver gave them
    std::vector<DaneLookup> dane; // one per port plan, same order
    State failure_state = State::Ok; // not Ok: no address to probe
    std::string failure; // why, sanitised: "mx.example.org: NXDOMAIN"
};

// Reads the A/AAAA responses (either may be missing under -4/-6) and the TLSA responses (one
// per plan, or none without --dane). No address: CRITICAL for NXDOMAIN, NODATA or SERVFAIL of
// the host (a definite DNS failure), UNKNOWN when our resolver never answered.
HostLookup read_host_responses(std::string_view host, const std::vector<dns::Response>& addresses,
                               const std::vector<dns::Response>& tlsa);

// Sends the A, AAAA and TLSA queries in one batch and reads them as above.
HostLookup look_up_host(dns::Resolver& resolver, std::string_view host, bool ipv4, bool ipv6,
                        const std::vector<PortPlan>& plans, bool dane, const Deadline& deadline);

struct SmtpTlsPolicy {
    std::optional<VerifyPolicy> verify; // nullopt: by port, see VerifyPolicy
    TlsVersion min_tls = TlsVersion::Tls12;
    std::string expect; // text the banner must contain; empty: any 220
    bool require_dane = false; // no validated TLSA on a port is CRITICAL
    Thresholds total; // -w/-c, seconds
    std::array<Thresholds, all_timings.size()> phases; // per Timing; Total unused here
};

// One address x port, probed.
struct Endpoint {
    std::string address;
    PortPlan plan;
    ProbeResult probe;
    DaneLookup dane;
};

struct EndpointVerdict {
    State state = State::Ok;
    std::vector<std::string> problems; // worst first, sanitised: "TLSv1.1 below TLSv1.2"
    std::string line; // the long-output line: endpoint, mode, TLS, verification, timings
};

// Judges one endpoint. CRITICAL: any failed phase that is the peer's fault (refused, silent,
// 4xx/5xx greeting, no STARTTLS, STARTTLS refused, handshake failure, over-long line, TLS and
// plain text mixed up), a verification failure under Strict, a validated TLSA that matched
// nothing, a TLSA lookup that failed; WARNING: verification failure under Warn, AUTH offered
// before TLS on a submission port, TLS below min_tls, --expect missing, time thresholds.
// UNKNOWN: local failures (an unreadable CA file, no resources) and our resolver's silence.
EndpointVerdict judge_endpoint(const Endpoint& endpoint, const SmtpTlsPolicy& policy);

// The perfdata of one endpoint: "<address>_<port>_<timing>" in seconds, with the thresholds.
std::vector<Metric> endpoint_metrics(const Endpoint& endpoint, const SmtpTlsPolicy& policy);

// The whole report: the first line names the host, the ports and the worst problem; one long-
// output line per endpoint; perfdata of every endpoint.
Report judge_smtp_tls(std::string_view host, const std::vector<PortPlan>& plans,
                      const std::vector<Endpoint>& endpoints, const SmtpTlsPolicy& policy);

// Probes every endpoint at once, one thread each, under the shared deadline. `options` is
// the template (helo name, TLS settings); address, port, mode and TLSA come from each entry.
void probe_endpoints(std::vector<Endpoint>& endpoints, const ProbeOptions& options,
                     const Deadline& deadline);

} // namespace mailmon
