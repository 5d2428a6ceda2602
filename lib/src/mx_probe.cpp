// SPDX-License-Identifier: GPL-3.0-or-later
// The probing half of check_mx: every address of every MX gets its own thread running
// probe_smtp under the shared deadline, so three MX cost about as much as one.
#include "mailmon/mx.hpp"

#include <map>
#include <thread>

namespace mailmon {

namespace {

bool tls_phase(Phase phase)
{
    return phase == Phase::StartTls || phase == Phase::Handshake || phase == Phase::EhloAfterTls;
}

ProbeOptions options_for(const std::string& address, const std::string& server_name,
                         const MxProbeSettings& settings)
{
    ProbeOptions options;
    options.address = address;
    options.port = settings.port;
    options.mode = settings.starttls ? SmtpMode::StartTls : SmtpMode::Plain;
    options.helo_name = settings.helo_name;
    options.tls.sni = server_name;
    options.tls.ca_file = settings.ca_file;
    options.tls.ca_path = settings.ca_path;
    return options;
}

const char* phase_words(Phase phase)
{
    switch (phase) {
    case Phase::Connect:
        return "connect";
    case Phase::Banner:
        return "no banner";
    case Phase::Ehlo:
        return "EHLO";
    case Phase::StartTls:
        return "STARTTLS";
    case Phase::Handshake:
        return "TLS handshake";
    case Phase::EhloAfterTls:
        return "EHLO after TLS";
    case Phase::Quit:
        break;
    }
    return "QUIT";
}

// The cause alone: the library's message names the endpoint, which the output already shows.
std::string cause(const ProbeResult& probe, const Error& error)
{
    const std::string marker = probe.endpoint + ": ";
    const auto at = error.message.find(marker);
    return at == std::string::npos ? error.message : error.message.substr(at + marker.size());
}

} // namespace

AddressResult address_result(const std::string& address, const ProbeResult& probe)
{
    AddressResult result;
    result.address = address;
    result.connect_seconds = probe.seconds(Phase::Connect);
    if (probe.banner) {
        result.banner = sanitize(std::to_string(probe.banner->code) + " " + probe.banner->text());
        result.banner_seconds =
            result.connect_seconds.value_or(0.0) + probe.seconds(Phase::Banner).value_or(0.0);
    }
    double total = 0;
    for (const auto& timing : probe.timings) {
        total += timing.seconds;
    }
    result.total_seconds = total;
    if (probe.ok()) {
        result.outcome = ProbeOutcome::Up;
        return result;
    }
    const auto& failure = *probe.failure;
    if (failure.phase == Phase::Banner && probe.banner && probe.banner->code != 220) {
        result.outcome = ProbeOutcome::Refusing;
        result.reply_code = probe.banner->code;
        result.reason = std::to_string(probe.banner->code) + " " + quoted(probe.banner->text());
        return result;
    }
    result.outcome = tls_phase(failure.phase) ? ProbeOutcome::TlsFailed : ProbeOutcome::Down;
    // "STARTTLS failed" already names the step; only the handshake and the EHLO after it add one.
    const bool named = failure.phase == Phase::StartTls;
    result.reason = (named ? "" : std::string(phase_words(failure.phase)) + ": ") +
                    sanitize(cause(probe, failure.error));
    return result;
}

void probe_targets(std::vector<MxTarget>& targets, const MxProbeSettings& settings,
                   const Deadline& deadline)
{
    // One probe per distinct address, named after the first MX that uses it (for SNI).
    std::map<std::string, std::string> server_names;
    for (const auto& target : targets) {
        for (const auto& address : target.addresses) {
            server_names.emplace(address.address, target.name);
        }
    }
    std::map<std::string, ProbeResult> probes;
    for (const auto& entry : server_names) {
        probes.emplace(entry.first, ProbeResult{});
    }

    // LIMIT: one thread per distinct address, without a cap — a domain with hundreds of MX
    // addresses starts hundreds of threads.
    // LIMIT: every probe runs until the shared deadline — a tarpit address holds the check
    // until -t less the reserve, since there is no shorter per-connection timeout.
    {
        // jthread joins on destruction, also when starting a later thread throws.
        std::vector<std::jthread> threads;
        threads.reserve(probes.size());
        for (auto& [address, probe] : probes) {
            const ProbeOptions options = options_for(address, server_names[address], settings);
            threads.emplace_back(
                [options, &deadline, &slot = probe] { slot = probe_smtp(options, deadline); });
        }
    }

    for (auto& target : targets) {
        for (auto& address : target.addresses) {
            AddressResult probed = address_result(address.address, probes.at(address.address));
            probed.ptr = address.ptr;
            probed.ptr_names = std::move(address.ptr_names);
            address = std::move(probed);
        }
    }
}

} // namespace mailmon
