// SPDX-License-Identifier: GPL-3.0-or-later
// The dnsbl module from tables: query names, answer filters, classification, the RFC 5782
// self-test, zone specifications and files, query planning, and the judgement of whole runs
// from answers built by hand.
#include "mailmon/dnsbl.hpp"

#include <doctest/doctest.h>
#include <map>
#include <string>
#include <vector>

using namespace mailmon::dnsbl;
using mailmon::ErrorKind;
using mailmon::State;
namespace dns = mailmon::dns;

namespace {

Zone zone_of(const char* spec, ListKind kind = ListKind::Ip, Role role = Role::Block)
{
    auto zone = parse_zone_spec(spec, kind, role);
    REQUIRE_MESSAGE(zone.ok(), spec);
    return *zone;
}

} // namespace

TEST_CASE("dnsbl: query names reverse IPv4 octets and IPv6 nibbles")
{
    const std::vector<std::pair<const char*, const char*>> cases{
        {"192.0.2.99", "99.2.0.192.bl.example"},
        {"127.0.0.2", "2.0.0.127.bl.example"},
        {"2001:db8::1",
         "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example"},
        {"::ffff:7f00:2",
         "2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.bl.example"},
    };
    for (const auto& [ip, name] : cases) {
        CAPTURE(ip);
        CHECK(ip_query_name(ip, "bl.example") == std::optional<std::string>(name));
    }
    for (const char* bad : {"", "192.0.2", "192.0.2.256", "example.org", "2001:db8::g"}) {
        CAPTURE(bad);
        CHECK_FALSE(ip_query_name(bad, "bl.example"));
    }
    CHECK(domain_query_name("Example.org.", "dbl.example") == "Example.org.dbl.example");
    CHECK(domain_query_name("test", "dbl.example") == "test.dbl.example");
}

TEST_CASE("dnsbl: answer codes parse as dotted quads only")
{
    CHECK(parse_code("127.0.0.2") == std::optional<Code>(0x7F000002));
    CHECK(parse_code("255.255.255.255") == std::optional<Code>(0xFFFFFFFF));
    for (const char* bad : {"", "127.0.0", "127.0.0.2.1", "127.0.0.256", "127.0.0.-1", "a.b.c.d",
                            "127.0.0.2 ", "127..0.2"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_code(bad));
    }
    CHECK(format_code(0x7FFFFFFE) == "127.255.255.254");
}

namespace {

struct FilterCase {
    const char* filter;
    const char* code;
    bool matches;
};

} // namespace

TEST_CASE("dnsbl: postscreen-style filters match octet by octet")
{
    const std::vector<FilterCase> cases{
        {"127.0.0.2", "127.0.0.2", true},
        {"127.0.0.2", "127.0.0.3", false},
        {"127.0.0.[2..11]", "127.0.0.2", true},
        {"127.0.0.[2..11]", "127.0.0.11", true},
        {"127.0.0.[2..11]", "127.0.0.12", false},
        {"127.0.0.[2..11;30]", "127.0.0.30", true},
        {"127.0.0.[2..11;30]", "127.0.0.29", false},
        {"127.0.[1..2].[2;4]", "127.0.2.4", true},
        {"127.0.[1..2].[2;4]", "127.0.3.4", false},
        {"127.0.[1..2].[2;4]", "127.0.1.3", false},
        {"127.[0..255].[0..255].[0..255]", "127.255.255.254", true},
        {"127.0.0.[0..255]", "128.0.0.2", false},
    };
    for (const auto& c : cases) {
        CAPTURE(c.filter);
        CAPTURE(c.code);
        const auto filter = CodeFilter::parse(c.filter);
        REQUIRE(filter.ok());
        CHECK(filter->matches(*parse_code(c.code)) == c.matches);
        CHECK(filter->text() == c.filter);
        CHECK(filter->is_explicit());
    }
}

TEST_CASE("dnsbl: the RFC 5782 default filter counts 127/8 except .0 and .1")
{
    const auto any = CodeFilter::any_listing();
    CHECK_FALSE(any.is_explicit());
    CHECK(any.matches(*parse_code("127.0.0.2")));
    CHECK(any.matches(*parse_code("127.1.0.1")));
    CHECK_FALSE(any.matches(*parse_code("127.0.0.1")));
    CHECK_FALSE(any.matches(*parse_code("127.0.0.0")));
    CHECK_FALSE(any.matches(*parse_code("10.0.0.2")));
}

TEST_CASE("dnsbl: malformed filters are rejected with the reason")
{
    const std::vector<std::pair<const char*, const char*>> cases{
        {"", "four octets"},
        {"127.0.0", "four octets"},
        {"127.0.0.2.3", "four octets"},
        {"127.0.0.[2..11", "not an octet"},
        {"127.0.0.[]", "not an octet"},
        {"127.0.0.[11..2]", "runs backwards"},
        {"127.0.0.256", "not an octet"},
        {"127.0.0.[2;;3]", "not an octet"},
        {"127.0.0.*", "not an octet"},
    };
    for (const auto& [text, reason] : cases) {
        CAPTURE(text);
        const auto filter = CodeFilter::parse(text);
        REQUIRE_FALSE(filter.ok());
        CHECK(filter.error().kind == ErrorKind::Usage);
        CHECK(filter.error().message.find(reason) != std::string::npos);
    }
}

TEST_CASE("dnsbl: every prefix of a filter parses or fails cleanly")
{
    const std::string full = "127.0.[1..2].[2..11;30;40..41]";
    for (std::size_t n = 0; n <= full.size(); ++n) {
        const auto filter = CodeFilter::parse(full.substr(0, n));
        CHECK((filter.ok() || filter.error().kind == ErrorKind::Usage));
    }
}

namespace {

struct ClassifyCase {
    const char* zone; // spec for parse_zone_spec
    ListKind kind;
    dns::Status status;
    std::vector<std::string> addresses;
    Verdict verdict;
    const char* problem; // substring of Classification::problem, "" for none
};

} // namespace

TEST_CASE("dnsbl: answers are classified listed, filtered, clean, zone error or unanswered")
{
    using S = dns::Status;
    const auto ip = ListKind::Ip;
    const auto domain = ListKind::Domain;
    const std::vector<ClassifyCase> cases{
        {"bl.example", ip, S::Ok, {"127.0.0.2"}, Verdict::Listed, ""},
        {"bl.example", ip, S::Ok, {"127.0.0.4", "127.0.0.10"}, Verdict::Listed, ""},
        {"bl.example", ip, S::NxDomain, {}, Verdict::NotListed, ""},
        {"bl.example", ip, S::NoData, {}, Verdict::NotListed, ""},
        {"bl.example", ip, S::Ok, {"127.0.0.1"}, Verdict::Filtered, ""},
        {"bl.example=127.0.0.[2..3]", ip, S::Ok, {"127.0.0.4"}, Verdict::Filtered, ""},
        {"bl.example=127.0.0.[2..3]", ip, S::Ok, {"127.0.0.4", "127.0.0.3"}, Verdict::Listed, ""},
        // Documented error codes are never listings, even on a zone that lists everything.
        {"bl.example", ip, S::Ok, {"127.255.255.254"}, Verdict::ZoneError, "public or open"},
        {"bl.example", ip, S::Ok, {"127.255.255.252"}, Verdict::ZoneError, "typing error"},
        {"bl.example", ip, S::Ok, {"127.255.255.255"}, Verdict::ZoneError, "excessive"},
        {"bl.example", ip, S::Ok, {"127.0.0.2", "127.255.255.254"}, Verdict::ZoneError, "public"},
        // ...unless the user's own filter counts them.
        {"bl.example=127.255.255.254", ip, S::Ok, {"127.255.255.254"}, Verdict::Listed, ""},
        {"zen.spamhaus.org", ip, S::Ok, {"127.0.0.4"}, Verdict::Listed, ""},
        {"zen.spamhaus.org", ip, S::Ok, {"127.0.0.12"}, Verdict::Filtered, ""},
        {"zen.spamhaus.org", ip, S::Ok, {"127.255.255.254"}, Verdict::ZoneError, "resolver"},
        {"dbl.spamhaus.org", domain, S::Ok, {"127.0.1.2"}, Verdict::Listed, ""},
        {"dbl.spamhaus.org", domain, S::Ok, {"127.0.1.255"}, Verdict::ZoneError, "IP address"},
        {"multi.uribl.com", domain, S::Ok, {"127.0.0.1"}, Verdict::ZoneError, "refused"},
        {"multi.uribl.com", domain, S::Ok, {"127.0.0.4"}, Verdict::Filtered, ""},
        {"list.dnswl.org", ip, S::Ok, {"127.0.0.255"}, Verdict::ZoneError, "refused"},
        // A resolver that rewrites NXDOMAIN answers with its own web server.
        {"bl.example", ip, S::Ok, {"192.0.2.80"}, Verdict::ZoneError, "outside 127.0.0.0/8"},
        {"bl.example", ip, S::Ok, {"127.0.0.2", "192.0.2.80"}, Verdict::ZoneError, "outside"},
        {"bl.example", ip, S::Ok, {"2001:db8::1"}, Verdict::ZoneError, "not an IPv4"},
        {"bl.example", ip, S::Timeout, {}, Verdict::Unanswered, "timeout"},
        {"bl.example", ip, S::ServFail, {}, Verdict::Unanswered, "servfail"},
        {"bl.example", ip, S::Refused, {}, Verdict::Unanswered, "refused"},
        {"bl.example", ip, S::Unreachable, {}, Verdict::Unanswered, ""},
        {"bl.example", ip, S::Malformed, {}, Verdict::Unanswered, ""},
    };
    for (const auto& c : cases) {
        const Role role = std::string(c.zone) == "list.dnswl.org" ? Role::Allow : Role::Block;
        const auto zone = zone_of(c.zone, c.kind, role);
        const auto result = classify(zone, c.status, c.addresses);
        CAPTURE(c.zone);
        CAPTURE(c.addresses.empty() ? std::string("-") : c.addresses.front());
        CHECK(result.verdict == c.verdict);
        CHECK(result.problem.find(c.problem) != std::string::npos);
        CHECK(result.hint.empty() == (c.verdict != Verdict::ZoneError));
    }
}

namespace {

Classification verdict(Verdict v, std::vector<Code> codes = {})
{
    return {v, std::move(codes), v == Verdict::Unanswered ? "timeout" : "", ""};
}

struct SelfTestCase {
    Classification listed;
    Classification unlisted;
    Health health;
    const char* problem;
};

} // namespace

TEST_CASE("dnsbl: the RFC 5782 self-test finds dead, wildcarded and silent zones")
{
    const Classification error{Verdict::ZoneError, {0x7FFFFFFE}, "answered 127.255.255.254", "x"};
    const std::vector<SelfTestCase> cases{
        {verdict(Verdict::Listed), verdict(Verdict::NotListed), Health::Usable, ""},
        {verdict(Verdict::Filtered), verdict(Verdict::NotListed), Health::Usable, ""},
        {verdict(Verdict::NotListed), verdict(Verdict::NotListed), Health::Broken,
         "does not list the RFC 5782 test entry 127.0.0.2"},
        {verdict(Verdict::Listed), verdict(Verdict::Listed, {0x7F000002}), Health::Broken,
         "lists 127.0.0.1 (answered 127.0.0.2)"},
        {verdict(Verdict::Listed), verdict(Verdict::Filtered, {0x7F000001}), Health::Broken,
         "lists 127.0.0.1"},
        {error, error, Health::Error, "127.255.255.254"},
        {verdict(Verdict::Listed), error, Health::Error, "127.255.255.254"},
        {verdict(Verdict::Unanswered), verdict(Verdict::NotListed), Health::Unanswered, "timeout"},
        {verdict(Verdict::Listed), verdict(Verdict::Unanswered), Health::Unanswered, "timeout"},
    };
    for (std::size_t i = 0; i < cases.size(); ++i) {
        CAPTURE(i);
        const auto& c = cases[i];
        const auto health = judge_self_test(c.listed, c.unlisted, "127.0.0.2", "127.0.0.1");
        CHECK(health.health == c.health);
        CHECK(health.problem.find(c.problem) != std::string::npos);
    }
}

TEST_CASE("dnsbl: zone specs take codes and flags and keep the catalogue's knowledge")
{
    const auto zen = zone_of("ZEN.spamhaus.org.");
    CHECK(zen.name == "zen.spamhaus.org");
    CHECK(zen.ipv6);
    CHECK(zen.listed.text() == "127.0.0.[2..11;30]");
    CHECK(zen.errors.size() == 3);

    const auto narrowed = zone_of("zen.spamhaus.org=127.0.0.[4..7],warning,no-txt");
    CHECK(narrowed.listed.text() == "127.0.0.[4..7]");
    CHECK(narrowed.errors.size() == 3);
    CHECK(narrowed.worst == State::Warning);
    CHECK_FALSE(narrowed.txt);

    const auto custom = zone_of("bl.example,ipv6-only,no-selftest");
    CHECK_FALSE(custom.listed.is_explicit());
    CHECK_FALSE(custom.ipv4);
    CHECK(custom.ipv6);
    CHECK_FALSE(custom.self_test);
    CHECK(custom.worst == State::Critical);

    const auto dqs = zone_of("abc123.zen.dq.spamhaus.net");
    CHECK(dqs.name == "abc123.zen.dq.spamhaus.net");
    CHECK(dqs.listed.text() == "127.0.0.[2..11;30]");

    const auto dbl = zone_of("dbl.spamhaus.org", ListKind::Domain);
    CHECK(dbl.listed_probe == "dbltest.com");
    CHECK(dbl.unlisted_probe == "invalid");
}

TEST_CASE("dnsbl: bad zone specs say what is wrong")
{
    const std::vector<std::tuple<const char*, ListKind, Role, const char*>> cases{
        {"", ListKind::Ip, Role::Block, "not a zone name"},
        {"bl example", ListKind::Ip, Role::Block, "not a zone name"},
        {".bl.example", ListKind::Ip, Role::Block, "not a zone name"},
        {"bl..example", ListKind::Ip, Role::Block, "not a zone name"},
        {"bl.example=127.0.0", ListKind::Ip, Role::Block, "four octets"},
        {"bl.example,loud", ListKind::Ip, Role::Block, "unknown flag 'loud'"},
        {"bl.example,", ListKind::Ip, Role::Block, "unknown flag ''"},
        {"dbl.example,ipv6", ListKind::Domain, Role::Block, "needs an IP list"},
        {"dbl.spamhaus.org", ListKind::Ip, Role::Block, "--domain-zone"},
        {"zen.spamhaus.org", ListKind::Domain, Role::Block, "--zone"},
        {"list.dnswl.org", ListKind::Ip, Role::Block, "--allowlist"},
        {"zen.spamhaus.org", ListKind::Ip, Role::Allow, "cannot be checked with --allowlist"},
    };
    for (const auto& [spec, kind, role, reason] : cases) {
        CAPTURE(spec);
        const auto zone = parse_zone_spec(spec, kind, role);
        REQUIRE_FALSE(zone.ok());
        CHECK(zone.error().kind == ErrorKind::Usage);
        CHECK(zone.error().message.find(reason) != std::string::npos);
    }
}

TEST_CASE("dnsbl: a zones file lists one zone per line and names the bad line")
{
    const auto zones = parse_zones_file("# ours\n\nip bl.example=127.0.0.2  # trailing\n"
                                        "domain dbl.example,no-txt\n"
                                        "ip bl.example,warning\n",
                                        "zones.conf", Role::Block);
    REQUIRE(zones.ok());
    REQUIRE(zones->size() == 2);
    CHECK((*zones)[0].worst == State::Warning); // the later line refines the earlier one
    CHECK((*zones)[1].kind == ListKind::Domain);
    CHECK_FALSE((*zones)[1].txt);

    for (const auto& [content, reason] : std::vector<std::pair<const char*, const char*>>{
             {"ip\n", "line 1: expected"},
             {"ip a.example\nzone b.example\n", "line 2: expected"},
             {"ip a.example b.example\n", "line 1: expected"},
             {"\n\nip a.example=1.2\n", "line 3: invalid zone"},
         }) {
        CAPTURE(content);
        const auto bad = parse_zones_file(content, "zones.conf", Role::Block);
        REQUIRE_FALSE(bad.ok());
        CHECK(bad.error().kind == ErrorKind::Config);
        CHECK(bad.error().message.find("cannot read zones file 'zones.conf'") == 0);
        CHECK(bad.error().message.find(reason) != std::string::npos);
    }
    CHECK(load_zones_file("/nonexistent/zones.conf", Role::Block).error().kind ==
          ErrorKind::Config);
}

TEST_CASE("dnsbl: the catalogue is well formed and has a default set for both roles")
{
    std::size_t block_defaults = 0;
    std::size_t allow_defaults = 0;
    for (const auto& entry : catalogue()) {
        const auto& zone = entry.zone;
        CAPTURE(zone.name);
        CHECK_FALSE(entry.description.empty());
        CHECK(zone.listed.is_explicit());
        // No entry may count its own error codes or the RFC 5782 negative entry as listed.
        for (const auto& error : zone.errors) {
            CHECK_FALSE(zone.listed.matches(error.code));
            CHECK_FALSE(error.hint.empty());
        }
        CHECK_FALSE(zone.listed.matches(0x7F000001));
        const bool wildcard = zone.name.rfind("*.", 0) == 0;
        CHECK((!wildcard || !entry.enabled_by_default));
        if (entry.enabled_by_default) {
            ++(zone.role == Role::Block ? block_defaults : allow_defaults);
        }
    }
    CHECK(block_defaults >= 4);
    CHECK(allow_defaults >= 1);
    CHECK_FALSE(find_zone("zen.spamhaus.org.example"));
    CHECK_FALSE(find_zone("zen.dq.spamhaus.net"));
}

namespace {

std::vector<Target> targets_of(std::initializer_list<const char*> subjects)
{
    std::vector<Target> targets;
    for (const char* s : subjects) {
        const bool ip = parse_code(s) || std::string(s).find(':') != std::string::npos;
        targets.push_back({s, ip ? ListKind::Ip : ListKind::Domain, {}});
    }
    return targets;
}

} // namespace

TEST_CASE("dnsbl: the plan asks each zone only what it serves, with its test entries, once")
{
    const std::vector<Zone> zones{
        zone_of("v4.example"), zone_of("v6.example,ipv6-only"), zone_of("both.example,ipv6"),
        zone_of("dbl.example", ListKind::Domain), zone_of("quiet.example,no-selftest")};
    const auto targets = targets_of({"127.0.0.2", "2001:db8::1", "example.org"});
    const auto plan = plan_queries(targets, zones);

    CHECK(plan.cells[0][0].has_value());
    CHECK_FALSE(plan.cells[1][0].has_value());
    CHECK_FALSE(plan.cells[0][1].has_value());
    CHECK(plan.cells[1][1].has_value());
    CHECK(plan.cells[1][2].has_value());
    CHECK(plan.cells[2][3].has_value());
    CHECK_FALSE(plan.cells[2][0].has_value());
    CHECK(plan.probes[0].size() == 1);
    CHECK(plan.probes[2].size() == 2);
    CHECK(plan.probes[3].front().listed_name == "test");
    CHECK(plan.probes[4].empty());
    // 127.0.0.2 is both a target and the test entry of v4.example: asked once.
    CHECK(*plan.cells[0][0] == plan.probes[0].front().listed);
    std::map<std::string, int> seen;
    for (const auto& query : plan.queries) {
        CHECK(++seen[query.name] == 1);
        CHECK(query.type == dns::Type::A);
    }
    // 5 cells, probes: v4 2, v6 2, both 4, dbl 2, less the shared 127.0.0.2 on v4.example.
    CHECK(plan.queries.size() == 5 + 10 - 1);
}

namespace {

// A fake set of zone contents: query name -> answer. Names not listed are NXDOMAIN.
struct Scenario {
    std::vector<Zone> zones;
    std::vector<Target> targets;
    std::map<std::string, std::vector<std::string>> listed; // name -> A records
    std::vector<std::string> silent; // zones that time out
    JudgeOptions options;
};

bool ends_with(const std::string& name, const std::string& zone)
{
    return name.size() > zone.size() &&
           name.compare(name.size() - zone.size(), zone.size(), zone) == 0;
}

dns::Response answer_for(const Scenario& s, const dns::Query& query)
{
    dns::Response response;
    response.query = query;
    for (const auto& zone : s.silent) {
        if (ends_with(query.name, "." + zone)) {
            response.status = dns::Status::Timeout;
            return response;
        }
    }
    const auto found = s.listed.find(query.name);
    if (found == s.listed.end()) {
        response.status = dns::Status::NxDomain;
    } else if (query.type == dns::Type::TXT) {
        response.status = dns::Status::Ok;
        response.texts = {"listed: see https://bl.example/" + query.name};
    } else {
        response.status = dns::Status::Ok;
        response.addresses = found->second;
    }
    return response;
}

mailmon::Report run(const Scenario& s)
{
    const auto plan = plan_queries(s.targets, s.zones);
    std::vector<dns::Response> responses;
    for (const auto& query : plan.queries) {
        responses.push_back(answer_for(s, query));
    }
    auto assessment = assess(plan, s.targets, s.zones, responses);
    std::vector<dns::Response> texts;
    for (const auto& query : reason_queries(assessment, s.zones)) {
        texts.push_back(answer_for(s, query));
    }
    store_reasons(assessment, texts);
    return build_report(assessment, s.zones, {}, s.options, 0.012);
}

// Zones zone1..zoneN.example that hold the RFC 5782 entries.
Scenario healthy(int count, std::initializer_list<const char*> subjects)
{
    Scenario s;
    for (int i = 1; i <= count; ++i) {
        const std::string name = "zone" + std::to_string(i) + ".example";
        s.zones.push_back(zone_of(name.c_str()));
        s.listed["2.0.0.127." + name] = {"127.0.0.2"};
    }
    s.targets = targets_of(subjects);
    s.options.thresholds = parse_count_thresholds({}, {}, Role::Block).value();
    return s;
}

} // namespace

TEST_CASE("dnsbl: a clean address is OK with every perfdata item")
{
    const auto report = run(healthy(3, {"192.0.2.1"}));
    CHECK(report.state() == State::Ok);
    CHECK(report.to_text() == "DNSBL OK - 192.0.2.1 not listed on any of 3 zones | "
                              "listed=0;0;0;0;3 checked=3;;;0 errors=0;;;0 unanswered=0;;;0 "
                              "time=0.012s;;;0\n");
}

TEST_CASE("dnsbl: listings are counted against -w and -c, the worst target deciding")
{
    auto s = healthy(5, {"192.0.2.1", "192.0.2.2", "192.0.2.3"});
    for (const char* zone : {"zone1", "zone2"}) {
        s.listed["2.2.0.192." + std::string(zone) + ".example"] = {"127.0.0.3"};
    }
    s.listed["3.2.0.192.zone3.example"] = {"127.0.0.2"};

    SUBCASE("defaults: one listing is CRITICAL")
    {
        const auto report = run(s);
        CHECK(report.state() == State::Critical);
        CHECK(report.summary() == "192.0.2.2 listed on 2 of 5 zones (zone1.example, "
                                  "zone2.example); 192.0.2.3 listed on 1 of 5 zones "
                                  "(zone3.example); 1 other target not listed");
        REQUIRE(report.lines().size() == 3);
        CHECK(report.lines()[0].text == "192.0.2.2 listed on zone1.example (127.0.0.3): "
                                        "'listed: see https://bl.example/"
                                        "2.2.0.192.zone1.example'");
    }
    SUBCASE("-w 1 -c 2: the address on two zones decides")
    {
        s.options.thresholds = parse_count_thresholds("1", "2", Role::Block).value();
        CHECK(run(s).state() == State::Critical);
        s.listed.erase("2.2.0.192.zone2.example");
        CHECK(run(s).state() == State::Warning);
    }
    SUBCASE("-w 3 -c 4: nothing alerts")
    {
        s.options.thresholds = parse_count_thresholds("3", "4", Role::Block).value();
        const auto report = run(s);
        CHECK(report.state() == State::Ok);
        CHECK(report.to_text().find("listed=2;2;3;0;5") != std::string::npos);
    }
    SUBCASE("a zone marked warning can only warn")
    {
        s.zones[2].worst = State::Warning;
        s.targets = targets_of({"192.0.2.3"});
        const auto report = run(s);
        CHECK(report.state() == State::Warning);
        CHECK(report.lines().front().state == State::Warning);
    }
}

TEST_CASE("dnsbl: broken, erring and silent zones warn and are named, never CRITICAL")
{
    auto s = healthy(3, {"192.0.2.1"});
    s.zones.push_back(zone_of("dead.example"));
    s.zones.push_back(zone_of("refusing.example"));
    s.zones.push_back(zone_of("silent.example"));
    for (const char* ip : {"2.0.0.127", "1.0.0.127", "1.2.0.192"}) {
        s.listed[std::string(ip) + ".dead.example"] = {"127.0.0.2"};
        s.listed[std::string(ip) + ".refusing.example"] = {"127.255.255.254"};
    }
    s.silent = {"silent.example"};

    SUBCASE("above --max-zone-errors")
    {
        const auto report = run(s);
        CHECK(report.state() == State::Warning);
        CHECK(report.summary() == "192.0.2.1 not listed on any of 3 zones; zone problems: "
                                  "dead.example (broken), refusing.example (error), "
                                  "silent.example (no answer)");
        REQUIRE(report.lines().size() == 3);
        CHECK(report.lines()[1].text.find("zone error on refusing.example: answered "
                                          "127.255.255.254") == 0);
        CHECK(report.lines()[1].text.find("hint: use your own recursive resolver") !=
              std::string::npos);
        CHECK(report.to_text().find("errors=2;;;0 unanswered=1;;;0") != std::string::npos);
    }
    SUBCASE("within --max-zone-errors they are only listed")
    {
        s.options.max_zone_errors = 3;
        const auto report = run(s);
        CHECK(report.state() == State::Ok);
        CHECK(report.lines().size() == 3);
        CHECK(report.summary() == "192.0.2.1 not listed on any of 3 zones");
    }
    SUBCASE("a listing on a usable zone is still CRITICAL beside them")
    {
        s.listed["1.2.0.192.zone1.example"] = {"127.0.0.2"};
        CHECK(run(s).state() == State::Critical);
    }
    SUBCASE("no usable answer at all is UNKNOWN")
    {
        s.zones.erase(s.zones.begin(), s.zones.begin() + 3);
        const auto report = run(s);
        CHECK(report.state() == State::Unknown);
        CHECK(report.summary().find("192.0.2.1 not checked") == 0);
    }
}

TEST_CASE("dnsbl: in allowlist mode being listed is the good outcome")
{
    Scenario s;
    s.zones.push_back(zone_of("list.dnswl.org", ListKind::Ip, Role::Allow));
    s.listed["2.0.0.127.list.dnswl.org"] = {"127.0.10.0"};
    s.targets = targets_of({"192.0.2.1"});
    s.options.role = Role::Allow;
    s.options.thresholds = parse_count_thresholds({}, {}, Role::Allow).value();
    CHECK(run(s).state() == State::Warning);
    s.listed["1.2.0.192.list.dnswl.org"] = {"127.0.5.2"};
    const auto report = run(s);
    CHECK(report.state() == State::Ok);
    CHECK(report.summary() == "192.0.2.1 listed on 1 of 1 allowlist (list.dnswl.org)");
}

TEST_CASE("dnsbl: -w/-c take counts, or ranges when they hold ':' or '@'")
{
    const auto block = parse_count_thresholds("2", "3", Role::Block).value();
    CHECK_FALSE(block.warning->alerts(1));
    CHECK(block.warning->alerts(2));
    CHECK_FALSE(block.critical->alerts(2));
    CHECK(block.critical->alerts(3));
    CHECK(block.critical->perfdata() == "2");

    const auto ranged = parse_count_thresholds("@2:", {}, Role::Block).value();
    CHECK(ranged.warning->alerts(2));
    CHECK_FALSE(ranged.critical);

    const auto allow = parse_count_thresholds("2", {}, Role::Allow).value();
    CHECK(allow.warning->alerts(1));
    CHECK_FALSE(allow.warning->alerts(2));

    const auto defaults = parse_count_thresholds({}, {}, Role::Block).value();
    CHECK(defaults.warning->alerts(1));
    CHECK(defaults.critical->alerts(1));
    CHECK_FALSE(defaults.critical->alerts(0));
    CHECK_FALSE(parse_count_thresholds({}, {}, Role::Allow).value().critical);

    for (const char* bad : {"0", "-1", "x", "1.5", "", "5:1"}) {
        CAPTURE(bad);
        const auto parsed = parse_count_thresholds(std::string(bad), {}, Role::Block);
        REQUIRE_FALSE(parsed.ok());
        CHECK(parsed.error().message.find("invalid -w/--warning") == 0);
    }
}

TEST_CASE("dnsbl: a target no zone serves is skipped, and only skipped targets are UNKNOWN")
{
    auto s = healthy(2, {"192.0.2.1", "2001:db8::1"});
    auto report = run(s);
    CHECK(report.state() == State::Ok);
    CHECK(report.summary() == "192.0.2.1 not listed on any of 2 zones");
    REQUIRE(report.lines().size() == 1);
    CHECK(report.lines()[0].text == "2001:db8::1 not checked: no zone of this run serves it");

    s.targets = targets_of({"2001:db8::1"});
    report = run(s);
    CHECK(report.state() == State::Unknown);
    CHECK(report.summary() == "nothing to check: no zone of this run serves the targets");
}

TEST_CASE("dnsbl: the catalogue listing carries its date and every entry")
{
    const auto text = describe_catalogue();
    CHECK(text.find("checked 2026-12") != std::string::npos);
    for (const auto& entry : catalogue()) {
        CAPTURE(entry.zone.name);
        CHECK(text.find((entry.enabled_by_default ? "* " : "  ") + entry.zone.name) !=
              std::string::npos);
    }
}

TEST_CASE("dnsbl: names from the network are sanitised before they reach the output")
{
    auto s = healthy(1, {});
    s.targets = {{"192.0.2.1", ListKind::Ip, "mx|1.example\nfoo"}};
    s.listed["1.2.0.192.zone1.example"] = {"127.0.0.2"};
    const auto report = run(s);
    CHECK(report.summary() == "192.0.2.1 (mx/1.example foo) listed on 1 of 1 zone "
                              "(zone1.example)");
    const std::vector<TargetFailure> failures{{State::Critical, "cannot resolve a|b"}};
    const auto plan = plan_queries({}, s.zones);
    const auto failed =
        build_report(assess(plan, {}, s.zones, {}), s.zones, failures, s.options, 0.0);
    CHECK(failed.summary() == "cannot resolve a/b");
    CHECK(failed.state() == State::Critical);
}
