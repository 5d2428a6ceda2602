// SPDX-License-Identifier: GPL-3.0-or-later
// One round of DNSBL queries: every target on every zone that applies plus the zones' RFC 5782
// test entries, deduplicated; then the answers read back into zone health and listings.
#include "mailmon/dnsbl.hpp"

#include <algorithm>
#include <unordered_map>

namespace mailmon::dnsbl {

namespace {

enum class Family { V4, V6, Name };

Family family_of(const Target& target)
{
    if (target.kind == ListKind::Domain) {
        return Family::Name;
    }
    return target.subject.find(':') == std::string::npos ? Family::V4 : Family::V6;
}

bool applies(const Zone& zone, const Target& target)
{
    if (zone.kind != target.kind) {
        return false;
    }
    switch (family_of(target)) {
    case Family::V4:
        return zone.ipv4;
    case Family::V6:
        return zone.ipv6;
    case Family::Name:
        return true;
    }
    return false;
}

std::optional<std::string> query_name(const Zone& zone, std::string_view subject)
{
    if (zone.kind == ListKind::Domain) {
        return domain_query_name(subject, zone.name);
    }
    return ip_query_name(subject, zone.name);
}

class QueryList {
public:
    explicit QueryList(std::vector<dns::Query>& queries) : queries_(queries) {}

    std::size_t add(const std::string& name)
    {
        const auto [it, inserted] = index_.try_emplace(name, queries_.size());
        if (inserted) {
            queries_.push_back({name, dns::Type::A});
        }
        return it->second;
    }

private:
    std::vector<dns::Query>& queries_;
    std::unordered_map<std::string, std::size_t> index_;
};

// The test entries of each family: RFC 5782 section 5 (IPv6 in its mapped form).
Plan::Probe make_probe(QueryList& list, const Zone& zone, Family family)
{
    Plan::Probe probe;
    if (family == Family::Name) {
        probe.listed_name = zone.listed_probe;
        probe.unlisted_name = zone.unlisted_probe;
    } else {
        probe.listed_name = family == Family::V4 ? "127.0.0.2" : "::ffff:7f00:2";
        probe.unlisted_name = family == Family::V4 ? "127.0.0.1" : "::ffff:7f00:1";
    }
    probe.listed = list.add(query_name(zone, probe.listed_name).value_or(""));
    probe.unlisted = list.add(query_name(zone, probe.unlisted_name).value_or(""));
    return probe;
}

int rank(Health health)
{
    switch (health) {
    case Health::Usable:
        return 0;
    case Health::Broken:
        return 1;
    case Health::Unanswered:
        return 2;
    case Health::Error:
        return 3;
    }
    return 0;
}

void worsen(ZoneHealth& current, ZoneHealth candidate)
{
    if (rank(candidate.health) > rank(current.health)) {
        current = std::move(candidate);
    }
}

ZoneHealth health_of(const Classification& answer)
{
    if (answer.verdict == Verdict::ZoneError) {
        return {Health::Error, answer.problem, answer.hint};
    }
    if (answer.verdict == Verdict::Unanswered) {
        return {Health::Unanswered, answer.problem, {}};
    }
    return {};
}

} // namespace

Plan plan_queries(const std::vector<Target>& targets, const std::vector<Zone>& zones)
{
    Plan plan;
    QueryList list(plan.queries);
    plan.cells.assign(targets.size(), std::vector<std::optional<std::size_t>>(zones.size()));
    plan.probes.resize(zones.size());
    for (std::size_t z = 0; z < zones.size(); ++z) {
        bool needed[3] = {false, false, false};
        for (std::size_t t = 0; t < targets.size(); ++t) {
            const auto name = query_name(zones[z], targets[t].subject);
            if (applies(zones[z], targets[t]) && name) {
                plan.cells[t][z] = list.add(*name);
                needed[static_cast<int>(family_of(targets[t]))] = true;
            }
        }
        for (const auto family : {Family::V4, Family::V6, Family::Name}) {
            if (needed[static_cast<int>(family)] && zones[z].self_test) {
                plan.probes[z].push_back(make_probe(list, zones[z], family));
            }
        }
    }
    return plan;
}

Assessment assess(const Plan& plan, const std::vector<Target>& targets,
                  const std::vector<Zone>& zones, const std::vector<dns::Response>& responses)
{
    const auto answer = [&](const Zone& zone, std::size_t index) {
        const auto& response = responses.at(index);
        return classify(zone, response.status, response.addresses);
    };
    Assessment result;
    result.used.assign(zones.size(), false);
    result.health.resize(zones.size());
    for (std::size_t z = 0; z < zones.size(); ++z) {
        for (const auto& probe : plan.probes[z]) {
            result.used[z] = true;
            worsen(result.health[z],
                   judge_self_test(answer(zones[z], probe.listed), answer(zones[z], probe.unlisted),
                                   probe.listed_name, probe.unlisted_name));
        }
        for (std::size_t t = 0; t < targets.size(); ++t) {
            if (const auto index = plan.cells[t][z]) {
                result.used[z] = true;
                worsen(result.health[z], health_of(answer(zones[z], *index)));
            }
        }
    }
    for (std::size_t t = 0; t < targets.size(); ++t) {
        TargetResult target{targets[t], 0, 0, {}};
        for (std::size_t z = 0; z < zones.size(); ++z) {
            const auto index = plan.cells[t][z];
            target.applicable += index ? 1 : 0;
            if (!index || result.health[z].health != Health::Usable) {
                continue;
            }
            auto classification = answer(zones[z], *index);
            ++target.checked;
            if (classification.verdict == Verdict::Listed) {
                target.listings.push_back(
                    {z, std::move(classification.codes), plan.queries[*index].name, {}});
            }
        }
        result.targets.push_back(std::move(target));
    }
    return result;
}

std::vector<dns::Query> reason_queries(const Assessment& assessment, const std::vector<Zone>& zones)
{
    std::vector<dns::Query> queries;
    for (const auto& target : assessment.targets) {
        for (const auto& listing : target.listings) {
            if (zones.at(listing.zone).txt) {
                queries.push_back({listing.query, dns::Type::TXT});
            }
        }
    }
    return queries;
}

void store_reasons(Assessment& assessment, const std::vector<dns::Response>& responses)
{
    std::unordered_map<std::string, std::string> reasons;
    for (const auto& response : responses) {
        std::string text;
        for (const auto& record : response.texts) {
            text += (text.empty() ? "" : "; ") + record;
        }
        if (response.status == dns::Status::Ok && !text.empty()) {
            reasons[response.query.name] = std::move(text);
        }
    }
    for (auto& target : assessment.targets) {
        for (auto& listing : target.listings) {
            if (const auto found = reasons.find(listing.query); found != reasons.end()) {
                listing.reason = found->second;
            }
        }
    }
}

} // namespace mailmon::dnsbl
