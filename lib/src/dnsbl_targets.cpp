// SPDX-License-Identifier: GPL-3.0-or-later
// From -H and --domain to the addresses and domains a DNSBL run checks: address literals as
// given, host names and mail exchangers resolved in at most two concurrent rounds.
#include "mailmon/dnsbl.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <unordered_set>

namespace mailmon::dnsbl {

namespace {

bool is_address(const std::string& text)
{
    unsigned char buffer[16];
    return inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
           inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

std::string plain_name(std::string name)
{
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!name.empty() && name.back() == '.') {
        name.pop_back();
    }
    return name;
}

// Collects targets without duplicates: an address reached twice (two MX on one host) is
// checked once, under the first name that led to it.
class TargetSet {
public:
    void add(Target target)
    {
        if (seen_.insert(std::to_string(static_cast<int>(target.kind)) + target.subject).second) {
            targets_.push_back(std::move(target));
        }
    }
    std::vector<Target> take() { return std::move(targets_); }

private:
    std::vector<Target> targets_;
    std::unordered_set<std::string> seen_;
};

// The A/AAAA queries for one name, as the address families allow.
void add_address_queries(std::vector<dns::Query>& queries, const std::string& name,
                         const TargetRequest& request)
{
    if (request.ipv4) {
        queries.push_back({name, dns::Type::A});
    }
    if (request.ipv6) {
        queries.push_back({name, dns::Type::AAAA});
    }
}

// Our resolver's silence is UNKNOWN; every other failure is the target's fault.
State failure_state(const std::vector<const dns::Response*>& answers)
{
    const bool silent = std::any_of(answers.begin(), answers.end(), [](const auto* r) {
        return dns::is_resolver_silent(r->status);
    });
    return silent ? State::Unknown : State::Critical;
}

// Reads the A/AAAA answers for `name` (queries[first..first+count)) into targets; a name
// without any address becomes a failure naming the first answer's cause.
void take_addresses(const std::vector<dns::Response>& responses, std::size_t first,
                    std::size_t count, const std::string& origin, TargetSet& targets,
                    std::vector<TargetFailure>& failures)
{
    std::vector<const dns::Response*> answers;
    bool any = false;
    for (std::size_t i = first; i < first + count; ++i) {
        answers.push_back(&responses[i]);
        for (const auto& address : responses[i].addresses) {
            targets.add({address, ListKind::Ip, origin});
            any = true;
        }
    }
    if (!any && !answers.empty()) {
        const auto failed = std::find_if(answers.begin(), answers.end(), [](const auto* r) {
            return r->status != dns::Status::Ok;
        });
        const auto* cause = failed == answers.end() ? answers.front() : *failed;
        failures.push_back(
            {failure_state(answers), cause->status == dns::Status::Ok
                                         ? "cannot resolve " + origin + ": no address"
                                         : dns::to_error(*cause).message});
    }
}

// The second round: the addresses of each domain's mail exchangers, or of the domain itself
// when it has no MX (RFC 5321 5.1); a null MX (RFC 7505) adds no address.
void resolve_exchanges(dns::Resolver& resolver, const TargetRequest& request,
                       const std::vector<dns::Response>& mx_answers, const Deadline& deadline,
                       TargetSet& targets, std::vector<TargetFailure>& failures)
{
    const std::size_t per_name = (request.ipv4 ? 1 : 0) + (request.ipv6 ? 1 : 0);
    std::vector<std::string> hosts;
    for (std::size_t d = 0; d < request.domains.size(); ++d) {
        const auto& mx = mx_answers[d];
        if (mx.status == dns::Status::NoData) {
            hosts.push_back(plain_name(request.domains[d]));
        } else if (mx.status != dns::Status::Ok) {
            failures.push_back({failure_state({&mx}), dns::to_error(mx).message});
        }
        for (const auto& exchange : mx.mx) {
            if (!exchange.exchange.empty()) {
                hosts.push_back(plain_name(exchange.exchange));
            }
        }
    }
    std::vector<dns::Query> queries;
    for (const auto& host : hosts) {
        add_address_queries(queries, host, request);
    }
    const auto answers =
        queries.empty() ? std::vector<dns::Response>() : resolver.resolve(queries, deadline);
    for (std::size_t h = 0; h < hosts.size(); ++h) {
        take_addresses(answers, h * per_name, per_name, hosts[h], targets, failures);
    }
}

} // namespace

ResolvedTargets resolve_targets(dns::Resolver& resolver, const TargetRequest& request,
                                const Deadline& deadline)
{
    TargetSet targets;
    std::vector<TargetFailure> failures;
    std::vector<dns::Query> queries;
    std::vector<std::string> names;
    for (const auto& host : request.hosts) {
        if (is_address(host)) {
            targets.add({host, ListKind::Ip, {}});
        } else {
            names.push_back(plain_name(host));
            add_address_queries(queries, names.back(), request);
        }
    }
    const std::size_t per_name = (request.ipv4 ? 1 : 0) + (request.ipv6 ? 1 : 0);
    for (const auto& domain : request.domains) {
        targets.add({plain_name(domain), ListKind::Domain, {}});
        queries.push_back({plain_name(domain), dns::Type::MX});
    }
    const auto first =
        queries.empty() ? std::vector<dns::Response>() : resolver.resolve(queries, deadline);
    for (std::size_t n = 0; n < names.size(); ++n) {
        take_addresses(first, n * per_name, per_name, names[n], targets, failures);
    }

    const std::vector<dns::Response> mx(first.begin() + static_cast<long>(names.size() * per_name),
                                        first.end());
    resolve_exchanges(resolver, request, mx, deadline, targets, failures);
    return {targets.take(), std::move(failures)};
}

} // namespace mailmon::dnsbl
