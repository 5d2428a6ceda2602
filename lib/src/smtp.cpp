// SPDX-License-Identifier: GPL-3.0-or-later
// SMTP reply parsing, EHLO capabilities and probe_smtp, the shared client dialogue.
#include "mailmon/smtp.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace mailmon {

namespace {

bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool is_alnum(char c)
{
    return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

// Enough of a bad line to recognise it in a message.
std::string excerpt(std::string_view line)
{
    constexpr std::size_t shown = 64;
    return "'" + std::string(line.substr(0, shown)) + (line.size() > shown ? "...'" : "'");
}

std::string upper(std::string_view text)
{
    std::string result(text);
    std::transform(result.begin(), result.end(), result.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return result;
}

// A 1-3 digit number at the start of text; returns how many digits it took (0: none).
std::size_t status_number(std::string_view text)
{
    std::size_t count = 0;
    while (count < text.size() && count < 4 && is_digit(text[count])) {
        ++count;
    }
    return count <= 3 ? count : 0;
}

// RFC 3463 §2: class "." subject "." detail, the class matching the reply code's first digit.
std::string enhanced_code(std::string_view text, int code)
{
    if (text.size() < 5 || text[0] != static_cast<char>('0' + code / 100) || text[1] != '.') {
        return {};
    }
    const std::size_t subject = status_number(text.substr(2));
    if (subject == 0 || 2 + subject >= text.size() || text[2 + subject] != '.') {
        return {};
    }
    const std::size_t detail = status_number(text.substr(3 + subject));
    const std::size_t end = 3 + subject + detail;
    if (detail == 0 || (end < text.size() && text[end] != ' ')) {
        return {};
    }
    return std::string(text.substr(0, end));
}

// Adds one line to a reply being built. Returns the cause of a Protocol error, or empty.
std::string add_reply_line(Reply& reply, std::string_view line, bool& last)
{
    if (line.size() > LineReader::default_cap) {
        return "reply line longer than " + std::to_string(LineReader::default_cap) + " octets";
    }
    if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2]) ||
        line[0] < '2' || line[0] > '5') {
        return "not an SMTP reply line: " + excerpt(line);
    }
    if (line.size() > 3 && line[3] != ' ' && line[3] != '-') {
        return "no space after the reply code: " + excerpt(line);
    }
    int code = 0;
    std::from_chars(line.data(), line.data() + 3, code);
    if (!reply.lines.empty() && code != reply.code) {
        return "reply code " + std::to_string(code) + " follows " + std::to_string(reply.code) +
               " in one reply";
    }
    if (reply.lines.size() >= max_reply_lines) {
        return "reply longer than " + std::to_string(max_reply_lines) + " lines";
    }
    last = line.size() == 3 || line[3] == ' ';
    const std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view{};
    if (reply.lines.empty()) {
        reply.code = code;
        reply.enhanced_code = enhanced_code(text, code);
    }
    reply.lines.emplace_back(text);
    return {};
}

} // namespace

std::string Reply::text() const
{
    std::string joined;
    for (const std::string& line : lines) {
        joined += (joined.empty() ? "" : " ") + line;
    }
    return joined;
}

Result<Reply> parse_reply(const std::vector<std::string>& lines)
{
    Reply reply;
    bool last = false;
    for (const std::string& line : lines) {
        if (last) {
            return make_error(ErrorKind::Protocol,
                              "cannot parse SMTP reply: a line follows the last one");
        }
        const std::string cause = add_reply_line(reply, line, last);
        if (!cause.empty()) {
            return make_error(ErrorKind::Protocol, "cannot parse SMTP reply: " + cause);
        }
    }
    if (!last) {
        return make_error(ErrorKind::Protocol,
                          lines.empty() ? "cannot parse SMTP reply: it is empty"
                                        : "cannot parse SMTP reply: the last line is missing");
    }
    return reply;
}

Result<Reply> parse_reply(std::string_view text)
{
    std::vector<std::string> lines;
    while (!text.empty()) {
        const std::size_t newline = text.find('\n');
        std::string_view line = text.substr(0, newline);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        lines.emplace_back(line);
        text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    }
    return parse_reply(lines);
}

Result<Reply> read_reply(LineReader& reader, const Deadline& deadline)
{
    Reply reply;
    bool last = false;
    while (!last) {
        auto line = reader.read_line(deadline);
        if (!line) {
            return line.error();
        }
        const std::string cause = add_reply_line(reply, line.value(), last);
        if (!cause.empty()) {
            return make_error(ErrorKind::Protocol,
                              "cannot parse reply from " + reader.stream().peer() + ": " + cause);
        }
    }
    return reply;
}

bool Capabilities::has(std::string_view keyword) const
{
    return keywords.count(upper(keyword)) != 0;
}

std::vector<std::string> Capabilities::params(std::string_view keyword) const
{
    const auto found = keywords.find(upper(keyword));
    return found == keywords.end() ? std::vector<std::string>{} : found->second;
}

std::optional<std::uint64_t> Capabilities::size_limit() const
{
    if (!has("SIZE")) {
        return std::nullopt;
    }
    const std::vector<std::string> values = params("SIZE");
    std::uint64_t limit = 0;
    if (!values.empty()) {
        const std::string& value = values.front();
        std::from_chars(value.data(), value.data() + value.size(), limit);
    }
    return limit;
}

namespace {

bool valid_keyword(std::string_view keyword)
{
    return !keyword.empty() && is_alnum(keyword.front()) &&
           std::all_of(keyword.begin(), keyword.end(),
                       [](char c) { return is_alnum(c) || c == '-'; });
}

std::vector<std::string> split_words(std::string_view text)
{
    std::vector<std::string> words;
    while (!text.empty()) {
        const std::size_t space = text.find(' ');
        if (space != 0) {
            words.emplace_back(text.substr(0, space));
        }
        text.remove_prefix(space == std::string_view::npos ? text.size() : space + 1);
    }
    return words;
}

} // namespace

Capabilities parse_ehlo(const Reply& reply)
{
    Capabilities capabilities;
    if (reply.lines.empty()) {
        return capabilities;
    }
    capabilities.greeting = reply.lines.front();
    for (std::size_t index = 1; index < reply.lines.size(); ++index) {
        std::vector<std::string> words = split_words(reply.lines[index]);
        if (words.empty() || !valid_keyword(words.front())) {
            continue;
        }
        const std::string keyword = upper(words.front());
        words.erase(words.begin());
        capabilities.keywords[keyword] = std::move(words);
    }
    return capabilities;
}

const char* to_string(Phase phase)
{
    switch (phase) {
    case Phase::Connect:
        return "connect";
    case Phase::Banner:
        return "banner";
    case Phase::Ehlo:
        return "ehlo";
    case Phase::StartTls:
        return "starttls";
    case Phase::Handshake:
        return "handshake";
    case Phase::EhloAfterTls:
        return "ehlo-after-tls";
    case Phase::Quit:
        return "quit";
    }
    return "connect";
}

std::optional<double> ProbeResult::seconds(Phase phase) const
{
    for (const PhaseTime& timing : timings) {
        if (timing.phase == phase) {
            return timing.seconds;
        }
    }
    return std::nullopt;
}

} // namespace mailmon
