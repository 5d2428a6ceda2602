// SPDX-License-Identifier: GPL-3.0-or-later
// check_smtp_tls's judgement: port plans, the host's DNS answers, the verdict of every
// endpoint, the report and the concurrent probes.
#include "mailmon/smtp_tls.hpp"

#include "mailmon/net.hpp"

#include <algorithm>
#include <charconv>
#include <thread>

namespace mailmon {

const char* mode_word(SmtpMode mode)
{
    switch (mode) {
    case SmtpMode::Plain:
        return "plain";
    case SmtpMode::StartTls:
        return "starttls";
    case SmtpMode::ImplicitTls:
        return "tls";
    }
    return "starttls";
}

SmtpMode default_mode(std::uint16_t port)
{
    return port == 465 ? SmtpMode::ImplicitTls : SmtpMode::StartTls;
}

bool is_submission_port(std::uint16_t port)
{
    return port == 465 || port == 587;
}

namespace {

Result<std::uint16_t> parse_port(std::string_view text)
{
    unsigned value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) {
        return make_error(ErrorKind::Usage,
                          "invalid port '" + std::string(text) + "': use a number from 1 to 65535");
    }
    return static_cast<std::uint16_t>(value);
}

Result<SmtpMode> parse_mode_word(std::string_view word)
{
    for (const SmtpMode mode : {SmtpMode::StartTls, SmtpMode::ImplicitTls, SmtpMode::Plain}) {
        if (word == mode_word(mode)) {
            return mode;
        }
    }
    return make_error(ErrorKind::Usage,
                      "invalid mode '" + std::string(word) + "': use starttls, tls or plain");
}

// Applies one "PORT:MODE" to the plans.
Status apply_mode(std::vector<PortPlan>& plans, std::string_view text)
{
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
        return make_error(ErrorKind::Usage,
                          "invalid --mode '" + std::string(text) + "': use PORT:MODE");
    }
    auto port = parse_port(text.substr(0, colon));
    if (!port) {
        return port.error();
    }
    auto mode = parse_mode_word(text.substr(colon + 1));
    if (!mode) {
        return mode.error();
    }
    const auto plan = std::find_if(plans.begin(), plans.end(),
                                   [&](const PortPlan& entry) { return entry.port == *port; });
    if (plan == plans.end()) {
        return make_error(ErrorKind::Usage, "invalid --mode '" + std::string(text) + "': port " +
                                                std::to_string(*port) +
                                                " is not checked (add it to -p)");
    }
    plan->mode = *mode;
    return success();
}

} // namespace

Result<std::vector<PortPlan>> plan_ports(std::string_view ports,
                                         const std::vector<std::string>& modes)
{
    std::vector<PortPlan> plans;
    // Every piece between commas must be a port: "25," and "" are mistakes, not shorthands.
    for (std::size_t start = 0;;) {
        const std::size_t comma = ports.find(',', start);
        auto port = parse_port(ports.substr(start, comma - start));
        if (!port) {
            return port.error();
        }
        if (std::none_of(plans.begin(), plans.end(),
                         [&](const PortPlan& plan) { return plan.port == *port; })) {
            plans.push_back(PortPlan{*port, default_mode(*port)});
        }
        if (comma == std::string_view::npos) {
            break;
        }
        start = comma + 1;
    }
    for (const std::string& mode : modes) {
        auto applied = apply_mode(plans, mode);
        if (!applied) {
            return applied.error();
        }
    }
    return plans;
}

Result<VerifyPolicy> parse_verify_policy(std::string_view word)
{
    if (word == "strict") {
        return VerifyPolicy::Strict;
    }
    if (word == "warn") {
        return VerifyPolicy::Warn;
    }
    if (word == "none") {
        return VerifyPolicy::None;
    }
    return make_error(ErrorKind::Usage,
                      "invalid --verify '" + std::string(word) + "': use strict, warn or none");
}

const char* to_string(Timing timing)
{
    switch (timing) {
    case Timing::Connect:
        return "connect";
    case Timing::Banner:
        return "banner";
    case Timing::Ehlo:
        return "ehlo";
    case Timing::StartTls:
        return "starttls";
    case Timing::Handshake:
        return "handshake";
    case Timing::Total:
        return "total";
    }
    return "total";
}

std::optional<double> timing_seconds(const ProbeResult& probe, Timing timing)
{
    switch (timing) {
    case Timing::Connect:
        return probe.seconds(Phase::Connect);
    case Timing::Banner:
        return probe.seconds(Phase::Banner);
    case Timing::Ehlo:
        return probe.seconds(Phase::Ehlo);
    case Timing::StartTls:
        return probe.seconds(Phase::StartTls);
    case Timing::Handshake:
        return probe.seconds(Phase::Handshake);
    case Timing::Total:
        break;
    }
    if (probe.timings.empty()) {
        return std::nullopt;
    }
    double total = 0;
    for (const PhaseTime& timing_of_phase : probe.timings) {
        total += timing_of_phase.phase == Phase::Quit ? 0.0 : timing_of_phase.seconds;
    }
    return total;
}

namespace {

// No address at all: the worst answer decides, a silent resolver only when nothing answered.
void explain_no_address(std::string_view host, const std::vector<dns::Response>& responses,
                        HostLookup& lookup)
{
    lookup.failure_state = State::Critical;
    std::string causes;
    bool answered = false;
    for (const dns::Response& response : responses) {
        answered = answered || !dns::is_resolver_silent(response.status);
        causes += (causes.empty() ? "" : ", ") + std::string(dns::to_string(response.query.type)) +
                  " " + dns::to_string(response.status);
    }
    if (!answered) {
        lookup.failure_state = State::Unknown;
        causes += " (our resolver did not answer)";
    }
    lookup.failure = sanitize(std::string(host) + ": no address (" + causes + ")", 300);
}

} // namespace

HostLookup read_host_responses(std::string_view host, const std::vector<dns::Response>& addresses,
                               const std::vector<dns::Response>& tlsa)
{
    HostLookup lookup;
    for (const dns::Response& response : addresses) {
        lookup.addresses.insert(lookup.addresses.end(), response.addresses.begin(),
                                response.addresses.end());
    }
    if (lookup.addresses.empty()) {
        explain_no_address(host, addresses, lookup);
    }
    for (const dns::Response& response : tlsa) {
        lookup.dane.push_back(read_tlsa_response(response));
    }
    return lookup;
}

HostLookup look_up_host(dns::Resolver& resolver, std::string_view host, bool ipv4, bool ipv6,
                        const std::vector<PortPlan>& plans, bool dane, const Deadline& deadline)
{
    std::vector<dns::Query> queries;
    if (ipv4) {
        queries.push_back({std::string(host), dns::Type::A});
    }
    if (ipv6) {
        queries.push_back({std::string(host), dns::Type::AAAA});
    }
    const std::size_t address_queries = queries.size();
    for (const PortPlan& plan : plans) {
        if (dane) {
            queries.push_back({tlsa_name(host, plan.port), dns::Type::TLSA});
        }
    }
    std::vector<dns::Response> responses = resolver.resolve(queries, deadline);
    const auto split = responses.begin() + static_cast<std::ptrdiff_t>(address_queries);
    return read_host_responses(host, std::vector<dns::Response>(responses.begin(), split),
                               std::vector<dns::Response>(split, responses.end()));
}

namespace {

// The cause alone: library messages name the endpoint, which the line already shows.
std::string cause_of(const ProbeResult& probe, const Error& error)
{
    const std::string marker = probe.endpoint + ": ";
    const auto at = error.message.find(marker);
    return sanitize(at == std::string::npos ? error.message
                                            : error.message.substr(at + marker.size()));
}

bool mentions(const Error& error, std::string_view words)
{
    return error.message.find(words) != std::string::npos;
}

std::string reply_words(const Reply& reply)
{
    return std::to_string(reply.code) + " " + mailmon::quoted(reply.text(), 120);
}

// The phase that failed in the operator's words. The library's messages are matched for the
// two mix-ups it detects (tls.cpp and smtp_probe.cpp); the integration tests pin the wording.
std::string banner_problem(const Endpoint& endpoint, const Error& error)
{
    const ProbeResult& probe = endpoint.probe;
    if (probe.banner && probe.banner->code != 220) {
        return "greeting refused: " + reply_words(*probe.banner);
    }
    // LIMIT: an implicit-TLS server on a STARTTLS port usually waits for our ClientHello in
    // silence — that is reported as "no banner", not as TLS on the wrong port.
    if (error.kind == ErrorKind::Timeout) {
        return "no banner: " + cause_of(probe, error);
    }
    if (mentions(error, "speaks TLS")) {
        return "TLS on a " + std::string(mode_word(endpoint.plan.mode)) +
               " port: the server sent TLS before any banner (use --mode " +
               std::to_string(endpoint.plan.port) + ":tls if it is an implicit-TLS port)";
    }
    return "bad banner: " + cause_of(probe, error);
}

std::string handshake_problem(const Endpoint& endpoint, const Error& error)
{
    const ProbeResult& probe = endpoint.probe;
    if (endpoint.plan.mode == SmtpMode::ImplicitTls && error.kind == ErrorKind::Protocol &&
        mentions(error, "plain text")) {
        // The library says "the server answered in plain text: '220 ...'".
        const std::string cause = cause_of(probe, error);
        const std::size_t quote = cause.find('\'');
        return "plain text on an implicit-TLS port: the server sent " +
               (quote == std::string::npos ? cause : cause.substr(quote)) + " (use --mode " +
               std::to_string(endpoint.plan.port) + ":starttls if it is a STARTTLS port)";
    }
    if (error.kind == ErrorKind::Timeout) {
        return "no TLS handshake: " + cause_of(probe, error);
    }
    return "TLS handshake failed: " + cause_of(probe, error);
}

std::string failure_problem(const Endpoint& endpoint)
{
    const ProbeFailure& failure = *endpoint.probe.failure;
    const ProbeResult& probe = endpoint.probe;
    switch (failure.phase) {
    case Phase::Connect:
        return "cannot connect: " + cause_of(probe, failure.error);
    case Phase::Banner:
        return banner_problem(endpoint, failure.error);
    case Phase::Ehlo:
        return "EHLO failed: " + cause_of(probe, failure.error);
    case Phase::StartTls:
        if (probe.starttls_reply && probe.starttls_reply->code != 220) {
            return "STARTTLS refused: " + reply_words(*probe.starttls_reply);
        }
        return (mentions(failure.error, "not offered") ? "" : "STARTTLS failed: ") +
               cause_of(probe, failure.error);
    case Phase::Handshake:
        return handshake_problem(endpoint, failure.error);
    case Phase::EhloAfterTls:
        return "EHLO after TLS failed: " + cause_of(probe, failure.error);
    case Phase::Quit:
        break;
    }
    return "QUIT failed: " + cause_of(probe, failure.error);
}

State failure_state(const Error& error)
{
    switch (error.kind) {
    case ErrorKind::Usage:
    case ErrorKind::Config:
    case ErrorKind::Internal:
        return State::Unknown;
    default:
        return State::Critical;
    }
}

int version_rank(std::string_view version)
{
    for (const TlsVersion known :
         {TlsVersion::Tls10, TlsVersion::Tls11, TlsVersion::Tls12, TlsVersion::Tls13}) {
        if (version == to_string(known)) {
            return static_cast<int>(known);
        }
    }
    return -1; // SSLv3 or unknown: below everything
}

// Collects problems with their states; the verdict lists the worst first.
class Findings {
public:
    void add(State state, std::string problem) { entries_.push_back({state, std::move(problem)}); }

    EndpointVerdict verdict() const
    {
        EndpointVerdict verdict;
        auto sorted = entries_;
        std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
            return worst(a.first, b.first) == a.first && a.first != b.first;
        });
        for (const auto& [state, problem] : sorted) {
            verdict.state = worst(verdict.state, state);
            verdict.problems.push_back(problem);
        }
        return verdict;
    }

private:
    std::vector<std::pair<State, std::string>> entries_;
};

VerifyPolicy effective_verify(const Endpoint& endpoint, const SmtpTlsPolicy& policy)
{
    if (policy.verify) {
        return *policy.verify;
    }
    return is_submission_port(endpoint.plan.port) ? VerifyPolicy::Strict : VerifyPolicy::Warn;
}

void judge_dane_lookup(const Endpoint& endpoint, const SmtpTlsPolicy& policy, Findings& found)
{
    const DaneLookup& dane = endpoint.dane;
    switch (dane.state) {
    case DaneState::NotLookedUp:
    case DaneState::Validated:
        return;
    case DaneState::Absent:
    case DaneState::Unsigned:
        if (policy.require_dane) {
            found.add(State::Critical, dane.state == DaneState::Absent
                                           ? "no TLSA record (--require-dane)"
                                           : "TLSA not DNSSEC-validated (--require-dane)");
        }
        return;
    case DaneState::Failed:
        found.add(State::Critical,
                  "TLSA lookup failed (" + dane.detail + "): DANE senders defer mail");
        return;
    case DaneState::Unanswered:
        found.add(State::Unknown, "TLSA lookup unanswered (" + dane.detail + ")");
        return;
    }
}

// Verification, DANE and version of a completed handshake.
void judge_tls(const Endpoint& endpoint, const SmtpTlsPolicy& policy, Findings& found)
{
    const TlsSession& tls = *endpoint.probe.tls;
    if (endpoint.dane.state == DaneState::Validated && tls.dane.enabled) {
        if (!tls.dane.authenticated) {
            found.add(State::Critical,
                      "DANE: no validated TLSA record matches (" + sanitize(tls.verify_text) + ")");
        }
    } else if (!tls.verified()) {
        const VerifyPolicy verify = effective_verify(endpoint, policy);
        const std::string problem = "certificate not verified: " + sanitize(tls.verify_text);
        if (verify == VerifyPolicy::Strict) {
            found.add(State::Critical, problem);
        } else if (verify == VerifyPolicy::Warn) {
            found.add(State::Warning, problem);
        }
    }
    if (version_rank(tls.version) < static_cast<int>(policy.min_tls)) {
        found.add(State::Warning,
                  sanitize(tls.version) + " below " + to_string(policy.min_tls) + " (--min-tls)");
    }
}

void judge_session(const Endpoint& endpoint, const SmtpTlsPolicy& policy, Findings& found)
{
    const ProbeResult& probe = endpoint.probe;
    if (!policy.expect.empty() && probe.banner && probe.banner->code == 220 &&
        probe.banner->text().find(policy.expect) == std::string::npos) {
        found.add(State::Warning, "banner lacks " + mailmon::quoted(policy.expect) + ": " +
                                      mailmon::quoted(probe.banner->text(), 120));
    }
    if (endpoint.plan.mode == SmtpMode::StartTls && is_submission_port(endpoint.plan.port) &&
        probe.capabilities && probe.capabilities->has("AUTH")) {
        found.add(State::Warning, "AUTH offered before TLS");
    }
    if (probe.tls) {
        judge_tls(endpoint, policy, found);
    }
}

void judge_timings(const Endpoint& endpoint, const SmtpTlsPolicy& policy, Findings& found)
{
    for (std::size_t index = 0; index < all_timings.size(); ++index) {
        const Timing timing = all_timings[index];
        const Thresholds& limits = timing == Timing::Total ? policy.total : policy.phases[index];
        const auto seconds = timing_seconds(endpoint.probe, timing);
        if (!seconds) {
            continue;
        }
        const State state = limits.evaluate(*seconds);
        if (state != State::Ok) {
            found.add(state, std::string(to_string(timing)) + " " +
                                 format_number(*seconds).value_or("?") + "s outside its range");
        }
    }
}

std::string capability_list(const Capabilities& capabilities)
{
    std::string list;
    for (const auto& [keyword, params] : capabilities.keywords) {
        list += (list.empty() ? "" : " ") + keyword;
        for (const std::string& param : params) {
            list += (params.front() == param ? "=" : ",") + param;
        }
    }
    return sanitize(list.empty() ? "(none)" : list, 300);
}

std::string timings_text(const ProbeResult& probe)
{
    std::string text;
    for (const Timing timing : all_timings) {
        if (const auto seconds = timing_seconds(probe, timing)) {
            text += (text.empty() ? "" : " ") + std::string(to_string(timing)) + " " +
                    format_number(*seconds).value_or("?") + "s";
        }
    }
    return text;
}

const char* dane_word(DaneState state)
{
    switch (state) {
    case DaneState::NotLookedUp:
        return "";
    case DaneState::Absent:
        return ", DANE: no TLSA";
    case DaneState::Unsigned:
        return ", DANE: TLSA unsigned, ignored";
    case DaneState::Validated:
        return ", DANE: TLSA validated";
    case DaneState::Failed:
        return ", DANE: TLSA lookup failed";
    case DaneState::Unanswered:
        return ", DANE: TLSA lookup unanswered";
    }
    return "";
}

std::string tls_text(const Endpoint& endpoint)
{
    const auto& tls = endpoint.probe.tls;
    if (!tls) {
        return endpoint.plan.mode == SmtpMode::Plain ? "no TLS (plain)" : "no TLS";
    }
    std::string text = sanitize(tls->version) + " " + sanitize(tls->cipher);
    if (!tls->group.empty()) {
        text += " " + sanitize(tls->group);
    }
    if (tls->dane.authenticated) {
        return text + ", verified by DANE (TLSA matched at depth " +
               std::to_string(tls->dane.depth) + ")";
    }
    text += ", certificate " + std::string(tls->verified() ? "verified" : "not verified");
    return text + dane_word(endpoint.dane.state);
}

std::string endpoint_line(const Endpoint& endpoint, const EndpointVerdict& verdict)
{
    const ProbeResult& probe = endpoint.probe;
    std::string line = "[" + std::string(to_string(verdict.state)) + "] " + probe.endpoint + " " +
                       mode_word(endpoint.plan.mode) + ": ";
    for (const std::string& problem : verdict.problems) {
        line += problem + "; ";
    }
    line += tls_text(endpoint) + "; " + timings_text(probe);
    if (probe.capabilities) {
        line += std::string(probe.capabilities_after_tls ? "; EHLO before TLS: " : "; EHLO: ") +
                capability_list(*probe.capabilities);
    }
    if (probe.capabilities_after_tls) {
        line += "; EHLO after TLS: " + capability_list(*probe.capabilities_after_tls);
    }
    return line;
}

} // namespace

EndpointVerdict judge_endpoint(const Endpoint& endpoint, const SmtpTlsPolicy& policy)
{
    Findings found;
    if (endpoint.probe.failure) {
        found.add(failure_state(endpoint.probe.failure->error), failure_problem(endpoint));
    }
    judge_dane_lookup(endpoint, policy, found);
    judge_session(endpoint, policy, found);
    judge_timings(endpoint, policy, found);
    EndpointVerdict verdict = found.verdict();
    verdict.line = endpoint_line(endpoint, verdict);
    return verdict;
}

std::vector<Metric> endpoint_metrics(const Endpoint& endpoint, const SmtpTlsPolicy& policy)
{
    std::vector<Metric> metrics;
    // LIMIT: IPv6 labels are longer than 19 characters — RRD-based graphers that cut labels
    // there may merge the phases of one endpoint.
    const std::string prefix = endpoint.address + "_" + std::to_string(endpoint.plan.port) + "_";
    for (std::size_t index = 0; index < all_timings.size(); ++index) {
        const Timing timing = all_timings[index];
        const auto seconds = timing_seconds(endpoint.probe, timing);
        if (!seconds) {
            continue;
        }
        const Thresholds& limits = timing == Timing::Total ? policy.total : policy.phases[index];
        Metric metric;
        metric.label = prefix + to_string(timing);
        metric.value = *seconds;
        metric.unit = Uom::Seconds;
        metric.warning = limits.warning;
        metric.critical = limits.critical;
        metric.min = 0.0;
        metrics.push_back(std::move(metric));
    }
    return metrics;
}

namespace {

std::string port_list(const std::vector<PortPlan>& plans)
{
    std::string list;
    for (const PortPlan& plan : plans) {
        list += (list.empty() ? "" : ",") + std::to_string(plan.port);
    }
    return list;
}

std::string healthy_summary(const std::vector<Endpoint>& endpoints)
{
    std::size_t tls = 0;
    std::string lowest;
    for (const Endpoint& endpoint : endpoints) {
        if (endpoint.probe.tls) {
            ++tls;
            const std::string& version = endpoint.probe.tls->version;
            if (lowest.empty() || version_rank(version) < version_rank(lowest)) {
                lowest = version;
            }
        }
    }
    std::string text = std::to_string(endpoints.size()) +
                       (endpoints.size() == 1 ? " endpoint answers" : " endpoints answer");
    if (tls > 0) {
        text += ", TLS works on " + std::to_string(tls) + " (" + sanitize(lowest) +
                (tls == endpoints.size() ? " or better)" : " or better; others plain)");
    }
    return text;
}

} // namespace

Report judge_smtp_tls(std::string_view host, const std::vector<PortPlan>& plans,
                      const std::vector<Endpoint>& endpoints, const SmtpTlsPolicy& policy)
{
    Report report("SMTP_TLS");
    State worst_state = State::Ok;
    std::string worst_problem;
    std::size_t with_problems = 0;
    for (const Endpoint& endpoint : endpoints) {
        const EndpointVerdict verdict = judge_endpoint(endpoint, policy);
        report.add_line(verdict.state, verdict.line);
        for (Metric& metric : endpoint_metrics(endpoint, policy)) {
            report.add_metric(std::move(metric));
        }
        if (verdict.problems.empty()) {
            continue;
        }
        ++with_problems;
        if (worst_problem.empty() || worst(worst_state, verdict.state) != worst_state) {
            worst_state = verdict.state;
            worst_problem = endpoint.probe.endpoint + " " + verdict.problems.front();
        }
    }
    std::string summary =
        std::string(host) + " port" + (plans.size() == 1 ? " " : "s ") + port_list(plans) + ": ";
    if (worst_problem.empty()) {
        summary += healthy_summary(endpoints);
    } else {
        summary += worst_problem;
        if (with_problems > 1) {
            summary += " (and " + std::to_string(with_problems - 1) + " more endpoint" +
                       (with_problems == 2 ? ")" : "s)");
        }
    }
    report.set_summary(std::move(summary));
    return report;
}

void probe_endpoints(std::vector<Endpoint>& endpoints, const ProbeOptions& options,
                     const Deadline& deadline)
{
    // jthread joins on destruction, also when starting a later thread throws.
    std::vector<std::jthread> threads;
    threads.reserve(endpoints.size());
    for (Endpoint& endpoint : endpoints) {
        ProbeOptions mine = options;
        mine.address = endpoint.address;
        mine.port = endpoint.plan.port;
        mine.mode = endpoint.plan.mode;
        // Unsigned records are kept for the report only: a DANE sender ignores them.
        if (endpoint.dane.state == DaneState::Validated) {
            mine.tls.tlsa = endpoint.dane.records;
        }
        threads.emplace_back(
            [mine, &deadline, &slot = endpoint.probe] { slot = probe_smtp(mine, deadline); });
    }
}

} // namespace mailmon
