// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer target for check_mx's handling of MX answers: the bytes are parsed as a raw MX
// answer and as the A answer of every exchange, read into a survey, judged and rendered, so a
// hostile zone cannot crash the plugin or get a '|' or a line break into its output.
#include "dns_wire.hpp"
#include "mailmon/mx.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace mailmon;
    const std::span<const std::uint8_t> wire(data, size);
    const std::string domain = "example.org";
    const auto mx = dns::parse_answer(dns::Query{domain, dns::Type::MX}, wire);
    const auto own = dns::parse_answer(dns::Query{domain, dns::Type::A}, wire);
    MxSurvey survey = read_mx_answer(domain, mx, {own});

    for (auto& target : survey.targets) {
        if (!target.implicit && target.fault == TargetFault::None) {
            apply_address_responses(target, {dns::parse_answer({target.name, dns::Type::A}, wire)});
        }
        for (auto& address : target.addresses) {
            address.outcome = ProbeOutcome::Up;
            address.banner_seconds = 0.001;
        }
    }

    MxPolicy policy;
    policy.min_mx = 2;
    policy.expect = {"mx.example.org"};
    const Report report = judge_mx(survey, policy);
    const std::string text = report.to_text();
    // Only the status line may hold the perfdata separator: remote text must never add one.
    const auto first_line_end = text.find('\n');
    const auto bars = std::count(text.begin(), text.begin() + first_line_end, '|');
    if (bars > 1 || text.find('|', first_line_end) != std::string::npos) {
        std::abort();
    }
    (void)report.to_json();
    return 0;
}
