// SPDX-License-Identifier: GPL-3.0-or-later
// The DNS wire format as the resolver needs it: a query with the AD bit set, and a parser of
// raw answers into a Response. Private to libmailmon; the unit tests and the fuzzer use it.
#pragma once

#include "mailmon/dns.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace mailmon::dns {

// RR type numbers (RFC 1035 3.2.2, RFC 3596, RFC 6698).
std::uint16_t type_code(Type type);

// A recursive query (RD) of class IN for query.name, with the AD bit set (RFC 6840 5.7) and no
// EDNS. Error (message = the cause) if the name cannot be encoded.
Result<std::vector<std::uint8_t>> build_query(const Query& query);

// Everything a raw answer says about query: status, AD bit, records and CNAME chain. A message
// that does not parse gives Status::Malformed with a detail, never a crash; seconds is 0.
Response parse_answer(const Query& query, std::span<const std::uint8_t> wire);

} // namespace mailmon::dns
