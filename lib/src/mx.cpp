// SPDX-License-Identifier: GPL-3.0-or-later
// The pure half of check_mx: reading an MX answer and judging a finished survey. No network
// here, so every rule is unit-tested from tables.
#include "mailmon/mx.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <map>
#include <set>

namespace mailmon {

namespace {

std::string seconds_text(double seconds)
{
    return format_number(seconds).value_or("?") + "s";
}

struct Problem {
    State state = State::Ok; // what it adds to the report
    State raw = State::Ok; // its own weight, to break ties between equal report states
    std::string text;
};

// Collects the long output and the problems while the verdict is built.
struct Verdict {
    Report report{"MX"};
    std::vector<Problem> problems;

    void problem(State state, State raw, std::string text)
    {
        report.raise(state);
        problems.push_back(Problem{state, raw, std::move(text)});
    }

    // The first of the worst problems, with a count of the others.
    std::string worst_problem() const
    {
        const Problem* chosen = nullptr;
        for (const auto& candidate : problems) {
            const auto key = [](const Problem& p) {
                return std::pair(severity(p.state), severity(p.raw));
            };
            if (candidate.state != State::Ok &&
                (chosen == nullptr || key(candidate) > key(*chosen))) {
                chosen = &candidate;
            }
        }
        if (chosen == nullptr) {
            return "";
        }
        const auto others = std::count_if(problems.begin(), problems.end(),
                                          [](const Problem& p) { return p.state != State::Ok; }) -
                            1;
        return chosen->text + (others > 0 ? " (+" + std::to_string(others) + " more)" : "");
    }
};

std::string line_prefix(State state)
{
    return std::string("[") + to_string(state) + "] ";
}

const char* fault_text(TargetFault fault)
{
    switch (fault) {
    case TargetFault::IpLiteral:
        return "exchange is an IP literal, not a host name (RFC 5321 5.1)";
    case TargetFault::NxDomain:
        return "exchange does not exist (NXDOMAIN)";
    case TargetFault::NoAddress:
        return "exchange has no address record";
    case TargetFault::ServFail:
        return "address lookup failed (SERVFAIL)";
    case TargetFault::ResolverSilent:
        return "resolver did not answer the address lookup";
    case TargetFault::None:
        break;
    }
    return "";
}

const char* outcome_text(ProbeOutcome outcome)
{
    switch (outcome) {
    case ProbeOutcome::Up:
        return "up";
    case ProbeOutcome::Refusing:
        return "refusing";
    case ProbeOutcome::Down:
        return "down";
    case ProbeOutcome::TlsFailed:
        return "STARTTLS failed";
    case ProbeOutcome::NotProbed:
        break;
    }
    return "not probed";
}

const char* ptr_text(PtrOutcome ptr)
{
    switch (ptr) {
    case PtrOutcome::Confirmed:
        return "PTR confirmed";
    case PtrOutcome::Missing:
        return "no PTR record";
    case PtrOutcome::Mismatch:
        return "PTR does not resolve back";
    case PtrOutcome::Unresolved:
        return "PTR lookup failed";
    case PtrOutcome::NotChecked:
        break;
    }
    return "";
}

std::string timings(const AddressResult& address)
{
    std::string text;
    const std::pair<const char*, const std::optional<double>*> parts[] = {
        {"connect", &address.connect_seconds},
        {"banner", &address.banner_seconds},
        {"total", &address.total_seconds}};
    for (const auto& [name, value] : parts) {
        if (value->has_value()) {
            text += std::string(", ") + name + " " + seconds_text(**value);
        }
    }
    return text;
}

// Why one address is not up, for the summary: "127.0.0.1 refusing: 554 'go away'".
std::string address_problem(const AddressResult& address)
{
    return address.address + " " + outcome_text(address.outcome) +
           (address.reason.empty() ? "" : ": " + address.reason);
}

State ptr_state(PtrOutcome ptr)
{
    return ptr == PtrOutcome::Missing || ptr == PtrOutcome::Mismatch ? State::Warning : State::Ok;
}

// One long-output line per address, and the PTR problems it adds.
// The lesser of two states: what a sub-result may add to the report when its parent is capped.
State at_most(State state, State cap)
{
    return severity(state) <= severity(cap) ? state : cap;
}

// The address line shows its own state; what it adds to the report is capped by its MX's.
void judge_address(Verdict& verdict, const MxTarget& target, const AddressResult& address,
                   State cap)
{
    const State probe = address.outcome == ProbeOutcome::Up ? State::Ok : State::Critical;
    const State state = worst(probe, ptr_state(address.ptr));
    std::string text =
        "    " + line_prefix(state) + address.address + ": " + outcome_text(address.outcome);
    if (!address.reason.empty()) {
        text += ": " + address.reason;
    }
    text += timings(address);
    if (address.ptr != PtrOutcome::NotChecked) {
        text += ", " + std::string(ptr_text(address.ptr)) +
                (address.ptr_names.empty() ? "" : " (" + address.ptr_names + ")");
    }
    verdict.report.add_line(at_most(state, worst(cap, ptr_state(address.ptr))), std::move(text));
    if (ptr_state(address.ptr) != State::Ok) {
        verdict.problem(State::Warning, State::Warning,
                        target.name + " " + address.address + ": " + ptr_text(address.ptr));
    }
}

std::string target_label(const MxTarget& target)
{
    return target.name + (target.implicit ? " (implicit MX)"
                                          : " (pref " + std::to_string(target.preference) + ")");
}

// Why an MX is not OK, for the summary.
std::string target_problem(const MxTarget& target)
{
    if (target.fault != TargetFault::None) {
        return target.name + ": " + fault_text(target.fault);
    }
    const bool accepts = target_accepts(target);
    for (const auto& address : target.addresses) {
        if (address.outcome != ProbeOutcome::Up && address.outcome != ProbeOutcome::NotProbed) {
            return target.name + (accepts ? " partly down: " : ": ") + address_problem(address);
        }
    }
    if (!target.canonical.empty()) {
        return target.name + " is an alias (CNAME) of " + target.canonical + " (RFC 2181 10.3)";
    }
    return target.name + (target.duplicate ? " is listed twice" : ": not probed");
}

// The first MX (in preference order) using each address.
using AddressOwners = std::map<std::string, std::string>;

// ", shares 192.0.2.1 with mx1.example.org": two names on one host are no redundancy.
std::string shared_addresses(const MxTarget& target, const AddressOwners& owners)
{
    std::string text;
    for (const auto& address : target.addresses) {
        const auto owner = owners.find(address.address);
        if (owner != owners.end() && owner->second != target.name) {
            text += ", shares " + address.address + " with " + owner->second;
        }
    }
    return text;
}

std::string target_details(const MxTarget& target)
{
    std::string text;
    if (target.fault != TargetFault::None) {
        text += std::string(": ") + fault_text(target.fault) +
                (target.fault_detail.empty() ? "" : " (" + target.fault_detail + ")");
        return text;
    }
    const auto up = std::count_if(target.addresses.begin(), target.addresses.end(),
                                  [](const auto& a) { return a.outcome == ProbeOutcome::Up; });
    text += std::string(": ") + (up > 0 ? "accepts" : "does not accept") + ", " +
            std::to_string(up) + "/" + std::to_string(target.addresses.size()) + " addresses up";
    if (!target.canonical.empty()) {
        text += ", alias (CNAME) of " + target.canonical;
    }
    if (target.duplicate) {
        text += ", duplicate MX record";
    }
    return text;
}

// The long output of one MX, capped at WARNING when another MX accepts mail.
void judge_target(Verdict& verdict, const MxTarget& target, bool any_accepts,
                  const AddressOwners& owners)
{
    const State raw = target_state(target);
    const State capped = any_accepts && raw == State::Critical ? State::Warning : raw;
    verdict.report.add_line(capped, line_prefix(raw) + target_label(target) +
                                        target_details(target) + shared_addresses(target, owners));
    for (const auto& address : target.addresses) {
        judge_address(verdict, target, address, capped);
    }
    if (raw != State::Ok) {
        verdict.problem(capped, raw, target_problem(target));
    }
}

std::string dnssec_text(const MxSurvey& survey)
{
    const bool no_answer = survey.outcome == DomainOutcome::ResolverSilent ||
                           survey.outcome == DomainOutcome::ResolverFailed ||
                           survey.outcome == DomainOutcome::ServFail;
    if (no_answer) {
        return "DNSSEC status unknown (no answer)";
    }
    return survey.authenticated ? "DNSSEC validated (AD)" : "DNSSEC not validated (no AD)";
}

// The line about the DNS itself, and the DNSSEC policy.
void judge_dns(Verdict& verdict, const MxSurvey& survey, const MxPolicy& policy)
{
    const bool insecure = policy.require_dnssec && !survey.authenticated;
    const State state = insecure ? State::Warning : State::Ok;
    verdict.report.add_line(state, line_prefix(state) + "DNS " + survey.domain + ": " +
                                       dnssec_text(survey) + ", lookups " +
                                       seconds_text(survey.dns_seconds));
    if (insecure) {
        verdict.problem(State::Warning, State::Warning, "MX answer is not DNSSEC-validated");
    }
}

// The verdict for a domain whose MX lookup ends the check before any probe.
std::optional<Problem> domain_failure(const MxSurvey& survey, const MxPolicy& policy)
{
    const std::string detail = survey.detail.empty() ? "" : " (" + survey.detail + ")";
    switch (survey.outcome) {
    case DomainOutcome::NullMx:
        if (policy.require_mail) {
            return Problem{State::Critical, State::Critical,
                           "domain accepts no mail (null MX), but it must receive mail"};
        }
        return Problem{State::Ok, State::Ok, "domain accepts no mail (null MX)"};
    case DomainOutcome::NxDomain:
        return Problem{State::Critical, State::Critical, "domain does not exist (NXDOMAIN)"};
    case DomainOutcome::NoMailHost:
        return Problem{State::Critical, State::Critical,
                       "neither MX nor A/AAAA record: mail cannot be delivered"};
    case DomainOutcome::ServFail:
        return Problem{State::Critical, State::Critical,
                       "MX lookup failed with SERVFAIL" + detail +
                           ": validating senders cannot deliver"};
    case DomainOutcome::ResolverSilent:
        return Problem{State::Unknown, State::Unknown,
                       "resolver did not answer the MX lookup" + detail};
    case DomainOutcome::ResolverFailed:
        return Problem{State::Unknown, State::Unknown, "resolver failed the MX lookup" + detail};
    case DomainOutcome::Mx:
    case DomainOutcome::ImplicitMx:
        break;
    }
    return std::nullopt;
}

void judge_expectations(Verdict& verdict, const MxSurvey& survey, const MxPolicy& policy)
{
    const auto records = std::count_if(survey.targets.begin(), survey.targets.end(),
                                       [](const MxTarget& t) { return !t.implicit; });
    if (records < static_cast<long>(policy.min_mx)) {
        verdict.problem(State::Warning, State::Warning,
                        std::to_string(records) + " MX record(s), fewer than the " +
                            std::to_string(policy.min_mx) + " required");
    }
    if (policy.expect.empty()) {
        return;
    }
    std::set<std::string> wanted;
    std::set<std::string> seen;
    for (const auto& name : policy.expect) {
        wanted.insert(normalise_name(name));
    }
    for (const auto& target : survey.targets) {
        if (!target.implicit) {
            seen.insert(target.name);
        }
    }
    std::string difference;
    for (const auto& name : wanted) {
        difference += seen.count(name) == 0 ? ", missing " + name : "";
    }
    for (const auto& name : seen) {
        difference += wanted.count(name) == 0 ? ", unexpected " + name : "";
    }
    if (!difference.empty()) {
        const State state = policy.expect_critical ? State::Critical : State::Warning;
        verdict.problem(state, state, "MX set differs from --expect: " + difference.substr(2));
    }
}

void judge_banner_time(Verdict& verdict, const MxSurvey& survey, const MxPolicy& policy)
{
    const auto slowest = slowest_banner(survey);
    if (!slowest) {
        return;
    }
    const State state = policy.banner.evaluate(*slowest);
    if (state != State::Ok) {
        verdict.problem(state, state, "slowest banner took " + seconds_text(*slowest));
    }
}

void add_metrics(Report& report, const MxSurvey& survey, const MxPolicy& policy)
{
    const auto up = std::count_if(survey.targets.begin(), survey.targets.end(), target_accepts);
    report.add_metric(
        Metric{"mx_count", static_cast<double>(survey.targets.size()), Uom::None, {}, {}, 0.0, {}});
    report.add_metric(Metric{"mx_up",
                             static_cast<double>(up),
                             Uom::None,
                             {},
                             {},
                             0.0,
                             static_cast<double>(survey.targets.size())});
    report.add_metric(Metric{"dns_time", survey.dns_seconds, Uom::Seconds, {}, {}, 0.0, {}});
    std::set<std::string> labelled;
    for (const auto& target : survey.targets) {
        std::optional<double> slowest;
        for (const auto& address : target.addresses) {
            if (address.banner_seconds) {
                slowest = std::max(slowest.value_or(0.0), *address.banner_seconds);
            }
        }
        if (slowest && labelled.insert(target.name).second) {
            report.add_metric(Metric{"banner_" + target.name,
                                     *slowest,
                                     Uom::Seconds,
                                     policy.banner.warning,
                                     policy.banner.critical,
                                     0.0,
                                     {}});
        }
    }
}

std::string summary_of(const MxSurvey& survey, const Verdict& verdict)
{
    const auto up = std::count_if(survey.targets.begin(), survey.targets.end(), target_accepts);
    std::string summary = survey.domain + ": ";
    if (survey.outcome == DomainOutcome::Mx || survey.outcome == DomainOutcome::ImplicitMx) {
        summary += std::to_string(up) + "/" + std::to_string(survey.targets.size()) + " MX up";
    }
    const std::string problem = verdict.worst_problem();
    if (!problem.empty()) {
        summary += (summary.back() == ' ' ? "" : "; ") + problem;
    }
    return summary;
}

} // namespace

std::string normalise_name(std::string_view name)
{
    std::string out(name);
    while (!out.empty() && out.back() == '.') {
        out.pop_back();
    }
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool is_ip_literal(std::string_view text)
{
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
        text = text.substr(1, text.size() - 2);
    }
    if (text.size() > 5 && (text.substr(0, 5) == "IPv6:" || text.substr(0, 5) == "ipv6:")) {
        text = text.substr(5);
    }
    while (!text.empty() && text.back() == '.') {
        text.remove_suffix(1);
    }
    if (text.empty() || text.size() > 64) {
        return false;
    }
    const std::string copy(text);
    unsigned char buffer[16];
    return inet_pton(AF_INET, copy.c_str(), buffer) == 1 ||
           inet_pton(AF_INET6, copy.c_str(), buffer) == 1;
}

MxAnswer analyse_mx_records(const std::vector<MxRecord>& records)
{
    MxAnswer answer;
    for (const auto& record : records) {
        // LIMIT: a '|' or control byte in an exchange name is replaced before the address
        // lookup — such an exchange is reported under a name that does not resolve.
        const std::string name = sanitize(normalise_name(record.exchange), 1024);
        if (name.empty()) {
            // RFC 7505 2: preference 0 is prescribed; a root exchange with another
            // preference still cannot receive mail, so it is treated the same way.
            answer.null_mx = true;
            continue;
        }
        MxTarget target;
        target.preference = record.preference;
        target.name = name;
        if (is_ip_literal(name)) {
            target.fault = TargetFault::IpLiteral;
        }
        answer.targets.push_back(std::move(target));
    }
    std::sort(answer.targets.begin(), answer.targets.end(), [](const auto& a, const auto& b) {
        return std::tie(a.preference, a.name) < std::tie(b.preference, b.name);
    });
    std::set<std::string> seen;
    for (auto& target : answer.targets) {
        target.duplicate = !seen.insert(target.name).second;
    }
    return answer;
}

bool target_accepts(const MxTarget& target)
{
    return std::any_of(target.addresses.begin(), target.addresses.end(),
                       [](const auto& a) { return a.outcome == ProbeOutcome::Up; });
}

State target_state(const MxTarget& target)
{
    if (target.fault == TargetFault::ResolverSilent) {
        return State::Unknown;
    }
    if (target.fault != TargetFault::None || !target_accepts(target)) {
        return State::Critical;
    }
    const bool all_up = std::all_of(target.addresses.begin(), target.addresses.end(),
                                    [](const auto& a) { return a.outcome == ProbeOutcome::Up; });
    const bool odd = !target.canonical.empty() || target.duplicate;
    return all_up && !odd ? State::Ok : State::Warning;
}

std::optional<double> slowest_banner(const MxSurvey& survey)
{
    std::optional<double> slowest;
    for (const auto& target : survey.targets) {
        for (const auto& address : target.addresses) {
            if (address.banner_seconds) {
                slowest = std::max(slowest.value_or(0.0), *address.banner_seconds);
            }
        }
    }
    return slowest;
}

Report judge_mx(const MxSurvey& survey, const MxPolicy& policy)
{
    Verdict verdict;
    judge_dns(verdict, survey, policy);

    if (const auto failure = domain_failure(survey, policy)) {
        verdict.problem(failure->state, failure->raw, failure->text);
        if (failure->state == State::Ok) {
            verdict.report.set_summary(survey.domain + ": " + failure->text);
        } else {
            verdict.report.set_summary(summary_of(survey, verdict));
        }
        add_metrics(verdict.report, survey, policy);
        return std::move(verdict.report);
    }

    if (survey.outcome == DomainOutcome::ImplicitMx) {
        verdict.problem(State::Warning, State::Warning,
                        "no MX record; mail falls back to the domain's address");
    }
    if (survey.null_mx_mixed) {
        verdict.problem(State::Warning, State::Warning,
                        "null MX beside other MX records (RFC 7505 3)");
    }
    const bool any_accepts =
        std::any_of(survey.targets.begin(), survey.targets.end(), target_accepts);
    AddressOwners owners;
    for (const auto& target : survey.targets) {
        for (const auto& address : target.addresses) {
            owners.emplace(address.address, target.name);
        }
    }
    for (const auto& target : survey.targets) {
        judge_target(verdict, target, any_accepts, owners);
    }
    if (survey.targets.empty()) {
        verdict.problem(State::Critical, State::Critical, "no mail host to deliver to");
    }
    judge_expectations(verdict, survey, policy);
    judge_banner_time(verdict, survey, policy);

    verdict.report.set_summary(summary_of(survey, verdict));
    add_metrics(verdict.report, survey, policy);
    return std::move(verdict.report);
}

} // namespace mailmon
