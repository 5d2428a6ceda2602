// SPDX-License-Identifier: GPL-3.0-or-later
// Judging a DNSBL run: listing counts against -w/-c per target (the worst target decides),
// zone problems that can warn but never make CRITICAL, and the report with its perfdata.
#include "mailmon/dnsbl.hpp"

#include <algorithm>
#include <charconv>

namespace mailmon::dnsbl {

namespace {

constexpr std::size_t max_names_in_summary = 5;

Result<std::optional<Range>> parse_count(const std::optional<std::string>& text,
                                         std::string_view option, Role role)
{
    if (!text) {
        return std::optional<Range>();
    }
    const auto fail = [&](const std::string& cause) {
        return make_error(ErrorKind::Usage,
                          "invalid " + std::string(option) + " '" + *text + "': " + cause);
    };
    if (text->find_first_of(":@") != std::string::npos) {
        auto range = Range::parse(*text);
        if (!range) {
            return fail(range.error().message);
        }
        return std::optional<Range>(std::move(*range));
    }
    unsigned count = 0;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), count);
    if (text->empty() || ec != std::errc() || end != text->data() + text->size() || count < 1) {
        return fail("give a number of zones of at least 1, or a range with ':' or '@'");
    }
    // "listed on at least N" is the plain range "0..N-1", which Icinga reads as a number.
    if (role == Role::Block) {
        return std::optional<Range>(Range::parse(std::to_string(count - 1)).value());
    }
    return std::optional<Range>(Range::below(count));
}

std::string names_of(const std::vector<Listing>& listings, const std::vector<Zone>& zones)
{
    std::string text;
    for (std::size_t i = 0; i < listings.size() && i < max_names_in_summary; ++i) {
        text += (i == 0 ? "" : ", ") + zones[listings[i].zone].name;
    }
    if (listings.size() > max_names_in_summary) {
        text += ", +" + std::to_string(listings.size() - max_names_in_summary) + " more";
    }
    return text;
}

// Subjects and origins may come from MX answers: sanitised, so no '|' reaches the output.
std::string describe(const Target& target)
{
    const auto subject = sanitize(target.subject);
    return target.origin.empty() ? subject : subject + " (" + sanitize(target.origin) + ")";
}

struct Judged {
    const TargetResult* result = nullptr;
    State state = State::Ok;
};

State judge_target(const TargetResult& target, const std::vector<Zone>& zones,
                   const JudgeOptions& options)
{
    // A target no zone serves (an IPv6 address among IPv4 lists) is skipped, not a failure.
    if (target.applicable == 0) {
        return State::Ok;
    }
    if (target.checked == 0) {
        return State::Unknown;
    }
    const auto& limits = options.thresholds;
    const auto all = static_cast<double>(target.listings.size());
    if (options.role == Role::Allow) {
        return limits.evaluate(all);
    }
    const auto may_be_critical = [&](const Listing& l) {
        return zones[l.zone].worst == State::Critical;
    };
    const auto critical_capable = static_cast<double>(
        std::count_if(target.listings.begin(), target.listings.end(), may_be_critical));
    if (limits.critical && limits.critical->alerts(critical_capable)) {
        return State::Critical;
    }
    const bool warns = (limits.warning && limits.warning->alerts(all)) ||
                       (limits.critical && limits.critical->alerts(all));
    return warns ? State::Warning : State::Ok;
}

std::string target_summary(const Judged& judged, const std::vector<Zone>& zones, Role role)
{
    const auto& target = *judged.result;
    const bool one = target.checked == 1;
    const std::string noun =
        role == Role::Allow ? (one ? " allowlist" : " allowlists") : (one ? " zone" : " zones");
    if (target.checked == 0) {
        return describe(target.target) + " not checked: no usable zone covers it";
    }
    if (target.listings.empty()) {
        return describe(target.target) + " not listed on any of " + std::to_string(target.checked) +
               noun;
    }
    return describe(target.target) + " listed on " + std::to_string(target.listings.size()) +
           " of " + std::to_string(target.checked) + noun + " (" +
           names_of(target.listings, zones) + ")";
}

void add_listing_lines(Report& report, const Judged& judged, const std::vector<Zone>& zones,
                       Role role)
{
    for (const auto& listing : judged.result->listings) {
        const Zone& zone = zones[listing.zone];
        State state = role == Role::Allow ? State::Ok : judged.state;
        if (state == State::Critical && zone.worst == State::Warning) {
            state = State::Warning;
        }
        std::string codes;
        for (const Code code : listing.codes) {
            codes += (codes.empty() ? "" : ", ") + format_code(code);
        }
        std::string text =
            describe(judged.result->target) + " listed on " + zone.name + " (" + codes + ")";
        if (!listing.reason.empty()) {
            text += ": " + quoted(listing.reason);
        }
        report.add_line(state, std::move(text));
    }
}

// Every target judged, the one that decides the state first.
std::vector<Judged> judge_all(const Assessment& assessment, const std::vector<Zone>& zones,
                              const JudgeOptions& options)
{
    std::vector<Judged> judged;
    for (const auto& target : assessment.targets) {
        judged.push_back({&target, judge_target(target, zones, options)});
    }
    std::stable_sort(judged.begin(), judged.end(), [](const Judged& a, const Judged& b) {
        return severity(a.state) > severity(b.state) ||
               (a.state == b.state && a.result->listings.size() > b.result->listings.size());
    });
    return judged;
}

// Listing lines, and a summary part for each target that is listed or not OK (the first one
// always); the rest are counted. Returns how many targets no zone serves.
std::size_t add_targets(Report& report, std::vector<std::string>& summary,
                        const std::vector<Judged>& judged, const std::vector<Zone>& zones,
                        Role role)
{
    std::size_t quiet = 0;
    std::size_t skipped = 0;
    for (const auto& j : judged) {
        if (j.result->applicable == 0) {
            ++skipped;
            report.add_line(State::Ok, describe(j.result->target) +
                                           " not checked: no zone of this run serves it");
            continue;
        }
        report.raise(j.state);
        add_listing_lines(report, j, zones, role);
        if (summary.empty() || !j.result->listings.empty() || j.state != State::Ok) {
            summary.push_back(target_summary(j, zones, role));
        } else {
            ++quiet;
        }
    }
    if (quiet > 0) {
        summary.push_back(std::to_string(quiet) +
                          (quiet == 1 ? " other target not listed" : " other targets not listed"));
    }
    return skipped;
}

std::string problem_line(const Zone& zone, const ZoneHealth& health)
{
    std::string text;
    switch (health.health) {
    case Health::Error:
        text = "zone error on " + zone.name + ": " + health.problem;
        break;
    case Health::Broken:
        text = "broken zone " + zone.name + ": " + health.problem;
        break;
    case Health::Unanswered:
        text = "no answer from " + zone.name + " (" + health.problem + ")";
        break;
    case Health::Usable:
        break;
    }
    return health.hint.empty() ? text : text + " (hint: " + health.hint + ")";
}

const char* problem_word(Health health)
{
    return health == Health::Error ? "error" : health == Health::Broken ? "broken" : "no answer";
}

struct ZoneCounts {
    std::size_t usable = 0;
    std::size_t errors = 0; // errors and broken zones
    std::size_t unanswered = 0;
    std::string names; // "error.bl.test (error), dead.bl.test (broken)"
};

ZoneCounts count_zones(const Assessment& assessment, const std::vector<Zone>& zones)
{
    ZoneCounts counts;
    for (std::size_t z = 0; z < zones.size(); ++z) {
        const auto health = assessment.health[z].health;
        if (!assessment.used[z]) {
            continue;
        }
        if (health == Health::Usable) {
            ++counts.usable;
            continue;
        }
        ++(health == Health::Unanswered ? counts.unanswered : counts.errors);
        counts.names +=
            (counts.names.empty() ? "" : ", ") + zones[z].name + " (" + problem_word(health) + ")";
    }
    return counts;
}

// Zone problems never make CRITICAL: WARNING above the allowance, UNKNOWN with no usable zone.
void add_zone_problems(Report& report, const Assessment& assessment, const std::vector<Zone>& zones,
                       const ZoneCounts& counts, const JudgeOptions& options)
{
    const std::size_t problems = counts.errors + counts.unanswered;
    const State state = counts.usable == 0                   ? State::Unknown
                        : problems > options.max_zone_errors ? State::Warning
                                                             : State::Ok;
    for (std::size_t z = 0; z < zones.size(); ++z) {
        if (assessment.used[z] && assessment.health[z].health != Health::Usable) {
            report.add_line(state, problem_line(zones[z], assessment.health[z]));
        }
    }
}

void add_metrics(Report& report, const std::vector<Judged>& judged, const ZoneCounts& counts,
                 const JudgeOptions& options, double seconds)
{
    // LIMIT: one set of metrics per run — with several targets, listed and checked are those
    // of the worst-listed target; the others' counts are in the text only.
    std::size_t listed = 0;
    std::size_t checked = 0;
    for (const auto& j : judged) {
        listed = std::max(listed, j.result->listings.size());
        checked = std::max(checked, j.result->checked);
    }
    const auto count = [](std::size_t n) { return static_cast<double>(n); };
    report.add_metric({"listed", count(listed), Uom::None, options.thresholds.warning,
                       options.thresholds.critical, 0.0, count(checked)});
    report.add_metric({"checked", count(checked), Uom::None, {}, {}, 0.0, {}});
    report.add_metric({"errors", count(counts.errors), Uom::None, {}, {}, 0.0, {}});
    report.add_metric({"unanswered", count(counts.unanswered), Uom::None, {}, {}, 0.0, {}});
    report.add_metric({"time", seconds, Uom::Seconds, {}, {}, 0.0, {}});
}

std::string join_summary(const std::vector<std::string>& parts)
{
    std::string text;
    for (const auto& part : parts) {
        text += (text.empty() ? "" : "; ") + part;
    }
    return text;
}

} // namespace

Result<Thresholds> parse_count_thresholds(const std::optional<std::string>& warning,
                                          const std::optional<std::string>& critical, Role role)
{
    auto w = parse_count(warning, "-w/--warning", role);
    auto c = parse_count(critical, "-c/--critical", role);
    if (!w || !c) {
        return (!w ? w : c).error();
    }
    Thresholds thresholds{std::move(*w), std::move(*c)};
    if (!warning && !critical) {
        thresholds.warning = parse_count(std::string("1"), "", role).value();
        if (role == Role::Block) {
            thresholds.critical = thresholds.warning;
        }
    }
    return thresholds;
}

Report build_report(const Assessment& assessment, const std::vector<Zone>& zones,
                    const std::vector<TargetFailure>& failures, const JudgeOptions& options,
                    double seconds)
{
    Report report("DNSBL");
    std::vector<std::string> summary;
    for (const auto& failure : failures) {
        report.add_line(failure.state, sanitize(failure.text));
        summary.push_back(sanitize(failure.text));
    }
    const auto judged = judge_all(assessment, zones, options);
    const std::size_t skipped = add_targets(report, summary, judged, zones, options.role);
    if (skipped == judged.size() && failures.empty()) {
        summary.push_back("nothing to check: no zone of this run serves the targets");
        report.raise(State::Unknown);
    }
    const auto counts = count_zones(assessment, zones);
    add_zone_problems(report, assessment, zones, counts, options);
    if (counts.errors + counts.unanswered > options.max_zone_errors || counts.usable == 0) {
        if (!counts.names.empty()) {
            summary.push_back("zone problems: " + counts.names);
        }
    }
    report.set_summary(join_summary(summary));
    add_metrics(report, judged, counts, options, seconds);
    return report;
}

} // namespace mailmon::dnsbl
