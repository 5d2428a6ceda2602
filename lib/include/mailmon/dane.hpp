// SPDX-License-Identifier: GPL-3.0-or-later
// What one TLSA answer means for DANE on SMTP (RFC 7672): the owner name to ask for and the
// classification of the answer, shared by every plugin that looks TLSA records up.
#pragma once

#include "mailmon/dns.hpp"
#include "mailmon/tls.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mailmon {

// What the DNS said about the TLSA records of one host and port. The split follows who is at
// fault (CONVENTIONS.md section 0): Failed is the zone's or its servers' doing and a DANE
// sender defers mail on it; Unanswered is our resolver's and says nothing about the target.
enum class DaneState {
    NotLookedUp, // nothing asked: DANE not requested, or an IP literal has no TLSA name
    Absent, // NXDOMAIN or NODATA, authenticated or not: no DANE for this port
    Unsigned, // records without the AD flag: a DANE sender ignores them (RFC 7672 §2.2)
    Validated, // records with the AD flag: the peer must match one of them
    Failed, // SERVFAIL (e.g. DNSSEC bogus) or an odd RCODE: DANE senders defer (RFC 7672 §2.1)
    Unanswered, // no usable answer from our resolver: timeout, unreachable, REFUSED, an
                // unparsable answer, or an owner name that cannot be put in a query
};

struct DaneLookup {
    DaneState state = DaneState::NotLookedUp;
    // Every record of the answer, for Validated and Unsigned alike, so that a caller can
    // report what an unsigned zone publishes. Only Validated records may be handed to the TLS
    // layer for DANE.
    std::vector<TlsaRecord> records;
    // For Failed and Unanswered: the resolver's status word, then its explanation when it
    // gave one, sanitised: "servfail", "timeout: no answer after 3 tries per server".
    std::string detail;
};

// The TLSA owner name of RFC 6698 §3 for a host name, trailing dots dropped:
// tlsa_name("mx.example.org.", 25) is "_25._tcp.mx.example.org".
std::string tlsa_name(std::string_view host, std::uint16_t port);

// Classifies the response to one TLSA query (dns::Type::TLSA) as described at DaneState.
// Pure and thread-safe.
DaneLookup read_tlsa_response(const dns::Response& response);

} // namespace mailmon
