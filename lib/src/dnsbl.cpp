// SPDX-License-Identifier: GPL-3.0-or-later
// DNSBL mechanics: answer-code filters, zone specifications and files, query names, answer
// classification, the RFC 5782 self-test, query planning and the reading of the answers.
#include "mailmon/dnsbl.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_map>

namespace mailmon::dnsbl {

namespace {

Result<unsigned> parse_octet_number(std::string_view text)
{
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > 255) {
        return make_error(ErrorKind::Usage, "'" + std::string(text) + "' is not an octet (0-255)");
    }
    return value;
}

// One octet of a filter: "2", or "[2..11;30]".
Result<std::bitset<256>> parse_octet(std::string_view text)
{
    std::bitset<256> set;
    const bool bracketed = text.size() >= 2 && text.front() == '[' && text.back() == ']';
    const auto body = bracketed ? text.substr(1, text.size() - 2) : text;
    std::size_t start = 0;
    while (start <= body.size()) {
        const auto end = bracketed ? std::min(body.find(';', start), body.size()) : body.size();
        const auto item = body.substr(start, end - start);
        const auto dots = item.find("..");
        auto first = parse_octet_number(item.substr(0, dots));
        auto last =
            dots == std::string_view::npos ? first : parse_octet_number(item.substr(dots + 2));
        if (!first || !last) {
            return (!first ? first : last).error();
        }
        if (*first > *last) {
            return make_error(ErrorKind::Usage, "range '" + std::string(item) + "' runs backwards");
        }
        for (unsigned v = *first; v <= *last; ++v) {
            set.set(v);
        }
        start = end + 1;
    }
    return set;
}

// Splits "127.0.[1..2].3" at the dots outside brackets.
std::vector<std::string_view> split_octets(std::string_view text)
{
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    int depth = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        depth += text[i] == '[' ? 1 : text[i] == ']' ? -1 : 0;
        if (text[i] == '.' && depth == 0) {
            parts.push_back(text.substr(start, i - start));
            start = i + 1;
        }
    }
    parts.push_back(text.substr(start));
    return parts;
}

std::string lowercase(std::string_view text)
{
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return lower;
}

bool valid_zone_name(std::string_view name)
{
    if (name.empty() || name.size() > 200 || name.front() == '.' ||
        name.find("..") != std::string_view::npos) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '_' || c == '.';
    });
}

Status apply_flag(Zone& zone, std::string_view flag)
{
    const bool ip_flag = flag == "ipv4" || flag == "ipv6" || flag == "ipv6-only";
    if (ip_flag && zone.kind != ListKind::Ip) {
        return make_error(ErrorKind::Usage, "flag '" + std::string(flag) + "' needs an IP list");
    }
    if (flag == "ipv4") {
        zone.ipv4 = true;
    } else if (flag == "ipv6") {
        zone.ipv6 = true;
    } else if (flag == "ipv6-only") {
        zone.ipv4 = false;
        zone.ipv6 = true;
    } else if (flag == "txt" || flag == "no-txt") {
        zone.txt = flag == "txt";
    } else if (flag == "no-selftest") {
        zone.self_test = false;
    } else if (flag == "warning") {
        zone.worst = State::Warning;
    } else {
        return make_error(ErrorKind::Usage, "unknown flag '" + std::string(flag) +
                                                "' (ipv4, ipv6, ipv6-only, txt, no-txt, "
                                                "no-selftest, warning)");
    }
    return success();
}

// The catalogue's entry for the name, checked against the kind and role asked for.
Result<Zone> base_zone(const std::string& name, ListKind kind, Role role)
{
    auto known = find_zone(name);
    if (!known) {
        Zone zone;
        zone.name = name;
        zone.kind = kind;
        zone.role = role;
        return zone;
    }
    if (known->kind != kind) {
        return make_error(ErrorKind::Usage,
                          name + (known->kind == ListKind::Domain
                                      ? " is a domain list: give it with --domain-zone"
                                      : " is an IP list: give it with --zone"));
    }
    if (known->role != role) {
        return make_error(ErrorKind::Usage,
                          name + (known->role == Role::Allow
                                      ? " is an allowlist: check it with --allowlist"
                                      : " is a blocklist: it cannot be checked with --allowlist"));
    }
    return *known;
}

std::string join_codes(const std::vector<Code>& codes)
{
    std::string text;
    for (const Code code : codes) {
        text += (text.empty() ? "" : ", ") + format_code(code);
    }
    return text;
}

Classification error_for(std::vector<Code> codes, const ErrorCode& error)
{
    return {Verdict::ZoneError, std::move(codes),
            "answered " + format_code(error.code) + ": " + error.meaning, error.hint};
}

// The zone's own error codes first; the common ones unless the zone counts them as listings.
const ErrorCode* find_error(const Zone& zone, Code code)
{
    for (const auto& error : zone.errors) {
        if (error.code == code) {
            return &error;
        }
    }
    for (const auto& error : common_error_codes()) {
        const bool counted = zone.listed.is_explicit() && zone.listed.matches(code);
        if (error.code == code && !counted) {
            return &error;
        }
    }
    return nullptr;
}

bool in_loopback(Code code)
{
    return (code >> 24) == 127;
}

} // namespace

std::optional<Code> parse_code(std::string_view text)
{
    const auto parts = split_octets(text);
    if (parts.size() != 4) {
        return std::nullopt;
    }
    Code code = 0;
    for (const auto part : parts) {
        const auto octet = parse_octet_number(part);
        if (!octet) {
            return std::nullopt;
        }
        code = (code << 8) | *octet;
    }
    return code;
}

std::string format_code(Code code)
{
    return std::to_string(code >> 24) + "." + std::to_string((code >> 16) & 0xFF) + "." +
           std::to_string((code >> 8) & 0xFF) + "." + std::to_string(code & 0xFF);
}

Result<CodeFilter> CodeFilter::parse(std::string_view text)
{
    const auto fail = [&](const std::string& cause) {
        return make_error(ErrorKind::Usage,
                          "invalid answer filter '" + std::string(text) + "': " + cause);
    };
    const auto parts = split_octets(text);
    if (parts.size() != 4) {
        return fail("it needs four octets, like 127.0.0.[2..11]");
    }
    CodeFilter filter;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        auto octet = parse_octet(parts[i]);
        if (!octet) {
            return fail(octet.error().message);
        }
        filter.octets_[i] = *octet;
    }
    filter.text_ = std::string(text);
    return filter;
}

CodeFilter CodeFilter::any_listing()
{
    CodeFilter filter;
    filter.octets_[0].set(127);
    filter.octets_[1].set();
    filter.octets_[2].set();
    filter.octets_[3].set();
    filter.rfc_default_ = true;
    filter.text_ = "127.0.0.0/8 except 127.0.0.0 and 127.0.0.1";
    return filter;
}

bool CodeFilter::matches(Code code) const
{
    if (rfc_default_ && (code & 0xFFFFFFFEU) == 0x7F000000U) {
        return false;
    }
    for (int i = 0; i < 4; ++i) {
        if (!octets_[i].test((code >> (24 - 8 * i)) & 0xFF)) {
            return false;
        }
    }
    return true;
}

Result<Zone> parse_zone_spec(std::string_view spec, ListKind kind, Role role)
{
    const auto fail = [&](const std::string& cause) {
        return make_error(ErrorKind::Usage, "invalid zone '" + std::string(spec) + "': " + cause);
    };
    const auto comma = std::min(spec.find(','), spec.size());
    const auto head = spec.substr(0, comma);
    const auto equals = std::min(head.find('='), head.size());
    std::string name = lowercase(head.substr(0, equals));
    if (!name.empty() && name.back() == '.') {
        name.pop_back();
    }
    if (!valid_zone_name(name)) {
        return fail("'" + name + "' is not a zone name");
    }
    auto zone = base_zone(name, kind, role);
    if (!zone) {
        return fail(zone.error().message);
    }
    if (equals < head.size()) {
        auto listed = CodeFilter::parse(head.substr(equals + 1));
        if (!listed) {
            return fail(listed.error().message);
        }
        zone->listed = std::move(*listed);
    }
    std::size_t start = comma + 1;
    while (start <= spec.size() && comma < spec.size()) {
        const auto end = std::min(spec.find(',', start), spec.size());
        if (auto applied = apply_flag(*zone, spec.substr(start, end - start)); !applied) {
            return fail(applied.error().message);
        }
        start = end + 1;
    }
    return zone;
}

Result<std::vector<Zone>> parse_zones_file(std::string_view content, std::string_view origin,
                                           Role role)
{
    std::vector<Zone> zones;
    std::istringstream lines{std::string(content)};
    std::string line;
    for (int number = 1; std::getline(lines, line); ++number) {
        const auto fail = [&](const std::string& cause) {
            return make_error(ErrorKind::Config, "cannot read zones file '" + std::string(origin) +
                                                     "': line " + std::to_string(number) + ": " +
                                                     cause);
        };
        line = line.substr(0, line.find('#'));
        std::istringstream words(line);
        std::string kind_word;
        std::string spec;
        std::string extra;
        if (!(words >> kind_word)) {
            continue;
        }
        if (!(words >> spec) || (words >> extra) || (kind_word != "ip" && kind_word != "domain")) {
            return fail("expected 'ip SPEC' or 'domain SPEC'");
        }
        auto zone =
            parse_zone_spec(spec, kind_word == "ip" ? ListKind::Ip : ListKind::Domain, role);
        if (!zone) {
            return fail(zone.error().message);
        }
        add_zone(zones, std::move(*zone));
    }
    return zones;
}

Result<std::vector<Zone>> load_zones_file(const std::string& path, Role role)
{
    std::ifstream file(path);
    std::ostringstream content;
    if (!file || !(content << file.rdbuf())) {
        return make_error(ErrorKind::Config,
                          "cannot read zones file '" + path + "': it cannot be opened");
    }
    return parse_zones_file(content.str(), path, role);
}

void add_zone(std::vector<Zone>& zones, Zone zone)
{
    const auto same = [&](const Zone& other) {
        return other.name == zone.name && other.kind == zone.kind;
    };
    if (const auto found = std::find_if(zones.begin(), zones.end(), same); found != zones.end()) {
        *found = std::move(zone);
    } else {
        zones.push_back(std::move(zone));
    }
}

std::optional<std::string> ip_query_name(std::string_view ip, std::string_view zone)
{
    auto labels = dns::reversed_labels(ip);
    if (!labels) {
        return std::nullopt;
    }
    return *labels + "." + std::string(zone);
}

std::string domain_query_name(std::string_view domain, std::string_view zone)
{
    if (!domain.empty() && domain.back() == '.') {
        domain.remove_suffix(1);
    }
    return std::string(domain) + "." + std::string(zone);
}

Classification classify(const Zone& zone, dns::Status status,
                        const std::vector<std::string>& addresses)
{
    if (status == dns::Status::NxDomain || status == dns::Status::NoData) {
        return {Verdict::NotListed, {}, {}, {}};
    }
    if (status != dns::Status::Ok) {
        return {Verdict::Unanswered, {}, dns::to_string(status), {}};
    }
    std::vector<Code> codes;
    for (const auto& address : addresses) {
        const auto code = parse_code(address);
        if (!code) {
            return {Verdict::ZoneError,
                    {},
                    "answered '" + address + "', not an IPv4 address",
                    "a resolver that rewrites answers: use your own resolver"};
        }
        codes.push_back(*code);
    }
    std::sort(codes.begin(), codes.end());
    for (const Code code : codes) {
        if (const auto* error = find_error(zone, code)) {
            return error_for(codes, *error);
        }
    }
    if (!std::all_of(codes.begin(), codes.end(), in_loopback)) {
        return {Verdict::ZoneError, codes,
                "answered " + join_codes(codes) + ", outside 127.0.0.0/8",
                "the resolver rewrites NXDOMAIN (advertising or filtering resolver): use your "
                "own resolver"};
    }
    const bool listed = std::any_of(codes.begin(), codes.end(),
                                    [&](Code code) { return zone.listed.matches(code); });
    return {codes.empty() ? Verdict::NotListed
            : listed      ? Verdict::Listed
                          : Verdict::Filtered,
            codes,
            {},
            {}};
}

ZoneHealth judge_self_test(const Classification& listed, const Classification& unlisted,
                           std::string_view listed_name, std::string_view unlisted_name)
{
    for (const auto* probe : {&listed, &unlisted}) {
        if (probe->verdict == Verdict::ZoneError) {
            return {Health::Error, probe->problem, probe->hint};
        }
    }
    for (const auto* probe : {&listed, &unlisted}) {
        if (probe->verdict == Verdict::Unanswered) {
            return {Health::Unanswered, probe->problem, {}};
        }
    }
    const char* const hint = "its answers are ignored; drop the zone or check it by hand";
    if (listed.verdict == Verdict::NotListed) {
        return {Health::Broken,
                "does not list the RFC 5782 test entry " + std::string(listed_name) +
                    ": dead, not a DNSBL, or blocking this resolver",
                hint};
    }
    if (unlisted.verdict != Verdict::NotListed) {
        return {Health::Broken,
                "lists " + std::string(unlisted_name) + " (answered " + join_codes(unlisted.codes) +
                    "), which RFC 5782 forbids: dead or wildcarded",
                hint};
    }
    return {};
}

} // namespace mailmon::dnsbl
