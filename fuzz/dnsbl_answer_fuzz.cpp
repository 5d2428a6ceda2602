// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer target for DNSBL answer classification: the first byte picks a zone (RFC 5782
// default, Spamhaus ZEN, DBL, URIBL, or a zone whose filter is the next line of the input), the
// rest is the raw DNS answer to the A query 2.0.0.127.bl.example, parsed as the resolver would,
// then classified. fuzz/corpus/dnsbl_answer holds seed answers.
#include "dns_wire.hpp"
#include "mailmon/dnsbl.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace bl = mailmon::dnsbl;
using mailmon::dns::Query;
using mailmon::dns::Type;

namespace {

// What any classification must satisfy; a violation aborts, so libFuzzer keeps the input.
void check(const bl::Zone& zone, const bl::Classification& result)
{
    const bool has_codes = !result.codes.empty();
    const bool sorted = std::is_sorted(result.codes.begin(), result.codes.end());
    const bool counted = std::any_of(result.codes.begin(), result.codes.end(),
                                     [&](bl::Code code) { return zone.listed.matches(code); });
    switch (result.verdict) {
    case bl::Verdict::Listed:
        // A listing always has a code the zone counts, and all of it lies in 127.0.0.0/8.
        if (!has_codes || !sorted || !counted ||
            std::any_of(result.codes.begin(), result.codes.end(),
                        [](bl::Code code) { return (code >> 24) != 127; })) {
            __builtin_trap();
        }
        break;
    case bl::Verdict::Filtered:
        if (!has_codes || counted) {
            __builtin_trap();
        }
        break;
    case bl::Verdict::ZoneError:
        if (result.problem.empty() || result.hint.empty()) {
            __builtin_trap();
        }
        break;
    case bl::Verdict::NotListed:
    case bl::Verdict::Unanswered:
        break;
    }
}

bl::Zone pick_zone(std::uint8_t selector, std::string_view& rest)
{
    switch (selector % 5) {
    case 0:
        return bl::parse_zone_spec("bl.example", bl::ListKind::Ip, bl::Role::Block).value();
    case 1:
        return bl::parse_zone_spec("zen.spamhaus.org", bl::ListKind::Ip, bl::Role::Block).value();
    case 2:
        return bl::parse_zone_spec("dbl.spamhaus.org", bl::ListKind::Domain, bl::Role::Block)
            .value();
    case 3:
        return bl::parse_zone_spec("multi.uribl.com", bl::ListKind::Domain, bl::Role::Block)
            .value();
    default:
        break;
    }
    // A user's filter from the first line; a spec that does not parse falls back to the default.
    const auto newline = std::min(rest.find('\n'), rest.size());
    const std::string spec = "bl.example=" + std::string(rest.substr(0, newline));
    rest.remove_prefix(std::min(newline + 1, rest.size()));
    auto zone = bl::parse_zone_spec(spec, bl::ListKind::Ip, bl::Role::Block);
    return zone ? *zone : bl::parse_zone_spec("bl.example", bl::ListKind::Ip, bl::Role::Block)
                              .value();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0) {
        return 0;
    }
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    const auto zone = pick_zone(data[0], rest);
    const Query query{"2.0.0.127.bl.example", Type::A};
    const auto wire = reinterpret_cast<const std::uint8_t*>(rest.data());
    const auto response = mailmon::dns::parse_answer(query, {wire, rest.size()});
    check(zone, bl::classify(zone, response.status, response.addresses));
    return 0;
}
