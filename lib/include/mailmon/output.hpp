// SPDX-License-Identifier: GPL-3.0-or-later
// The one place that writes plugin output. A Report collects the state, summary, long-output
// lines and metrics of a run and is printed once, as Nagios text or as JSON; Diagnostics
// writes the -v lines to stderr. Remote text is passed through sanitize() before it gets here.
#pragma once

#include "mailmon/perfdata.hpp"
#include "mailmon/state.hpp"

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace mailmon {

enum class OutputFormat { Nagios, Json };

// Text from the network made safe for plugin output: '|' becomes '/', line breaks, tabs and
// other control bytes become a space or '?', invalid UTF-8 becomes '?', and anything longer
// than `max_chars` characters is cut with a trailing "...". Never returns a newline or a '|'.
std::string sanitize(std::string_view remote, std::size_t max_chars = 160);

// "'text'" for a remote string in a message, sanitised.
std::string quoted(std::string_view remote, std::size_t max_chars = 160);

struct ReportLine {
    State state = State::Ok;
    std::string text;
};

class Report {
public:
    // `name` is the status-line name: "MX", "SMTP_TLS", "MAIL_CERT", "DNSBL".
    explicit Report(std::string name) : name_(std::move(name)) {}

    // A long-output line for one sub-result; its state also raises the report's state.
    void add_line(State state, std::string text);
    // Raises the state without a line (the summary carries the reason).
    void raise(State state) { state_ = worst(state_, state); }
    void set_summary(std::string summary) { summary_ = std::move(summary); }
    void add_metric(Metric metric) { metrics_.push_back(std::move(metric)); }

    State state() const { return state_; }
    const std::string& summary() const { return summary_; }
    const std::vector<ReportLine>& lines() const { return lines_; }

    // "NAME STATE - summary | perfdata" then one long-output line each. All perfdata sits on
    // the first line, because Nagios 4 would read any later '|' as perfdata too.
    std::string to_text() const;
    // {"name","state","exit_code","summary","long_output":[{"state","text"}],"metrics":[...]}
    std::string to_json() const;

private:
    std::string name_;
    State state_ = State::Ok;
    std::string summary_;
    std::vector<ReportLine> lines_;
    std::vector<Metric> metrics_;
};

// Prints the report to stdout in the chosen format and returns its exit code. Only the first
// call in a process prints: a later one (the watchdog racing a late finish) returns at once.
int emit(const Report& report, OutputFormat format);

// Prints plain text (help, version) to stdout and returns `code`; same once-only rule.
int emit_text(std::string_view text, int code);

// Diagnostics on stderr by -v level: nothing at 0, so the scheduler sees only the report.
// Lines are key=value pairs ("step=connect host=127.0.0.1 port=25 ms=0.4 result=ok").
// Thread-safe: probes running in parallel threads share one instance.
class Diagnostics {
public:
    explicit Diagnostics(int verbosity) : verbosity_(verbosity) {}

    int verbosity() const { return verbosity_; }
    bool enabled(int level) const { return verbosity_ >= level; }
    void note(int level, std::string_view line);

private:
    int verbosity_;
    std::mutex mutex_;
};

} // namespace mailmon
