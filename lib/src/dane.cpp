// SPDX-License-Identifier: GPL-3.0-or-later
// The TLSA owner name and the DANE reading of a TLSA answer (RFC 6698 §3, RFC 7672 §2).
#include "mailmon/dane.hpp"

#include "mailmon/output.hpp"

namespace mailmon {

namespace {

DaneState state_of(const dns::Response& response)
{
    switch (response.status) {
    case dns::Status::Ok:
        return response.authenticated ? DaneState::Validated : DaneState::Unsigned;
    case dns::Status::NoData:
    case dns::Status::NxDomain:
        // An authenticated denial and an unsigned one mean the same: no DANE here.
        return DaneState::Absent;
    case dns::Status::ServFail:
        return DaneState::Failed;
    case dns::Status::Refused:
    case dns::Status::Malformed:
    case dns::Status::BadName:
    case dns::Status::Timeout:
    case dns::Status::Unreachable:
        // A refusal or garbage comes from our own resolver, not from the target's zone.
        return DaneState::Unanswered;
    }
    return DaneState::Unanswered;
}

} // namespace

std::string tlsa_name(std::string_view host, std::uint16_t port)
{
    while (!host.empty() && host.back() == '.') {
        host.remove_suffix(1);
    }
    return "_" + std::to_string(port) + "._tcp." + std::string(host);
}

DaneLookup read_tlsa_response(const dns::Response& response)
{
    DaneLookup lookup;
    lookup.state = state_of(response);
    if (lookup.state == DaneState::Failed || lookup.state == DaneState::Unanswered) {
        lookup.detail = sanitize(std::string(dns::to_string(response.status)) +
                                 (response.detail.empty() ? "" : ": " + response.detail));
        return lookup;
    }
    for (const dns::Tlsa& record : response.tlsa) {
        lookup.records.push_back(
            TlsaRecord{record.usage, record.selector, record.matching_type, record.data});
    }
    return lookup;
}

} // namespace mailmon
