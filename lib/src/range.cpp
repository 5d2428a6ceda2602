// SPDX-License-Identifier: GPL-3.0-or-later
#include "mailmon/range.hpp"

#include "mailmon/perfdata.hpp"

#include <charconv>
#include <cmath>

namespace mailmon {

namespace {

bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

// Strict decimal: optional '-', digits, optional '.' and digits. from_chars alone would also
// take exponents, "inf" and "nan", which no threshold needs.
Result<double> parse_number(std::string_view text)
{
    if (text.empty()) {
        return make_error(ErrorKind::Usage, "a number is missing");
    }
    std::size_t i = text[0] == '-' ? 1 : 0;
    const std::size_t int_start = i;
    while (i < text.size() && is_digit(text[i])) {
        ++i;
    }
    bool has_digits = i > int_start;
    if (i < text.size() && text[i] == '.') {
        const std::size_t frac_start = ++i;
        while (i < text.size() && is_digit(text[i])) {
            ++i;
        }
        has_digits = has_digits || i > frac_start;
    }
    if (!has_digits) {
        return make_error(ErrorKind::Usage, "'" + std::string(text) + "' is not a number");
    }
    if (i != text.size()) {
        return make_error(ErrorKind::Usage,
                          "unexpected text '" + std::string(text.substr(i)) + "' after the number");
    }
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
        return make_error(ErrorKind::Usage, "'" + std::string(text) + "' is out of range");
    }
    return value;
}

} // namespace

Range::Range(std::optional<double> start, std::optional<double> end, bool inside, std::string text)
    : start_(start), end_(end), inside_(inside), text_(std::move(text))
{
}

Result<Range> Range::parse(std::string_view text)
{
    const std::string original(text);
    const bool inside = !text.empty() && text[0] == '@';
    if (inside) {
        text.remove_prefix(1);
    }
    if (text.empty()) {
        return make_error(ErrorKind::Usage, "the range is empty");
    }

    const auto colon = text.find(':');
    if (colon == std::string_view::npos) {
        auto end = parse_number(text);
        if (!end) {
            return end.error();
        }
        if (*end < 0) {
            return make_error(ErrorKind::Usage, "the start is greater than the end");
        }
        return Range(0.0, *end, inside, original);
    }

    const auto start_text = text.substr(0, colon);
    const auto end_text = text.substr(colon + 1);
    if (start_text.empty()) {
        return make_error(ErrorKind::Usage,
                          "the start before ':' is missing (write 0:N, or ~:N for no lower bound)");
    }
    std::optional<double> start;
    if (start_text != "~") {
        auto parsed = parse_number(start_text);
        if (!parsed) {
            return parsed.error();
        }
        start = *parsed;
    }
    std::optional<double> end;
    if (!end_text.empty()) {
        auto parsed = parse_number(end_text);
        if (!parsed) {
            return parsed.error();
        }
        end = *parsed;
    }
    if (start && end && *start > *end) {
        return make_error(ErrorKind::Usage, "the start is greater than the end");
    }
    return Range(start, end, inside, original);
}

Range Range::below(double minimum)
{
    return Range(minimum, std::nullopt, false, format_number(minimum).value_or("0") + ":");
}

Range Range::at_least(double minimum)
{
    return Range(minimum, std::nullopt, true, "@" + format_number(minimum).value_or("0") + ":");
}

bool Range::alerts(double value) const
{
    const bool within = (!start_ || value >= *start_) && (!end_ || value <= *end_);
    return inside_ ? within : !within;
}

std::string Range::perfdata() const
{
    const bool simple_upper_bound = !inside_ && start_ && *start_ == 0 && end_;
    if (simple_upper_bound) {
        return format_number(*end_).value_or(text_);
    }
    return text_;
}

State Thresholds::evaluate(double value) const
{
    if (critical && critical->alerts(value)) {
        return State::Critical;
    }
    if (warning && warning->alerts(value)) {
        return State::Warning;
    }
    return State::Ok;
}

namespace {

Result<std::optional<Range>> parse_option(const std::optional<std::string>& text,
                                          std::string_view option)
{
    if (!text) {
        return std::optional<Range>();
    }
    auto range = Range::parse(*text);
    if (!range) {
        return make_error(ErrorKind::Usage, "invalid " + std::string(option) + " '" + *text +
                                                "': " + range.error().message);
    }
    return std::optional<Range>(*range);
}

} // namespace

Result<Thresholds> parse_thresholds(const std::optional<std::string>& warning,
                                    const std::optional<std::string>& critical)
{
    auto parsed_warning = parse_option(warning, "-w/--warning");
    if (!parsed_warning) {
        return parsed_warning.error();
    }
    auto parsed_critical = parse_option(critical, "-c/--critical");
    if (!parsed_critical) {
        return parsed_critical.error();
    }
    return Thresholds{*parsed_warning, *parsed_critical};
}

} // namespace mailmon
