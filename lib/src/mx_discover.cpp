// SPDX-License-Identifier: GPL-3.0-or-later
// The DNS half of check_mx: the MX answer and the addresses of every exchange, looked up in
// two batches on one c-ares channel, and the forward-confirmed reverse DNS of --check-ptr.
#include "mailmon/mx.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace mailmon {

namespace {

using DnsStatus = dns::Status;

std::vector<dns::Query> address_queries(const std::string& name, Families families)
{
    std::vector<dns::Query> queries;
    if (families.ipv4) {
        queries.push_back(dns::Query{name, dns::Type::A});
    }
    if (families.ipv6) {
        queries.push_back(dns::Query{name, dns::Type::AAAA});
    }
    return queries;
}

bool any_status(const std::vector<dns::Response>& responses, bool (*test)(DnsStatus))
{
    return std::any_of(responses.begin(), responses.end(),
                       [test](const dns::Response& r) { return test(r.status); });
}

std::string first_detail(const std::vector<dns::Response>& responses, DnsStatus status)
{
    for (const auto& response : responses) {
        if (response.status == status) {
            return sanitize(response.detail);
        }
    }
    return "";
}

// Why a target without any address cannot be probed: NXDOMAIN only when every family says so.
std::pair<TargetFault, std::string> address_fault(const std::vector<dns::Response>& responses)
{
    const bool all_nxdomain =
        !responses.empty() && std::all_of(responses.begin(), responses.end(), [](const auto& r) {
            return r.status == DnsStatus::NxDomain;
        });
    if (all_nxdomain) {
        return {TargetFault::NxDomain, ""};
    }
    if (any_status(responses, [](DnsStatus s) { return s == DnsStatus::ServFail; })) {
        return {TargetFault::ServFail, first_detail(responses, DnsStatus::ServFail)};
    }
    const bool answered = any_status(
        responses, [](DnsStatus s) { return s == DnsStatus::NoData || s == DnsStatus::NxDomain; });
    if (answered && !any_status(responses, dns::is_soft_failure)) {
        return {TargetFault::NoAddress, ""};
    }
    for (const auto& response : responses) {
        if (dns::is_soft_failure(response.status) || response.status == DnsStatus::BadName) {
            return {TargetFault::ResolverSilent, sanitize(dns::to_error(response).message)};
        }
    }
    return {TargetFault::ResolverSilent, ""};
}

} // namespace

DomainOutcome mx_outcome(const dns::Response& mx)
{
    switch (mx.status) {
    case DnsStatus::Ok: {
        const bool only_null = std::all_of(mx.mx.begin(), mx.mx.end(), [](const dns::Mx& r) {
            return normalise_name(r.exchange).empty();
        });
        return only_null ? DomainOutcome::NullMx : DomainOutcome::Mx;
    }
    case DnsStatus::NoData:
        return DomainOutcome::NoMailHost;
    case DnsStatus::NxDomain:
        return DomainOutcome::NxDomain;
    case DnsStatus::ServFail:
        return DomainOutcome::ServFail;
    case DnsStatus::Timeout:
    case DnsStatus::Unreachable:
        return DomainOutcome::ResolverSilent;
    case DnsStatus::Refused:
    case DnsStatus::Malformed:
    case DnsStatus::BadName:
        break;
    }
    return DomainOutcome::ResolverFailed;
}

DomainOutcome implicit_mx_outcome(const std::vector<dns::Response>& addresses)
{
    if (any_status(addresses, [](DnsStatus s) { return s == DnsStatus::Ok; })) {
        return DomainOutcome::ImplicitMx;
    }
    if (any_status(addresses, [](DnsStatus s) { return s == DnsStatus::ServFail; })) {
        return DomainOutcome::ServFail;
    }
    if (any_status(addresses, dns::is_resolver_silent)) {
        return DomainOutcome::ResolverSilent;
    }
    return DomainOutcome::NoMailHost;
}

// LIMIT: when one family's lookup fails (SERVFAIL, timeout) and the other returns addresses,
// the failure is not reported — the MX is judged on the addresses found.
void apply_address_responses(MxTarget& target, const std::vector<dns::Response>& responses)
{
    std::set<std::string> seen;
    for (const auto& response : responses) {
        if (!response.cnames.empty()) {
            target.canonical = sanitize(response.cnames.back());
        }
        for (const auto& address : response.addresses) {
            if (seen.insert(address).second) {
                AddressResult result;
                result.address = address;
                target.addresses.push_back(std::move(result));
            }
        }
    }
    if (target.addresses.empty() && target.fault == TargetFault::None) {
        std::tie(target.fault, target.fault_detail) = address_fault(responses);
    }
}

MxSurvey read_mx_answer(const std::string& domain, const dns::Response& mx,
                        const std::vector<dns::Response>& own_addresses)
{
    MxSurvey survey;
    survey.domain = normalise_name(domain);
    survey.authenticated = mx.authenticated;
    survey.outcome = mx_outcome(mx);
    if (survey.outcome == DomainOutcome::NoMailHost) {
        survey.outcome = implicit_mx_outcome(own_addresses);
    }
    if (survey.outcome == DomainOutcome::ImplicitMx) {
        MxTarget target;
        target.name = normalise_name(survey.domain);
        target.implicit = true;
        apply_address_responses(target, own_addresses);
        survey.targets.push_back(std::move(target));
        return survey;
    }
    if (survey.outcome != DomainOutcome::Mx) {
        survey.detail = sanitize(mx.detail);
        return survey;
    }
    std::vector<MxRecord> records;
    for (const auto& record : mx.mx) {
        records.push_back(MxRecord{record.preference, record.exchange});
    }
    auto answer = analyse_mx_records(records);
    survey.null_mx_mixed = answer.null_mx;
    survey.targets = std::move(answer.targets);
    return survey;
}

MxSurvey discover_mx(dns::Resolver& resolver, const std::string& domain, Families families,
                     const Deadline& deadline)
{
    const auto start = Deadline::Clock::now();
    const std::string name = normalise_name(domain);
    auto first = address_queries(name, families);
    first.insert(first.begin(), dns::Query{name, dns::Type::MX});
    auto answers = resolver.resolve(first, deadline);
    const dns::Response mx = answers.front();
    answers.erase(answers.begin());
    MxSurvey survey = read_mx_answer(name, mx, answers);

    std::vector<dns::Query> queries;
    std::vector<std::size_t> owners; // which target each query belongs to
    for (std::size_t i = 0; i < survey.targets.size(); ++i) {
        const auto& target = survey.targets[i];
        if (target.implicit || target.fault != TargetFault::None) {
            continue;
        }
        for (auto& query : address_queries(target.name, families)) {
            queries.push_back(std::move(query));
            owners.push_back(i);
        }
    }
    if (!queries.empty()) {
        const auto responses = resolver.resolve(queries, deadline);
        std::map<std::size_t, std::vector<dns::Response>> by_target;
        for (std::size_t q = 0; q < responses.size(); ++q) {
            by_target[owners[q]].push_back(responses[q]);
        }
        for (auto& [index, list] : by_target) {
            auto& target = survey.targets[index];
            apply_address_responses(target, list);
            if (target.fault == TargetFault::NoAddress && !(families.ipv4 && families.ipv6)) {
                target.fault_detail =
                    families.ipv4 ? "no A record, -4 given" : "no AAAA record, -6 given";
            }
        }
    }
    survey.dns_seconds = seconds_since(start);
    return survey;
}

PtrOutcome confirm_ptr(const std::string& address, const dns::Response& ptr,
                       const std::vector<dns::Response>& forward)
{
    if (dns::is_soft_failure(ptr.status)) {
        return PtrOutcome::Unresolved;
    }
    if (ptr.texts.empty()) {
        return PtrOutcome::Missing;
    }
    bool unresolved = false;
    for (const auto& response : forward) {
        const auto& found = response.addresses;
        if (std::find(found.begin(), found.end(), address) != found.end()) {
            return PtrOutcome::Confirmed;
        }
        unresolved = unresolved || dns::is_soft_failure(response.status);
    }
    return unresolved ? PtrOutcome::Unresolved : PtrOutcome::Mismatch;
}

namespace {

std::vector<std::string> distinct_addresses(const std::vector<MxTarget>& targets)
{
    std::vector<std::string> addresses;
    for (const auto& target : targets) {
        for (const auto& address : target.addresses) {
            const auto& text = address.address;
            if (std::find(addresses.begin(), addresses.end(), text) == addresses.end()) {
                addresses.push_back(text);
            }
        }
    }
    return addresses;
}

dns::Type family_of(const std::string& address)
{
    return address.find(':') != std::string::npos ? dns::Type::AAAA : dns::Type::A;
}

// The forward lookups of every PTR name, all at once, grouped by the address they confirm.
std::vector<std::vector<dns::Response>> forward_lookups(dns::Resolver& resolver,
                                                        const std::vector<std::string>& addresses,
                                                        const std::vector<dns::Response>& ptrs,
                                                        const Deadline& deadline)
{
    std::vector<dns::Query> queries;
    std::vector<std::size_t> owners;
    for (std::size_t i = 0; i < ptrs.size(); ++i) {
        for (const auto& name : ptrs[i].texts) {
            queries.push_back(dns::Query{name, family_of(addresses[i])});
            owners.push_back(i);
        }
    }
    std::vector<std::vector<dns::Response>> grouped(ptrs.size());
    auto responses = resolver.resolve(queries, deadline);
    for (std::size_t q = 0; q < responses.size(); ++q) {
        grouped[owners[q]].push_back(std::move(responses[q]));
    }
    return grouped;
}

} // namespace

void check_ptrs(dns::Resolver& resolver, std::vector<MxTarget>& targets, const Deadline& deadline)
{
    std::vector<std::string> addresses;
    std::vector<dns::Query> reverse;
    for (const auto& address : distinct_addresses(targets)) {
        if (const auto name = dns::reverse_name(address)) {
            addresses.push_back(address);
            reverse.push_back(dns::Query{*name, dns::Type::PTR});
        }
    }
    const auto ptrs = resolver.resolve(reverse, deadline);
    const auto forward = forward_lookups(resolver, addresses, ptrs, deadline);

    std::map<std::string, std::pair<PtrOutcome, std::string>> verdicts;
    for (std::size_t i = 0; i < ptrs.size(); ++i) {
        std::string shown;
        for (const auto& name : ptrs[i].texts) {
            shown += (shown.empty() ? "" : ",") + sanitize(name, 80);
        }
        verdicts[addresses[i]] = {confirm_ptr(addresses[i], ptrs[i], forward[i]), shown};
    }
    for (auto& target : targets) {
        for (auto& address : target.addresses) {
            if (const auto found = verdicts.find(address.address); found != verdicts.end()) {
                std::tie(address.ptr, address.ptr_names) = found->second;
            }
        }
    }
}

} // namespace mailmon
