// SPDX-License-Identifier: GPL-3.0-or-later
#include "mailmon/perfdata.hpp"

#include <clocale>
#include <doctest/doctest.h>
#include <limits>

using mailmon::format_metric;
using mailmon::format_number;
using mailmon::Metric;
using mailmon::Range;
using mailmon::Uom;

TEST_CASE("perfdata: numbers are fixed-point, trimmed, never exponents")
{
    CHECK(format_number(0) == "0");
    CHECK(format_number(-0.0) == "0");
    CHECK(format_number(0.012) == "0.012");
    CHECK(format_number(12) == "12");
    CHECK(format_number(1e-9) == "0");
    CHECK(format_number(123456789012.5) == "123456789012.5");
    CHECK(format_number(-2.25) == "-2.25");
    CHECK(format_number(1.0 / 3) == "0.333333");
    CHECK_FALSE(format_number(std::numeric_limits<double>::quiet_NaN()).has_value());
    CHECK_FALSE(format_number(std::numeric_limits<double>::infinity()).has_value());
}

TEST_CASE("perfdata: the decimal point stays '.' under a comma locale")
{
    const char* previous = std::setlocale(LC_NUMERIC, nullptr);
    const std::string saved = previous != nullptr ? previous : "C";
    // The install script generates de_DE.UTF-8; without it this case cannot show anything.
    REQUIRE(std::setlocale(LC_NUMERIC, "de_DE.UTF-8") != nullptr);
    CHECK(format_number(1.5) == "1.5");
    CHECK(format_metric(Metric{"t", 0.25, Uom::Seconds, {}, {}, {}, {}}) == "t=0.25s");
    std::setlocale(LC_NUMERIC, saved.c_str());
}

TEST_CASE("perfdata: labels are quoted only when needed, forbidden characters replaced")
{
    CHECK(mailmon::format_label("time") == "time");
    CHECK(mailmon::format_label("mx1.example.org_banner") == "mx1.example.org_banner");
    CHECK(mailmon::format_label("a b") == "'a b'");
    CHECK(mailmon::format_label("a=b") == "'a_b'");
    CHECK(mailmon::format_label("it's") == "'it_s'");
    CHECK(mailmon::format_label("a|b") == "'a_b'");
    CHECK(mailmon::format_label("") == "''");
}

TEST_CASE("perfdata: items carry unit, thresholds and bounds, trailing fields dropped")
{
    CHECK(format_metric(Metric{"time", 0.012, Uom::Seconds, {}, {}, 0.0, {}}) == "time=0.012s;;;0");
    CHECK(format_metric(Metric{"mx_count", 3, Uom::None, {}, {}, {}, {}}) == "mx_count=3");
    CHECK(format_metric(Metric{"days", 42, Uom::None, Range::below(21), Range::below(7), {}, {}}) ==
          "days=42;21:;7:");
    CHECK(format_metric(Metric{"listed", 1, Uom::None, *Range::parse("0"), *Range::parse("1"), 0.0,
                               50.0}) == "listed=1;0;1;0;50");
    CHECK(format_metric(Metric{"pct", 50, Uom::Percent, {}, {}, {}, 100.0}) == "pct=50%;;;;100");
    CHECK_FALSE(
        format_metric(
            Metric{"bad", std::numeric_limits<double>::quiet_NaN(), Uom::None, {}, {}, {}, {}})
            .has_value());
}
