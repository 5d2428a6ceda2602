// SPDX-License-Identifier: GPL-3.0-or-later
// The built-in catalogue of public DNS lists: answer codes, error codes and test entries as
// each operator documents them (checked 2026-12; docs/check_dnsbl.md has the same table).
#include "mailmon/dnsbl.hpp"

#include <algorithm>

namespace mailmon::dnsbl {

namespace {

constexpr Code code(unsigned a, unsigned b, unsigned c, unsigned d)
{
    return (a << 24) | (b << 16) | (c << 8) | d;
}

CodeFilter filter(std::string_view text)
{
    // The catalogue's filters are constants: a parse failure is a programming error that
    // the unit tests catch, so value() may throw here.
    return CodeFilter::parse(text).value();
}

const char* const own_resolver_hint = "use your own recursive resolver, not a public one";

std::vector<ErrorCode> spamhaus_errors()
{
    const std::string dqs = std::string(own_resolver_hint) + ", or the list's access key "
                                                             "(Spamhaus DQS)";
    return {
        {code(127, 255, 255, 252), "typing error in the zone name", "check the zone name"},
        {code(127, 255, 255, 254), "query through a public or open resolver refused", dqs},
        {code(127, 255, 255, 255), "excessive number of queries", dqs},
    };
}

Zone zen(std::string name)
{
    Zone zone;
    zone.name = std::move(name);
    zone.listed = filter("127.0.0.[2..11;30]");
    zone.errors = spamhaus_errors();
    zone.ipv6 = true;
    return zone;
}

Zone dbl(std::string name)
{
    Zone zone;
    zone.name = std::move(name);
    zone.kind = ListKind::Domain;
    zone.listed = filter("127.0.1.[2..99;102..106]");
    zone.errors = spamhaus_errors();
    zone.errors.push_back({code(127, 0, 1, 255), "an IP address was sent to a domain list",
                           "query domain lists with --domain-zone and a domain only"});
    // Spamhaus documents dbltest.com as the DBL's test entry.
    zone.listed_probe = "dbltest.com";
    return zone;
}

// An IPv4 list answering 127.0.0.2 (or the given filter) with TXT reasons.
Zone simple(std::string name, std::string_view codes = "127.0.0.2")
{
    Zone zone;
    zone.name = std::move(name);
    zone.listed = filter(codes);
    return zone;
}

Zone warning_only(Zone zone)
{
    zone.worst = State::Warning;
    return zone;
}

Zone uribl()
{
    Zone zone;
    zone.name = "multi.uribl.com";
    zone.kind = ListKind::Domain;
    // A bitmask: 2 black, 4 grey, 8 red. Grey alone is not a listing a sender must act on.
    zone.listed = filter("127.0.0.[2;6;8;10;12;14]");
    zone.errors = {
        {code(127, 0, 0, 1), "query refused (public resolver or over quota)", own_resolver_hint}};
    zone.listed_probe = "test.uribl.com";
    return zone;
}

Zone surbl()
{
    Zone zone;
    zone.name = "multi.surbl.org";
    zone.kind = ListKind::Domain;
    // A bitmask in the last octet: 8 phishing, 16 malware, 64 abuse, 128 cracked sites.
    zone.listed = filter("127.0.0.[8..255]");
    zone.listed_probe = "test.surbl.org";
    return zone;
}

Zone dnswl()
{
    Zone zone;
    zone.name = "list.dnswl.org";
    zone.role = Role::Allow;
    // 127.0.<category>.<trust 0..3>; 127.0.10.0 answers the RFC 5782 test entry.
    zone.listed = filter("127.0.[2..20].[0..3]");
    zone.errors = {{code(127, 0, 0, 255), "query refused (public resolver or over quota)",
                    std::string(own_resolver_hint) + ", or a DNSWL key"}};
    return zone;
}

Zone mailspike_allow()
{
    Zone zone = simple("wl.mailspike.net", "127.0.0.[17..20]");
    zone.role = Role::Allow;
    zone.txt = false;
    return zone;
}

// LIMIT: the codes, error codes and test entries are the lists' documentation as of
// catalogue_date — a list that later changes them is misread until this table is updated.
std::vector<CatalogueEntry> build_catalogue()
{
    Zone mailspike = simple("bl.mailspike.net", "127.0.0.[2;10..12]");
    mailspike.txt = false;
    Zone dronebl = simple("dnsbl.dronebl.org", "127.0.0.[2..255]");
    dronebl.ipv6 = true;
    Zone dqs_zen = zen("*.zen.dq.spamhaus.net");
    Zone dqs_dbl = dbl("*.dbl.dq.spamhaus.net");
    return {
        {zen("zen.spamhaus.org"), true, "Spamhaus SBL, CSS, XBL, PBL and DROP combined"},
        {simple("bl.spamcop.net"), true, "SpamCop: sources of reported spam, short-lived"},
        {simple("psbl.surriel.com"), true, "Passive Spam Block List: spam-trap hits"},
        {std::move(mailspike), true, "Mailspike: spam waves and worst reputation levels"},
        {dbl("dbl.spamhaus.org"), true, "Spamhaus Domain Block List"},
        {simple("b.barracudacentral.org"), false,
         "Barracuda Reputation Block List; the resolver must be registered"},
        {simple("ix.dnsbl.manitu.net"), false, "NiX Spam: spam-trap hits"},
        {std::move(dronebl), false, "DroneBL: drones, proxies and abused hosts"},
        {simple("all.spamrats.com", "127.0.0.[36..38;43]"), false,
         "SpamRATS: dynamic, no-PTR, spam and auth-attack sources"},
        {simple("truncate.gbudb.net"), false, "GBUdb Truncate: high-confidence spam sources"},
        {simple("dnsbl-1.uceprotect.net"), false, "UCEPROTECT level 1: single addresses"},
        {warning_only(simple("dnsbl-2.uceprotect.net")), false,
         "UCEPROTECT level 2: whole allocations; only ever warns"},
        {warning_only(simple("dnsbl-3.uceprotect.net")), false,
         "UCEPROTECT level 3: whole ASNs; only ever warns"},
        {uribl(), false, "URIBL multi (black and red; grey is ignored)"},
        {surbl(), false, "SURBL multi: phishing, malware, abuse, cracked sites"},
        {std::move(dqs_zen), false, "Spamhaus ZEN through a DQS key: KEY.zen.dq.spamhaus.net"},
        {std::move(dqs_dbl), false, "Spamhaus DBL through a DQS key: KEY.dbl.dq.spamhaus.net"},
        {dnswl(), true, "DNSWL.org allowlist (checked with --allowlist)"},
        {mailspike_allow(), false, "Mailspike allowlist: good reputation levels H2 to H5"},
    };
}

} // namespace

const std::vector<ErrorCode>& common_error_codes()
{
    static const std::vector<ErrorCode> codes = spamhaus_errors();
    return codes;
}

const std::vector<CatalogueEntry>& catalogue()
{
    static const std::vector<CatalogueEntry> entries = build_catalogue();
    return entries;
}

std::string describe_catalogue()
{
    std::string text =
        "Built-in zones, checked " + std::string(catalogue_date) + " (* = checked by default):\n";
    for (const auto& entry : catalogue()) {
        const Zone& zone = entry.zone;
        const char* kind = zone.role == Role::Allow        ? "allow "
                           : zone.kind == ListKind::Domain ? "domain"
                                                           : "ip    ";
        std::string name = zone.name;
        name.resize(std::max<std::size_t>(name.size(), 24), ' ');
        text += std::string(entry.enabled_by_default ? "* " : "  ") + name + " " + kind + " " +
                zone.listed.text() + (zone.worst == State::Warning ? " warning" : "") + "\n    " +
                entry.description + "\n";
    }
    return text;
}

std::optional<Zone> find_zone(std::string_view name)
{
    for (const auto& entry : catalogue()) {
        const std::string_view known = entry.zone.name;
        if (known == name) {
            return entry.zone;
        }
        const bool wildcard = known.substr(0, 2) == "*.";
        const auto suffix = known.substr(1);
        if (wildcard && name.size() > suffix.size() &&
            name.substr(name.size() - suffix.size()) == suffix) {
            Zone zone = entry.zone;
            zone.name = std::string(name);
            return zone;
        }
    }
    return std::nullopt;
}

} // namespace mailmon::dnsbl
