// SPDX-License-Identifier: GPL-3.0-or-later
#include "mailmon/perfdata.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <string_view>

namespace mailmon {

const char* unit_suffix(Uom unit)
{
    switch (unit) {
    case Uom::None:
        return "";
    case Uom::Seconds:
        return "s";
    case Uom::Milliseconds:
        return "ms";
    case Uom::Percent:
        return "%";
    case Uom::Bytes:
        return "B";
    case Uom::Counter:
        return "c";
    }
    return "";
}

std::optional<std::string> format_number(double value)
{
    if (!std::isfinite(value)) {
        return std::nullopt;
    }
    // to_chars ignores the locale, so a German LC_NUMERIC cannot turn "." into ",".
    std::array<char, 400> buffer{};
    const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value,
                                         std::chars_format::fixed, 6);
    if (ec != std::errc()) {
        return std::nullopt;
    }
    // Fixed notation always has a '.', so trimming zeros stops at it at the latest.
    std::string_view text(buffer.data(), static_cast<std::size_t>(end - buffer.data()));
    while (text.back() == '0') {
        text.remove_suffix(1);
    }
    if (text.back() == '.') {
        text.remove_suffix(1);
    }
    return std::string(text == "-0" ? "0" : text);
}

std::string format_label(std::string_view label)
{
    std::string clean;
    bool needs_quotes = label.empty();
    for (const char c : label) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' || c == '/';
        needs_quotes = needs_quotes || !plain;
        clean +=
            (c == '=' || c == '\'' || c == '|' || static_cast<unsigned char>(c) < 0x20) ? '_' : c;
    }
    return needs_quotes ? "'" + clean + "'" : clean;
}

namespace {

std::string optional_number(const std::optional<double>& value)
{
    return value ? format_number(*value).value_or("") : "";
}

std::string optional_range(const std::optional<Range>& range)
{
    return range ? range->perfdata() : "";
}

} // namespace

std::optional<std::string> format_metric(const Metric& metric)
{
    const auto value = format_number(metric.value);
    if (!value) {
        return std::nullopt;
    }
    std::string item = format_label(metric.label) + "=" + *value + unit_suffix(metric.unit);
    const std::array<std::string, 4> fields{
        optional_range(metric.warning), optional_range(metric.critical),
        optional_number(metric.min), optional_number(metric.max)};

    // Trailing empty fields are dropped, as the guideline allows.
    std::size_t used = fields.size();
    while (used > 0 && fields[used - 1].empty()) {
        --used;
    }
    for (std::size_t i = 0; i < used; ++i) {
        item += ";" + fields[i];
    }
    return item;
}

} // namespace mailmon
