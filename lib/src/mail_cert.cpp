// SPDX-License-Identifier: GPL-3.0-or-later
// check_mail_cert's judgement: per-endpoint findings, fleet comparison and the report.
#include "mailmon/mail_cert.hpp"

#include "mailmon/net.hpp"
#include "mailmon/perfdata.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <openssl/x509_vfy.h>
#include <thread>

namespace mailmon {

namespace {

// "21" becomes "21:" (alert below 21); a range with ':' or '@', or text that is no plain
// number, is passed on unchanged so that the range parser explains what is wrong.
std::optional<std::string> as_days_range(const std::optional<std::string>& value)
{
    if (!value || value->find_first_of(":@") != std::string::npos) {
        return value;
    }
    double number = 0;
    const char* end = value->data() + value->size();
    const auto [stop, error] = std::from_chars(value->data(), end, number);
    if (error != std::errc() || stop != end) {
        return value;
    }
    return *value + ":";
}

std::string fixed1(double value)
{
    const double rounded = std::round(value * 10) / 10;
    return format_number(rounded == 0 ? 0.0 : rounded).value_or("?");
}

std::string expiry_text(double days, SystemTime when)
{
    if (days < 0) {
        return "expired " + fixed1(-days) + " days ago (" + format_utc(when) + ")";
    }
    return "expires in " + fixed1(days) + " days (" + format_utc(when) + ")";
}

std::string join(const std::vector<std::string>& parts, const std::string& separator)
{
    std::string text;
    for (const std::string& part : parts) {
        text += (text.empty() ? "" : separator) + part;
    }
    return text;
}

class Judge {
public:
    Judge(const EndpointProbe& probe, const TrustStore& store, const CertPolicy& policy,
          SystemTime now)
        : probe_(probe), store_(store), policy_(policy), now_(now)
    {
        verdict_.host = probe.host;
        verdict_.endpoint = endpoint_name(probe.address, probe.port);
        verdict_.label =
            probe.host == probe.address ? verdict_.endpoint : probe.host + " " + verdict_.endpoint;
    }

    EndpointVerdict run();

private:
    void problem(State state, std::string text);
    bool read_chain();
    void check_verification();
    void check_name();
    void check_days();
    void check_quality();
    void check_dane();
    void check_dane_lookup();
    void check_ocsp();
    bool dane_authenticated() const;

    const EndpointProbe& probe_;
    const TrustStore& store_;
    const CertPolicy& policy_;
    SystemTime now_;
    EndpointVerdict verdict_;
    std::vector<CertificateInfo> chain_;
    // PKIX and name problems, held back until DANE has spoken: an authenticated DANE match
    // makes them irrelevant to DANE senders (RFC 7672 §3.1).
    std::vector<std::string> pkix_problems_;
};

void Judge::problem(State state, std::string text)
{
    verdict_.state = worst(verdict_.state, state);
    verdict_.problems.push_back(Finding{state, std::move(text)});
}

// The probe's own failure, and the certificates it brought back.
bool Judge::read_chain()
{
    const ProbeResult& result = probe_.probe;
    if (result.failure) {
        const ErrorKind kind = result.failure->error.kind;
        const bool ours =
            kind == ErrorKind::Internal || kind == ErrorKind::Usage || kind == ErrorKind::Config;
        problem(ours ? State::Unknown : State::Critical,
                sanitize(result.failure->error.message, 300));
    }
    if (!result.tls) {
        return false;
    }
    if (result.tls->chain_der.empty()) {
        problem(State::Critical, "no certificate sent");
        return false;
    }
    for (const Der& der : result.tls->chain_der) {
        auto info = inspect_certificate(der);
        if (!info) {
            problem(State::Critical, info.error().message);
            return false;
        }
        chain_.push_back(std::move(info.value()));
    }
    verdict_.leaf = chain_.front();
    return true;
}

void Judge::check_verification()
{
    auto verified = verify_chain(probe_.probe.tls->chain_der, store_, now_);
    if (!verified) {
        problem(State::Unknown, verified.error().message);
        verdict_.verification = "not verified";
        return;
    }
    for (const ChainProblem& found : verified->problems) {
        pkix_problems_.push_back(found.text);
    }
    verdict_.verification = verified->ok() ? "verified" : join(pkix_problems_, ", ");
}

void Judge::check_name()
{
    if (probe_.verify_name.empty()) {
        return;
    }
    auto matched = matches_name(probe_.probe.tls->chain_der.front(), probe_.verify_name);
    if (matched.ok() && matched.value()) {
        return;
    }
    const CertificateInfo& leaf = chain_.front();
    std::vector<std::string> names = leaf.dns_names;
    names.insert(names.end(), leaf.ip_addresses.begin(), leaf.ip_addresses.end());
    if (names.empty()) {
        names.push_back("CN " + leaf.common_name);
    }
    pkix_problems_.push_back("name mismatch: " + quoted(probe_.verify_name) + " not in " +
                             quoted(join(names, ",")));
}

void Judge::check_days()
{
    verdict_.leaf_days = chain_.front().days_left(now_);
    const auto soonest = std::min_element(chain_.begin(), chain_.end(),
                                          [](const CertificateInfo& a, const CertificateInfo& b) {
                                              return a.not_after < b.not_after;
                                          });
    const double days = soonest->days_left(now_);
    verdict_.chain_days_min = days;
    verdict_.chain_min_subject = soonest->subject;

    const State state = policy_.days.evaluate(days);
    if (state == State::Ok) {
        return;
    }
    const bool leaf = soonest == chain_.begin() || soonest->not_after == chain_.front().not_after;
    const std::string who = leaf ? "certificate" : "chain element " + quoted(soonest->subject);
    problem(state, who + " " + expiry_text(days, soonest->not_after));
}

void Judge::check_quality()
{
    for (std::size_t depth = 0; depth < chain_.size(); ++depth) {
        const CertificateInfo& cert = chain_[depth];
        // A root's own signature is never checked by anyone: only its key matters.
        if (cert.self_signed && depth > 0) {
            continue;
        }
        const std::string who = depth == 0 ? "leaf" : "intermediate " + quoted(cert.subject);
        const bool small_rsa =
            cert.key_type == KeyType::Rsa && cert.key_bits < policy_.min_rsa_bits;
        const bool small_ec = cert.key_type == KeyType::Ec && cert.key_bits < policy_.min_ec_bits;
        if (small_rsa || small_ec) {
            problem(State::Warning,
                    who + " key " + cert.key_text() + " is weak (minimum " +
                        std::to_string(small_rsa ? policy_.min_rsa_bits : policy_.min_ec_bits) +
                        " bits)");
        }
        if (cert.weak_signature) {
            problem(State::Critical,
                    who + " signed with a weak digest (" + cert.signature_algorithm + ")");
        }
    }
}

bool Judge::dane_authenticated() const
{
    const TlsSession& session = *probe_.probe.tls;
    return session.dane.enabled && session.dane.authenticated;
}

std::string tlsa_text(const TlsaRecord& record)
{
    return std::to_string(record.usage) + " " + std::to_string(record.selector) + " " +
           std::to_string(record.matching_type);
}

void Judge::check_dane()
{
    const TlsSession& session = *probe_.probe.tls;
    if (probe_.tlsa.state != DaneState::Validated || !session.dane.enabled) {
        check_dane_lookup();
        return;
    }
    if (dane_authenticated()) {
        const std::string record =
            session.dane.matched ? "TLSA " + tlsa_text(*session.dane.matched) : "TLSA";
        verdict_.dane = "matched " + record + " at depth " + std::to_string(session.dane.depth);
        if (!pkix_problems_.empty()) {
            verdict_.verification += " (not used: DANE authenticated)";
        }
        pkix_problems_.clear();
        return;
    }
    const bool no_match = session.verify_code == X509_V_ERR_DANE_NO_MATCH;
    verdict_.dane = no_match ? "no TLSA record matches" : "failed: " + session.verify_text;
    problem(State::Critical, "DANE " + verdict_.dane);
}

// No usable, validated TLSA records: say why, and whether that matters.
void Judge::check_dane_lookup()
{
    const State missing = policy_.require_dane ? State::Warning : State::Ok;
    switch (probe_.tlsa.state) {
    case DaneState::NotLookedUp:
        verdict_.dane = "not looked up (no host name)";
        return;
    case DaneState::Absent:
        verdict_.dane = "no TLSA records";
        break;
    case DaneState::Unsigned:
        verdict_.dane = "TLSA in an unsigned zone, ignored";
        break;
    case DaneState::Validated:
        verdict_.dane = "no usable TLSA records (only usages 0/1 or malformed)";
        break;
    case DaneState::Failed:
        // RFC 7672 §2.2: DANE senders defer mail when the TLSA lookup fails.
        verdict_.dane = "TLSA lookup failed: " + probe_.tlsa.detail;
        problem(State::Critical, "DANE " + verdict_.dane);
        return;
    case DaneState::Unanswered:
        verdict_.dane = "TLSA lookup unanswered: " + probe_.tlsa.detail;
        problem(State::Unknown, "DANE " + verdict_.dane);
        return;
    }
    if (missing != State::Ok) {
        problem(missing, "DANE required: " + verdict_.dane);
    }
}

void Judge::check_ocsp()
{
    const TlsSession& session = *probe_.probe.tls;
    if (session.ocsp_response.empty()) {
        verdict_.ocsp = "no staple";
        return;
    }
    auto staple = read_ocsp_staple(session.ocsp_response, session.chain_der.front());
    if (!staple) {
        verdict_.ocsp = "unreadable staple";
        return;
    }
    if (!staple->status) {
        verdict_.ocsp = "staple " + staple->response_status + ", leaf not listed";
        return;
    }
    verdict_.ocsp = std::string("staple ") + to_string(*staple->status);
    if (*staple->status == OcspStatus::Revoked) {
        problem(State::Critical, "certificate revoked (OCSP staple)");
    }
}

EndpointVerdict Judge::run()
{
    if (!read_chain()) {
        return verdict_;
    }
    check_verification();
    check_name();
    check_dane();
    for (const std::string& text : pkix_problems_) {
        problem(State::Critical, text);
    }
    check_days();
    check_quality();
    check_ocsp();
    return verdict_;
}

std::string endpoint_line(const EndpointVerdict& verdict)
{
    std::vector<std::string> parts;
    for (const Finding& found : verdict.problems) {
        parts.push_back(found.text);
    }
    if (const auto& leaf = verdict.leaf) {
        std::vector<std::string> names = leaf->dns_names;
        names.insert(names.end(), leaf->ip_addresses.begin(), leaf->ip_addresses.end());
        parts.push_back("subject " + quoted(leaf->subject) + ", SANs " + quoted(join(names, ",")) +
                        ", issuer " + quoted(leaf->issuer) + ", not after " +
                        format_utc(leaf->not_after) + " (" + fixed1(*verdict.leaf_days) +
                        " days), chain min " + fixed1(*verdict.chain_days_min) + " days, key " +
                        leaf->key_text() + ", signature " + leaf->signature_algorithm +
                        ", SHA-256 " + leaf->sha256);
        parts.push_back("verification: " + verdict.verification + ", DANE: " + verdict.dane +
                        ", OCSP: " + verdict.ocsp);
    }
    return std::string(to_string(verdict.state)) + " " + verdict.label + ": " + join(parts, "; ");
}

// The first line: the worst problem (the first of the worst state), and the soonest expiry.
std::string summary(const std::vector<EndpointVerdict>& verdicts, const std::vector<Finding>& fleet)
{
    std::optional<Finding> worst_found;
    std::size_t count = 0;
    const auto consider = [&](const Finding& found, const std::string& where) {
        ++count;
        if (!worst_found || severity(found.state) > severity(worst_found->state)) {
            worst_found = Finding{found.state, where + found.text};
        }
    };
    for (const EndpointVerdict& verdict : verdicts) {
        for (const Finding& found : verdict.problems) {
            consider(found, verdict.label + ": ");
        }
    }
    for (const Finding& found : fleet) {
        consider(found, "");
    }
    const std::string noun = verdicts.size() == 1 ? " endpoint" : " endpoints";
    std::string text =
        worst_found ? worst_found->text : std::to_string(verdicts.size()) + noun + " fine";
    if (count > 1) {
        text += " (+" + std::to_string(count - 1) + " more)";
    }

    const EndpointVerdict* soonest = nullptr;
    for (const EndpointVerdict& verdict : verdicts) {
        if (verdict.chain_days_min &&
            (soonest == nullptr || *verdict.chain_days_min < *soonest->chain_days_min)) {
            soonest = &verdict;
        }
    }
    if (soonest != nullptr) {
        const double days = *soonest->chain_days_min;
        text += days < 0 ? "; soonest expiry: expired " + fixed1(-days) + " days ago at "
                         : "; soonest expiry in " + fixed1(days) + " days at ";
        text += soonest->label;
    }
    return text;
}

Metric days_metric(std::string label, double days, const CertPolicy& policy)
{
    Metric metric;
    metric.label = std::move(label);
    metric.value = std::round(days * 100) / 100;
    metric.warning = policy.days.warning;
    metric.critical = policy.days.critical;
    return metric;
}

} // namespace

Result<Thresholds> parse_days_thresholds(const std::optional<std::string>& warning,
                                         const std::optional<std::string>& critical)
{
    return parse_thresholds(as_days_range(warning), as_days_range(critical));
}

EndpointVerdict judge_endpoint(const EndpointProbe& probe, const TrustStore& store,
                               const CertPolicy& policy, SystemTime now)
{
    return Judge(probe, store, policy, now).run();
}

std::vector<Finding> compare_fleet(const std::vector<EndpointVerdict>& verdicts)
{
    // LIMIT: endpoints are grouped by host name across ports — a host that serves another
    // certificate on 465/587 than on 25 on purpose shows as a WARNING.
    // host -> fingerprint -> endpoints serving it
    std::map<std::string, std::map<std::string, std::vector<const EndpointVerdict*>>> hosts;
    for (const EndpointVerdict& verdict : verdicts) {
        if (verdict.leaf) {
            hosts[verdict.host][verdict.leaf->sha256].push_back(&verdict);
        }
    }
    std::vector<Finding> findings;
    for (const auto& [host, leaves] : hosts) {
        if (leaves.size() < 2) {
            continue;
        }
        std::vector<std::string> groups;
        for (const auto& [fingerprint, serving] : leaves) {
            std::vector<std::string> endpoints;
            for (const EndpointVerdict* verdict : serving) {
                endpoints.push_back(verdict->endpoint);
            }
            groups.push_back(join(endpoints, ",") + " until " +
                             format_utc(serving.front()->leaf->not_after) + " (" +
                             fingerprint.substr(0, 11) + ")");
        }
        findings.push_back(Finding{
            State::Warning,
            quoted(host) + " is served with different certificates: " + join(groups, "; ")});
    }
    return findings;
}

Report build_report(const std::vector<EndpointVerdict>& verdicts,
                    const std::vector<Finding>& discovery, const CertPolicy& policy)
{
    Report report("MAIL_CERT");
    std::vector<Finding> fleet = compare_fleet(verdicts);
    fleet.insert(fleet.end(), discovery.begin(), discovery.end());
    report.set_summary(summary(verdicts, fleet));
    for (const EndpointVerdict& verdict : verdicts) {
        report.add_line(verdict.state, endpoint_line(verdict));
    }
    for (const Finding& found : fleet) {
        report.add_line(found.state, std::string(to_string(found.state)) + " " + found.text);
    }
    for (const EndpointVerdict& verdict : verdicts) {
        std::string id = verdict.label;
        std::replace(id.begin(), id.end(), ' ', '_');
        if (verdict.leaf_days) {
            report.add_metric(days_metric("cert_days_left_" + id, *verdict.leaf_days, policy));
            report.add_metric(
                days_metric("chain_days_left_" + id, *verdict.chain_days_min, policy));
        }
    }
    return report;
}

} // namespace mailmon

namespace mailmon {

Result<std::vector<std::uint16_t>> parse_ports(std::string_view text)
{
    std::vector<std::uint16_t> ports;
    while (true) {
        const std::string_view item = text.substr(0, text.find(','));
        unsigned value = 0;
        const auto [stop, error] = std::from_chars(item.data(), item.data() + item.size(), value);
        if (error != std::errc() || stop != item.data() + item.size() || value == 0 ||
            value > 65535) {
            return make_error(ErrorKind::Usage, "invalid -p/--port '" + std::string(item) +
                                                    "': use ports 1 to 65535, comma-separated");
        }
        if (std::find(ports.begin(), ports.end(), value) == ports.end()) {
            ports.push_back(static_cast<std::uint16_t>(value));
        }
        if (item.size() == text.size()) {
            return ports;
        }
        text.remove_prefix(item.size() + 1);
    }
}

SmtpMode mode_for_port(std::uint16_t port)
{
    return port == 465 ? SmtpMode::ImplicitTls : SmtpMode::StartTls;
}

namespace {

bool is_address(const std::string& text)
{
    std::array<unsigned char, 16> binary{};
    return inet_pton(AF_INET, text.c_str(), binary.data()) == 1 ||
           inet_pton(AF_INET6, text.c_str(), binary.data()) == 1;
}

// Every endpoint with its TLSA lookup filled in, not yet probed.
// LIMIT: the TLSA base domain is the host name as given, without the CNAME expansion of RFC
// 7672 §2.2.2 and without checking that its address records are secure — an aliased MX host is
// judged on the TLSA records at its alias name.
std::vector<EndpointProbe> plan_endpoints(dns::Resolver& resolver,
                                          const std::vector<HostTarget>& hosts,
                                          const ProbeSettings& settings, const Deadline& deadline)
{
    std::vector<dns::Query> queries;
    for (const HostTarget& host : hosts) {
        for (const std::uint16_t port : settings.ports) {
            if (!is_address(host.host)) {
                queries.push_back(dns::Query{tlsa_name(host.host, port), dns::Type::TLSA});
            }
        }
    }
    const std::vector<dns::Response> answers = resolver.resolve(queries, deadline);

    std::vector<EndpointProbe> endpoints;
    std::size_t answer = 0;
    for (const HostTarget& host : hosts) {
        for (const std::uint16_t port : settings.ports) {
            const DaneLookup tlsa =
                is_address(host.host) ? DaneLookup{} : read_tlsa_response(answers.at(answer++));
            for (const std::string& address : host.addresses) {
                endpoints.push_back(
                    EndpointProbe{host.host, address, port, host.verify_name, tlsa, {}});
            }
        }
    }
    return endpoints;
}

ProbeOptions probe_options(const EndpointProbe& endpoint, const ProbeSettings& settings)
{
    ProbeOptions options;
    options.address = endpoint.address;
    options.port = endpoint.port;
    options.mode = mode_for_port(endpoint.port);
    options.helo_name = settings.helo_name;
    options.tls.ca_file = settings.ca_file;
    options.tls.ca_path = settings.ca_path;
    options.tls.want_ocsp = true;
    if (!is_address(endpoint.host)) {
        options.tls.sni = endpoint.host;
    }
    options.tls.verify_name = endpoint.verify_name;
    if (endpoint.tlsa.state == DaneState::Validated) {
        options.tls.tlsa = endpoint.tlsa.records;
        options.tls.dane_base_domain = endpoint.host;
    }
    return options;
}

bool has_usable_tlsa(const TlsOptions& options)
{
    return std::any_of(options.tlsa.begin(), options.tlsa.end(), [](const TlsaRecord& record) {
        return record.usage == 2 || record.usage == 3;
    });
}

// One TLS context for every probe, and one with DANE enabled for the probes that have usable
// TLSA records: a context per probe would cost a millisecond or more of CPU each. A context
// that cannot be made stays empty; the probes then make their own and report the error.
struct SharedContexts {
    std::optional<TlsContext> plain;
    std::optional<TlsContext> dane;

    const TlsContext* for_options(const TlsOptions& options) const
    {
        const auto& chosen = has_usable_tlsa(options) ? dane : plain;
        return chosen ? &*chosen : nullptr;
    }
};

SharedContexts make_contexts(const std::vector<EndpointProbe>& endpoints,
                             const ProbeSettings& settings)
{
    SharedContexts contexts;
    for (const EndpointProbe& endpoint : endpoints) {
        const TlsOptions options = probe_options(endpoint, settings).tls;
        auto& slot = has_usable_tlsa(options) ? contexts.dane : contexts.plain;
        if (slot) {
            continue;
        }
        auto made = TlsContext::create(options);
        if (made) {
            slot.emplace(std::move(made.value()));
        }
    }
    return contexts;
}

} // namespace

std::vector<EndpointProbe> probe_hosts(dns::Resolver& resolver,
                                       const std::vector<HostTarget>& hosts,
                                       const ProbeSettings& settings, const Deadline& dns_deadline,
                                       const Deadline& deadline)
{
    std::vector<EndpointProbe> endpoints = plan_endpoints(resolver, hosts, settings, dns_deadline);
    const SharedContexts contexts = make_contexts(endpoints, settings);
    std::vector<std::thread> threads;
    threads.reserve(endpoints.size());
    for (EndpointProbe& endpoint : endpoints) {
        // probe_smtp never throws, so nothing can escape the thread.
        threads.emplace_back([&endpoint, &settings, &contexts, &deadline] {
            ProbeOptions options = probe_options(endpoint, settings);
            options.context = contexts.for_options(options.tls);
            endpoint.probe = probe_smtp(options, deadline);
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    return endpoints;
}

} // namespace mailmon
