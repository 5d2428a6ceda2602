// SPDX-License-Identifier: GPL-3.0-or-later
// The judgement of check_mail_cert: given what probe_smtp saw at every endpoint (address x
// port) and what DNS said about TLSA, decide per endpoint (verification, name, days left, key
// and signature quality, DANE, OCSP staple), compare the endpoints of one name, and build the
// plugin's report. No network here: the plugin probes, this module judges.
#pragma once

#include "mailmon/cert.hpp"
#include "mailmon/deadline.hpp"
#include "mailmon/dns.hpp"
#include "mailmon/output.hpp"
#include "mailmon/range.hpp"
#include "mailmon/smtp.hpp"
#include "mailmon/state.hpp"
#include "mailmon/tls.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mailmon {

// -w/-c in days: a plain number N means "alert when fewer than N days remain" (the range
// "N:"), fractions allowed; a value holding ':' or '@' is a full Nagios range
// (CONVENTIONS.md section 0). Errors: Usage naming the option.
Result<Thresholds> parse_days_thresholds(const std::optional<std::string>& warning,
                                         const std::optional<std::string>& critical);

struct CertPolicy {
    Thresholds days; // on the fewest days left over the chain
    int min_rsa_bits = 2048;
    int min_ec_bits = 256;
    bool require_dane = false;
};

// What the TLSA lookup at _PORT._tcp.HOST returned (RFC 7672 §2.2).
struct TlsaLookup {
    enum class Status {
        NotLooked, // no host name to look up (an IP literal)
        None, // NXDOMAIN or NODATA
        Insecure, // records, but without the AD flag: RFC 7672 says ignore them
        Secure, // records with the AD flag
        Failed, // SERVFAIL or another answer that DANE senders treat as a failure
        Unanswered, // our resolver did not answer: we cannot know
    };
    Status status = Status::NotLooked;
    std::vector<TlsaRecord> records;
    std::string detail; // why it failed, for the text
};

// Everything known about one endpoint after probing it.
struct EndpointProbe {
    std::string host; // the MX or -H name; the address itself for an IP literal
    std::string address;
    std::uint16_t port = 25;
    std::string verify_name; // the name the certificate must carry; empty: not checked
    TlsaLookup tlsa;
    ProbeResult probe;
};

struct Finding {
    State state = State::Ok;
    std::string text;
};

struct EndpointVerdict {
    std::string label; // "mx.example.org 192.0.2.1:25", or "192.0.2.1:25" for an IP literal
    std::string host;
    std::string endpoint; // "192.0.2.1:25"
    State state = State::Ok;
    std::vector<Finding> problems; // in order of discovery; state above OK only
    std::optional<CertificateInfo> leaf;
    std::optional<double> leaf_days;
    std::optional<double> chain_days_min; // fewest over every certificate sent
    std::string chain_min_subject; // the certificate that has them
    std::string verification; // "verified", or the problems joined
    std::string dane; // "matched TLSA 3 1 1 at depth 0", "no TLSA records", ...
    std::string ocsp; // "no staple", "good", "revoked", ...
};

// Judges one endpoint at time `now`. Never fails: a probe failure or an unreadable
// certificate becomes a problem with its state. Thread-safe.
EndpointVerdict judge_endpoint(const EndpointProbe& probe, const TrustStore& store,
                               const CertPolicy& policy, SystemTime now);

// Endpoints of one host that serve different leaves (the "one node still serves the old
// certificate" case): one WARNING per host naming each endpoint and its expiry.
std::vector<Finding> compare_fleet(const std::vector<EndpointVerdict>& verdicts);

// The plugin report: the first line names the worst problem and the soonest expiry; one long
// line per endpoint, then the fleet and `discovery` findings (names that could not be
// resolved); perfdata cert_days_left_<id> and chain_days_left_<id> per endpoint, <id> being the
// label with '_' for the space.
Report build_report(const std::vector<EndpointVerdict>& verdicts,
                    const std::vector<Finding>& discovery, const CertPolicy& policy);

// "25", "25,465,587": distinct ports in the order given. Errors: Usage.
Result<std::vector<std::uint16_t>> parse_ports(std::string_view text);

// How to start TLS on a port: implicit TLS on 465 (RFC 8314), STARTTLS elsewhere.
SmtpMode mode_for_port(std::uint16_t port);

// The TLSA answer for _PORT._tcp.HOST as DANE sees it (RFC 7672 §2.2): records count only with
// the AD flag; SERVFAIL is a failure DANE senders defer on; a silent resolver is ours.
TlsaLookup read_tlsa_response(const dns::Response& response);

// One host to check: its name (or an IP literal), the name its certificate must carry, and
// the addresses to probe.
struct HostTarget {
    std::string host;
    std::string verify_name;
    std::vector<std::string> addresses;
};

struct ProbeSettings {
    std::vector<std::uint16_t> ports{25};
    std::string helo_name;
    std::string ca_file;
    std::string ca_path;
};

// Looks up the TLSA records of every host name x port at once (IP literals are not looked
// up), then probes every address x port concurrently, one thread each, all bounded by
// `deadline`. The TLSA records of a secure answer go to the TLS layer for DANE; OCSP stapling
// is requested. Returns one EndpointProbe per address x port, hosts in order.
std::vector<EndpointProbe> probe_hosts(dns::Resolver& resolver,
                                       const std::vector<HostTarget>& hosts,
                                       const ProbeSettings& settings, const Deadline& dns_deadline,
                                       const Deadline& deadline);

} // namespace mailmon
