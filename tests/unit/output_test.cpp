// SPDX-License-Identifier: GPL-3.0-or-later
#include "mailmon/output.hpp"

#include <doctest/doctest.h>
#include <string>

using mailmon::Metric;
using mailmon::Report;
using mailmon::sanitize;
using mailmon::State;
using mailmon::Uom;

TEST_CASE("sanitize: pipes, line breaks and control bytes never pass")
{
    CHECK(sanitize("220 mx.example.org ESMTP") == "220 mx.example.org ESMTP");
    CHECK(sanitize("a|b") == "a/b");
    CHECK(sanitize("line1\r\nline2") == "line1  line2");
    CHECK(sanitize("tab\there") == "tab here");
    CHECK(sanitize(std::string("nul\0x", 5)) == "nul?x");
    CHECK(sanitize("esc\x1b[31m") == "esc?[31m");
    CHECK(sanitize("del\x7f") == "del?");
}

TEST_CASE("sanitize: valid UTF-8 is kept, invalid bytes become '?'")
{
    CHECK(sanitize("M\xc3\xbcller") == "M\xc3\xbcller");
    CHECK(sanitize("bad\xff\xfe") == "bad??");
    CHECK(sanitize("cut\xc3") == "cut?");
    CHECK(sanitize("\xe2\x82") == "??");
}

TEST_CASE("sanitize: long text is cut with a visible ellipsis")
{
    CHECK(sanitize(std::string(10, 'a'), 10) == std::string(10, 'a'));
    CHECK(sanitize(std::string(11, 'a'), 10) == std::string(10, 'a') + "...");
    const std::string huge(2 * 1024 * 1024, 'x');
    CHECK(sanitize(huge).size() == 163);
    CHECK(sanitize("\xc3\xbc\xc3\xbc\xc3\xbc", 2) == "\xc3\xbc\xc3\xbc...");
}

TEST_CASE("state: the worst state wins, CRITICAL above WARNING above UNKNOWN above OK")
{
    using mailmon::worst;
    CHECK(worst(State::Ok, State::Ok) == State::Ok);
    CHECK(worst(State::Ok, State::Unknown) == State::Unknown);
    CHECK(worst(State::Unknown, State::Warning) == State::Warning);
    CHECK(worst(State::Warning, State::Unknown) == State::Warning);
    CHECK(worst(State::Critical, State::Warning) == State::Critical);
    CHECK(worst(State::Unknown, State::Critical) == State::Critical);
    CHECK(mailmon::exit_code(State::Unknown) == 3);
}

TEST_CASE("report: one status line with all perfdata, then the long output")
{
    Report report("MX");
    report.set_summary("example.org: 2 of 2 MX up");
    report.add_line(State::Ok, "mx1.example.org: up");
    report.add_line(State::Warning, "mx2.example.org: slow");
    report.add_metric(Metric{"mx_count", 2, Uom::None, {}, {}, 0.0, {}});
    report.add_metric(Metric{"time", 0.5, Uom::Seconds, {}, {}, {}, {}});
    CHECK(report.state() == State::Warning);
    CHECK(report.to_text() == "MX WARNING - example.org: 2 of 2 MX up | mx_count=2;;;0 time=0.5s\n"
                              "mx1.example.org: up\n"
                              "mx2.example.org: slow\n");
}

TEST_CASE("report: without metrics there is no '|'")
{
    Report report("DNSBL");
    report.set_summary("nothing");
    CHECK(report.to_text() == "DNSBL OK - nothing\n");
}

TEST_CASE("report: JSON carries state, summary, lines and metrics, escaped")
{
    Report report("SMTP_TLS");
    report.set_summary("say \"hi\"\\");
    report.add_line(State::Critical, "tab\there");
    report.add_metric(Metric{"time", 1.25, Uom::Seconds, *mailmon::Range::parse("2"), {}, 0.0, {}});
    CHECK(report.to_json() ==
          "{\"name\":\"SMTP_TLS\",\"state\":\"CRITICAL\",\"exit_code\":2,"
          "\"summary\":\"say \\\"hi\\\"\\\\\",\"long_output\":[{\"state\":\"CRITICAL\","
          "\"text\":\"tab\\u0009here\"}],\"metrics\":[{\"label\":\"time\",\"value\":1.25,"
          "\"unit\":\"s\",\"warning\":\"2\",\"critical\":null,\"min\":0,\"max\":null}]}\n");
}
