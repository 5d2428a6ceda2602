// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer target for the raw DNS answer parser: the first byte picks the query type, the rest
// is the answer to a query for "example.org". Run with -dict=fuzz/dns_answer.dict.
#include "dns_wire.hpp"

#include <array>
#include <cstddef>
#include <cstdint>

using mailmon::dns::Response;
using mailmon::dns::Status;
using mailmon::dns::Type;

namespace {

// What any parsed answer must satisfy; a violation aborts, so libFuzzer keeps the input.
void check(const Response& response)
{
    const bool has_records = !response.addresses.empty() || !response.mx.empty() ||
                             !response.texts.empty() || !response.tlsa.empty() ||
                             (response.query.type == Type::CNAME && !response.cnames.empty());
    // Records come only with Ok, and with NXDOMAIN when a server sends both.
    const bool may_have_records =
        response.status == Status::Ok || response.status == Status::NxDomain;
    if ((response.status == Status::Ok && !has_records) || (has_records && !may_have_records)) {
        __builtin_trap();
    }
    if (response.status == Status::Malformed && response.detail.empty()) {
        __builtin_trap();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    constexpr std::array types = {Type::A,   Type::AAAA,  Type::MX,  Type::TXT,
                                  Type::PTR, Type::CNAME, Type::TLSA};
    if (size == 0) {
        return 0;
    }
    const mailmon::dns::Query query{"example.org", types[data[0] % types.size()]};
    check(mailmon::dns::parse_answer(query, {data + 1, size - 1}));
    return 0;
}
