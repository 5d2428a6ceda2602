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

bool silent(DnsStatus status)
{
    return status == DnsStatus::Timeout || status == DnsStatus::Unreachable;
}

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
            return sanitize(response.detail.empty() ? dns::to_string(status) : response.detail);
        }
    }
    return "";
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
    if (any_status(addresses, silent)) {
        return DomainOutcome::ResolverSilent;
    }
    return DomainOutcome::NoMailHost;
}

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
    if (!target.addresses.empty() || target.fault != TargetFault::None) {
        return;
    }
    const auto all = [&](DnsStatus status) {
        return !responses.empty() && std::all_of(responses.begin(), responses.end(),
                                                 [&](const auto& r) { return r.status == status; });
    };
    if (all(DnsStatus::NxDomain)) {
        target.fault = TargetFault::NxDomain;
    } else if (any_status(responses, [](DnsStatus s) { return s == DnsStatus::ServFail; })) {
        target.fault = TargetFault::ServFail;
        target.fault_detail = first_detail(responses, DnsStatus::ServFail);
    } else if (any_status(responses,
                          [](DnsStatus s) {
                              return s == DnsStatus::NoData || s == DnsStatus::NxDomain;
                          }) &&
               !any_status(responses, [](DnsStatus s) { return dns::is_soft_failure(s); })) {
        target.fault = TargetFault::NoAddress;
    } else {
        target.fault = TargetFault::ResolverSilent;
        for (const auto& response : responses) {
            if (dns::is_soft_failure(response.status) || response.status == DnsStatus::BadName) {
                target.fault_detail = sanitize(dns::to_error(response).message);
                break;
            }
        }
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

namespace {

PtrOutcome confirm(const std::string& address, const std::vector<std::string>& names,
                   const std::map<std::string, dns::Response>& forward)
{
    bool unresolved = false;
    for (const auto& name : names) {
        const auto found = forward.find(name);
        if (found == forward.end()) {
            continue;
        }
        const auto& addresses = found->second.addresses;
        if (std::find(addresses.begin(), addresses.end(), address) != addresses.end()) {
            return PtrOutcome::Confirmed;
        }
        unresolved = unresolved || dns::is_soft_failure(found->second.status);
    }
    return unresolved ? PtrOutcome::Unresolved : PtrOutcome::Mismatch;
}

} // namespace

void check_ptrs(dns::Resolver& resolver, std::vector<MxTarget>& targets, const Deadline& deadline)
{
    std::vector<std::string> addresses;
    std::vector<dns::Query> reverse;
    for (const auto& target : targets) {
        for (const auto& address : target.addresses) {
            const auto name = dns::reverse_name(address.address);
            if (name &&
                std::find(addresses.begin(), addresses.end(), address.address) == addresses.end()) {
                addresses.push_back(address.address);
                reverse.push_back(dns::Query{*name, dns::Type::PTR});
            }
        }
    }
    const auto ptrs = resolver.resolve(reverse, deadline);

    // Forward lookups of every PTR name, in the family of the address it came from.
    std::map<std::string, dns::Response> forward;
    std::vector<dns::Query> queries;
    for (std::size_t i = 0; i < ptrs.size(); ++i) {
        const bool v6 = addresses[i].find(':') != std::string::npos;
        for (const auto& name : ptrs[i].texts) {
            queries.push_back(dns::Query{name, v6 ? dns::Type::AAAA : dns::Type::A});
        }
    }
    for (auto& response : resolver.resolve(queries, deadline)) {
        forward[response.query.name + "/" + dns::to_string(response.query.type)] = response;
    }

    std::map<std::string, std::pair<PtrOutcome, std::string>> verdicts;
    for (std::size_t i = 0; i < ptrs.size(); ++i) {
        const bool v6 = addresses[i].find(':') != std::string::npos;
        const auto& response = ptrs[i];
        std::vector<std::string> keys;
        std::string shown;
        for (const auto& name : response.texts) {
            keys.push_back(name + (v6 ? "/AAAA" : "/A"));
            shown += (shown.empty() ? "" : ",") + sanitize(name, 80);
        }
        PtrOutcome outcome = PtrOutcome::Missing;
        if (dns::is_soft_failure(response.status)) {
            outcome = PtrOutcome::Unresolved;
        } else if (!response.texts.empty()) {
            outcome = confirm(addresses[i], keys, forward);
        }
        verdicts[addresses[i]] = {outcome, shown};
    }
    for (auto& target : targets) {
        for (auto& address : target.addresses) {
            if (const auto found = verdicts.find(address.address); found != verdicts.end()) {
                address.ptr = found->second.first;
                address.ptr_names = found->second.second;
            }
        }
    }
}

} // namespace mailmon
