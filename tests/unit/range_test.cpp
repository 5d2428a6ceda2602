// SPDX-License-Identifier: GPL-3.0-or-later
#include "mailmon/range.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using mailmon::Range;
using mailmon::State;

namespace {

struct RangeCase {
    const char* text;
    double value;
    bool alerts;
};

} // namespace

TEST_CASE("range: every form alerts exactly where the guideline says")
{
    const std::vector<RangeCase> cases{
        {"10", -0.1, true},     {"10", 0, false},       {"10", 10, false},
        {"10", 10.01, true},    {"10:", 9.99, true},    {"10:", 10, false},
        {"10:", 1e9, false},    {"~:10", -1e9, false},  {"~:10", 10, false},
        {"~:10", 10.5, true},   {"10:20", 9, true},     {"10:20", 10, false},
        {"10:20", 20, false},   {"10:20", 21, true},    {"@10:20", 9, false},
        {"@10:20", 10, true},   {"@10:20", 20, true},   {"@10:20", 21, false},
        {"-5:-1", -3, false},   {"-5:-1", 0, true},     {"~:-2.5", -2.6, false},
        {"~:-2.5", -2.4, true}, {"0.5:1.5", 0.4, true}, {"0.5:1.5", 1.5, false},
        {"@1:", 0, false},      {"@1:", 1, true},       {"~:", -1e12, false},
        {".5", 0.6, true},      {"5.", 5, false},       {"@0", 0, true},
    };
    for (const auto& c : cases) {
        const std::string text = c.text;
        CAPTURE(text);
        CAPTURE(c.value);
        const auto range = Range::parse(c.text);
        REQUIRE(range.ok());
        CHECK(range->alerts(c.value) == c.alerts);
    }
}

namespace {

struct BadRange {
    const char* text;
    const char* reason;
};

} // namespace

TEST_CASE("range: malformed text is rejected with the reason")
{
    const std::vector<BadRange> cases{
        {"", "the range is empty"},
        {"@", "the range is empty"},
        {"abc", "'abc' is not a number"},
        {"1x", "unexpected text 'x' after the number"},
        {"10:5", "the start is greater than the end"},
        {":10", "the start before ':' is missing"},
        {"1e3", "unexpected text 'e3' after the number"},
        {"inf", "'inf' is not a number"},
        {"nan:", "'nan' is not a number"},
        {"-", "'-' is not a number"},
        {"1:2:3", "unexpected text ':3' after the number"},
        {"~", "'~' is not a number"},
        {" 5", "' 5' is not a number"},
        {"5%", "unexpected text '%' after the number"},
        {"-1", "the start is greater than the end"},
    };
    for (const auto& c : cases) {
        const std::string text = c.text;
        CAPTURE(text);
        const auto range = Range::parse(c.text);
        REQUIRE_FALSE(range.ok());
        CHECK(range.error().kind == mailmon::ErrorKind::Usage);
        CHECK(range.error().message.find(c.reason) != std::string::npos);
    }
}

TEST_CASE("range: perfdata shows a plain number only for a simple upper bound")
{
    CHECK(Range::parse("10")->perfdata() == "10");
    CHECK(Range::parse("0:2.5")->perfdata() == "2.5");
    CHECK(Range::parse("10:")->perfdata() == "10:");
    CHECK(Range::parse("@1:")->perfdata() == "@1:");
    CHECK(Range::parse("~:10")->perfdata() == "~:10");
    CHECK(Range::parse("10:20")->perfdata() == "10:20");
}

TEST_CASE("range: the named constructors match the ranges they stand for")
{
    const auto below = Range::below(21);
    CHECK(below.text() == "21:");
    CHECK(below.alerts(20.9));
    CHECK_FALSE(below.alerts(21));

    const auto at_least = Range::at_least(2);
    CHECK(at_least.text() == "@2:");
    CHECK_FALSE(at_least.alerts(1));
    CHECK(at_least.alerts(2));
}

TEST_CASE("thresholds: critical is checked before warning, either may be absent")
{
    const auto both = mailmon::parse_thresholds(std::string("1"), std::string("2"));
    REQUIRE(both.ok());
    CHECK(both->evaluate(0.5) == State::Ok);
    CHECK(both->evaluate(1.5) == State::Warning);
    CHECK(both->evaluate(3) == State::Critical);

    const auto none = mailmon::parse_thresholds(std::nullopt, std::nullopt);
    REQUIRE(none.ok());
    CHECK(none->evaluate(1e9) == State::Ok);

    const auto critical_only = mailmon::parse_thresholds(std::nullopt, std::string("@0:5"));
    REQUIRE(critical_only.ok());
    CHECK(critical_only->evaluate(3) == State::Critical);
}

TEST_CASE("thresholds: an error names the option and the reason")
{
    const auto bad_warning = mailmon::parse_thresholds(std::string("10:5"), std::nullopt);
    REQUIRE_FALSE(bad_warning.ok());
    CHECK(bad_warning.error().message ==
          "invalid -w/--warning '10:5': the start is greater than the end");

    const auto bad_critical = mailmon::parse_thresholds(std::string("1"), std::string("abc"));
    REQUIRE_FALSE(bad_critical.ok());
    CHECK(bad_critical.error().message == "invalid -c/--critical 'abc': 'abc' is not a number");
}
