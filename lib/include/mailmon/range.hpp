// SPDX-License-Identifier: GPL-3.0-or-later
// Nagios threshold ranges ("10", "10:", "~:10", "10:20", "@10:20") parsed once, strictly, and
// evaluated many times; and the warning/critical pair built on them.
#pragma once

#include "mailmon/result.hpp"
#include "mailmon/state.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace mailmon {

// An interval [start, end] with optional infinite ends. A value alerts when it lies outside
// the interval, or, for an inverted range ("@"), inside it (Monitoring Plugins guidelines).
class Range {
public:
    // Parses the full syntax: "[@]start:end" with start <= end, "~" for minus infinity, an
    // empty end for plus infinity, start 0 when only "end" is given; decimals and negatives.
    // Anything else (trailing text, exponents, "inf", start > end) is a Usage error whose
    // message says what is wrong, without naming the option (the caller adds that).
    static Result<Range> parse(std::string_view text);

    // Alert when the value is below `minimum` ("minimum:"), e.g. days left on a certificate.
    static Range below(double minimum);
    // Alert when the value is at least `minimum` ("@minimum:"), e.g. blocklist listings.
    static Range at_least(double minimum);

    bool alerts(double value) const;

    // The range as Nagios syntax: the user's text if parsed, else the canonical form.
    const std::string& text() const { return text_; }
    // The form for perfdata warn/crit fields: a plain number for a simple upper bound, which
    // Icinga 2 parses as a number; otherwise the range text unchanged (CONVENTIONS.md 1.3).
    std::string perfdata() const;

private:
    Range(std::optional<double> start, std::optional<double> end, bool inside, std::string text);

    std::optional<double> start_; // nullopt: minus infinity
    std::optional<double> end_; // nullopt: plus infinity
    bool inside_ = false; // "@": alert inside the interval instead of outside
    std::string text_;
};

// The -w/-c pair. Critical is evaluated first, then warning (CONVENTIONS.md 1.4).
struct Thresholds {
    std::optional<Range> warning;
    std::optional<Range> critical;

    State evaluate(double value) const;
};

// Parses the values of -w and -c; either may be absent. Errors name the option:
// "invalid -w/--warning '1x': unexpected text 'x' after the number".
Result<Thresholds> parse_thresholds(const std::optional<std::string>& warning,
                                    const std::optional<std::string>& critical);

} // namespace mailmon
