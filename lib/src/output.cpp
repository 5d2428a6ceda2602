// SPDX-License-Identifier: GPL-3.0-or-later
// The only translation unit that writes to stdout and stderr.
#include "mailmon/output.hpp"

#include <atomic>
#include <cstdio>
#include <iostream>

namespace mailmon {

namespace {

// Length of the UTF-8 sequence starting at text[i], or 0 when it is not well formed
// (overlong forms and surrogates are not rejected: they render harmlessly).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i)
{
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
    } else {
        return 0;
    }
    if (i + length > text.size()) {
        return 0;
    }
    for (std::size_t k = 1; k < length; ++k) {
        if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) {
            return 0;
        }
    }
    return length;
}

} // namespace

std::string sanitize(std::string_view remote, std::size_t max_chars)
{
    std::string clean;
    std::size_t chars = 0;
    std::size_t i = 0;
    while (i < remote.size()) {
        if (chars == max_chars) {
            clean += "...";
            break;
        }
        const auto byte = static_cast<unsigned char>(remote[i]);
        if (byte >= 0x80) {
            const std::size_t length = utf8_sequence_length(remote, i);
            clean += length == 0 ? std::string("?") : std::string(remote.substr(i, length));
            i += length == 0 ? 1 : length;
        } else {
            const bool whitespace = byte == '\t' || byte == '\r' || byte == '\n';
            clean += byte == '|'                   ? '/'
                     : whitespace                  ? ' '
                     : byte < 0x20 || byte == 0x7F ? '?'
                                                   : static_cast<char>(byte);
            ++i;
        }
        ++chars;
    }
    return clean;
}

std::string quoted(std::string_view remote, std::size_t max_chars)
{
    return "'" + sanitize(remote, max_chars) + "'";
}

void Report::add_line(State state, std::string text)
{
    raise(state);
    lines_.push_back(ReportLine{state, std::move(text)});
}

std::string Report::to_text() const
{
    std::string text = name_ + " " + to_string(state_) + " - " + summary_;
    std::string perfdata;
    for (const auto& metric : metrics_) {
        if (const auto item = format_metric(metric)) {
            perfdata += (perfdata.empty() ? "" : " ") + *item;
        }
    }
    if (!perfdata.empty()) {
        text += " | " + perfdata;
    }
    text += '\n';
    for (const auto& line : lines_) {
        text += line.text + '\n';
    }
    return text;
}

namespace {

std::string json_string(std::string_view text)
{
    std::string out = "\"";
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\u00";
            out += hex[byte >> 4];
            out += hex[byte & 0x0F];
        } else {
            out += c;
        }
    }
    return out + "\"";
}

std::string json_number_or_null(const std::optional<double>& value)
{
    return value ? format_number(*value).value_or("null") : "null";
}

std::string json_range_or_null(const std::optional<Range>& range)
{
    return range ? json_string(range->text()) : "null";
}

std::string metric_json(const Metric& metric, const std::string& value)
{
    return "{\"label\":" + json_string(metric.label) + ",\"value\":" + value +
           ",\"unit\":" + json_string(unit_suffix(metric.unit)) +
           ",\"warning\":" + json_range_or_null(metric.warning) +
           ",\"critical\":" + json_range_or_null(metric.critical) +
           ",\"min\":" + json_number_or_null(metric.min) +
           ",\"max\":" + json_number_or_null(metric.max) + "}";
}

} // namespace

std::string Report::to_json() const
{
    std::string lines;
    for (const auto& line : lines_) {
        lines += (lines.empty() ? "" : ",") + std::string("{\"state\":") +
                 json_string(to_string(line.state)) + ",\"text\":" + json_string(line.text) + "}";
    }
    std::string metrics;
    for (const auto& metric : metrics_) {
        if (const auto value = format_number(metric.value)) {
            metrics += (metrics.empty() ? "" : ",") + metric_json(metric, *value);
        }
    }
    return "{\"name\":" + json_string(name_) + ",\"state\":" + json_string(to_string(state_)) +
           ",\"exit_code\":" + std::to_string(exit_code(state_)) +
           ",\"summary\":" + json_string(summary_) + ",\"long_output\":[" + lines +
           "],\"metrics\":[" + metrics + "]}\n";
}

namespace {

// Set by the first writer. The watchdog thread and a late-finishing main thread may both try
// to print; the plugin contract allows exactly one report.
std::atomic_flag printed = ATOMIC_FLAG_INIT;

} // namespace

int emit_text(std::string_view text, int code)
{
    if (printed.test_and_set()) {
        return code;
    }
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return code;
}

int emit(const Report& report, OutputFormat format)
{
    const std::string text = format == OutputFormat::Json ? report.to_json() : report.to_text();
    return emit_text(text, exit_code(report.state()));
}

void Diagnostics::note(int level, std::string_view line)
{
    if (!enabled(level)) {
        return;
    }
    const std::lock_guard lock(mutex_);
    std::cerr << line << '\n';
}

} // namespace mailmon
