// SPDX-License-Identifier: GPL-3.0-or-later
// DNS lookups for the checks: many queries at once on one c-ares channel under a Deadline, with
// typed answers (A/AAAA, MX, TXT, PTR, CNAME, TLSA, the AD flag) and typed failures, so a plugin
// can tell NXDOMAIN from NODATA from SERVFAIL from a timeout.
#pragma once

#include "mailmon/deadline.hpp"
#include "mailmon/result.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct ares_channeldata;

namespace mailmon::dns {

enum class Type { A, AAAA, MX, TXT, PTR, CNAME, TLSA };

// How a query ended. NxDomain and NoData are answers (RFC 2308); ServFail, Refused, Timeout,
// Malformed and Unreachable may heal; BadName means the query could not even be built.
enum class Status {
    Ok, // at least one record of the asked type
    NoData, // NOERROR without a record of the asked type (cnames may still be set)
    NxDomain, // RCODE 3 (cnames may be set: an alias to a missing name)
    ServFail, // RCODE 2, and the rarer FORMERR, NOTIMP or unknown codes (see detail)
    Refused, // RCODE 5
    Timeout, // no answer after all tries, or the deadline passed first (see detail)
    Malformed, // an answer that does not parse (see detail)
    Unreachable, // the server could not be reached (port unreachable, socket error)
    BadName, // the name cannot be put in a query (a label over 63 bytes, ...)
};

struct Query {
    std::string name; // as given, with or without the trailing dot; never searched
    Type type = Type::A;
};

struct Mx {
    std::uint16_t preference = 0;
    std::string exchange; // "" for the null MX "." of RFC 7505
};

// RFC 6698 section 2.1.
struct Tlsa {
    std::uint8_t usage = 0;
    std::uint8_t selector = 0;
    std::uint8_t matching_type = 0;
    std::vector<std::uint8_t> data;
};

// Names are in presentation form without the trailing dot, as ares_expand_name writes them
// (a "." inside a label appears as "\.", other unusual bytes as "\DDD").
struct Response {
    Query query;
    Status status = Status::Timeout;
    bool authenticated = false; // the AD bit of the answer header (RFC 6840 5.7)
    std::vector<std::string> addresses; // A/AAAA in text form
    std::vector<Mx> mx;
    std::vector<std::string> texts; // TXT (the strings of one record joined), PTR names
    std::vector<Tlsa> tlsa;
    // The CNAME chain from the query name, in order: each entry is the target of the previous
    // name. Set for every type (an alias MX target shows up here); for Type::CNAME the first
    // entry is the answer.
    std::vector<std::string> cnames;
    std::string detail; // why, for Timeout, Malformed, Unreachable, BadName and odd RCODEs
    double seconds = 0.0; // from the start of resolve() to this answer
};

// "A", "AAAA", "MX", ... as in zone files.
const char* to_string(Type type);
// Stable lowercase words for diagnostics: "ok", "nodata", "nxdomain", "servfail", ...
const char* to_string(Status status);

// True for failures that may heal on their own (ServFail, Refused, Timeout, Malformed,
// Unreachable); false for Ok, and for NoData, NxDomain and BadName.
bool is_soft_failure(Status status);

// True when our own resolver gave no answer at all (Timeout, Unreachable): the plugin could
// not learn anything about the name, which is UNKNOWN rather than the target's fault.
bool is_resolver_silent(Status status);

// The failure as an Error: ResolveSoft for soft failures, ResolveHard for NxDomain and NoData,
// Usage for BadName, Internal for Ok (calling it on Ok is a programming error). The message
// reads "cannot resolve <name>/<TYPE>: <cause>".
Error to_error(const Response& response);

struct ResolverConfig {
    // "192.0.2.1", "192.0.2.1:5353", "2001:db8::1", "[2001:db8::1]:5353"; IP addresses only.
    // Empty: the servers of the system resolver (/etc/resolv.conf).
    std::vector<std::string> servers;
    std::chrono::milliseconds try_timeout{1500}; // first try; c-ares doubles it per round
    int tries = 2; // per server
};

// One c-ares channel. Every query carries the AD bit, so a validating resolver reports
// whether it validated the answer. Not thread-safe: use one Resolver per thread.
class Resolver {
public:
    // Errors: Usage for a bad server entry ("cannot use DNS server 'x': ...") or bad timing
    // values, Internal when c-ares cannot set up the channel.
    static Result<Resolver> create(const ResolverConfig& config);

    // Sends every query at once and returns one Response per query, in the same order, when
    // all are answered or the deadline passes; unanswered ones then get Status::Timeout.
    // Never waits past the deadline. Throws only std::bad_alloc.
    std::vector<Response> resolve(const std::vector<Query>& queries, const Deadline& deadline);

private:
    struct ChannelDeleter {
        void operator()(ares_channeldata* channel) const;
    };
    using Channel = std::unique_ptr<ares_channeldata, ChannelDeleter>;

    Resolver(Channel channel, int tries) : channel_(std::move(channel)), tries_(tries) {}

    Channel channel_;
    int tries_;
};

// The reverse-lookup name of an address: "4.3.2.1.in-addr.arpa" for 1.2.3.4 (RFC 1035 3.5),
// 32 nibbles under "ip6.arpa" for IPv6 (RFC 3596 2.5). nullopt if ip is not an address.
std::optional<std::string> reverse_name(std::string_view ip);

// The same without the suffix, as a DNSBL query prefix (RFC 5782 2.1 and 2.4).
std::optional<std::string> reversed_labels(std::string_view ip);

} // namespace mailmon::dns
