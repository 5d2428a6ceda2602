// SPDX-License-Identifier: GPL-3.0-or-later
#include "mailmon/cli.hpp"

#include <doctest/doctest.h>
#include <sstream>
#include <string>
#include <vector>

using mailmon::Cli;
using mailmon::CliExit;
using mailmon::CommonOptions;
using mailmon::State;

namespace {

Cli make_cli()
{
    Cli cli({"check_demo", "DEMO", "Demonstrates the shared options.", "-H HOST [-t SECONDS]",
             "Notes go here."});
    cli.add()("hostname,H", boost::program_options::value<std::string>()->value_name("HOST"),
              "The host to check.");
    return cli;
}

std::variant<CommonOptions, CliExit> parse(Cli& cli, std::vector<const char*> args)
{
    args.insert(args.begin(), "check_demo");
    return cli.parse(static_cast<int>(args.size()), args.data());
}

std::string first_line(const std::string& text)
{
    return text.substr(0, text.find('\n'));
}

} // namespace

TEST_CASE("cli: common options are parsed, -v counted")
{
    auto cli = make_cli();
    const auto outcome =
        parse(cli, {"-H", "mx.example.org", "-vvv", "-t", "5:critical", "-4", "--dns-server",
                    "127.0.0.1", "--dns-server", "::1", "--output", "json"});
    REQUIRE(std::holds_alternative<CommonOptions>(outcome));
    const auto& common = std::get<CommonOptions>(outcome);
    CHECK(common.verbosity == 3);
    CHECK(common.timeout.budget == std::chrono::seconds(5));
    CHECK(common.timeout.on_expiry == State::Critical);
    CHECK(common.ipv4_only);
    CHECK(common.dns_servers == std::vector<std::string>{"127.0.0.1", "::1"});
    CHECK(common.format == mailmon::OutputFormat::Json);
    CHECK(cli.values()["hostname"].as<std::string>() == "mx.example.org");
}

TEST_CASE("cli: separate -v options add up")
{
    auto cli = make_cli();
    const auto outcome = parse(cli, {"-v", "-H", "x", "--verbose"});
    REQUIRE(std::holds_alternative<CommonOptions>(outcome));
    CHECK(std::get<CommonOptions>(outcome).verbosity == 2);
}

namespace {

struct BadArgs {
    std::vector<const char*> args;
    const char* first_line;
};

} // namespace

TEST_CASE("cli: a bad option or value is one UNKNOWN line, a usage hint and exit 3")
{
    const std::vector<BadArgs> cases{
        {{"--bogus"}, "DEMO UNKNOWN - unrecognised option '--bogus'"},
        {{"-t", "abc"}, "DEMO UNKNOWN - invalid -t/--timeout 'abc': 'abc' is not a number"},
        {{"-t", "0"},
         "DEMO UNKNOWN - invalid -t/--timeout '0': seconds must be above 0 and at "
         "most 3600"},
        {{"-t", "5:maybe"},
         "DEMO UNKNOWN - invalid -t/--timeout '5:maybe': 'maybe' is not a "
         "state (ok, warning, critical, unknown)"},
        {{"-4", "-6"}, "DEMO UNKNOWN - -4 and -6 exclude each other"},
        {{"--output", "xml"}, "DEMO UNKNOWN - invalid --output 'xml': use nagios or json"},
        {{"-H"}, "DEMO UNKNOWN - the required argument for option '--hostname' is missing"},
        {{"stray"}, "DEMO UNKNOWN - unexpected argument 'stray'"},
        {{"--host", "x"}, "DEMO UNKNOWN - unrecognised option '--host'"},
    };
    for (const auto& c : cases) {
        const std::string expected = c.first_line;
        CAPTURE(expected);
        auto cli = make_cli();
        const auto outcome = parse(cli, c.args);
        REQUIRE(std::holds_alternative<CliExit>(outcome));
        const auto& exit = std::get<CliExit>(outcome);
        CHECK(exit.exit_code == 3);
        CHECK(first_line(exit.text) == c.first_line);
        CHECK(exit.text.find("Usage: check_demo -H HOST [-t SECONDS]\n") != std::string::npos);
        CHECK(exit.text.find("Try 'check_demo --help'") != std::string::npos);
    }
}

TEST_CASE("cli: --help and --version exit 3; help fits 80 columns and lists every option")
{
    auto cli = make_cli();
    const auto help = parse(cli, {"--help"});
    REQUIRE(std::holds_alternative<CliExit>(help));
    const auto& text = std::get<CliExit>(help).text;
    CHECK(std::get<CliExit>(help).exit_code == 3);
    CHECK(text.find(" -H, --hostname=HOST\n    The host to check.\n") != std::string::npos);
    CHECK(text.find(" -t, --timeout=SECONDS[:STATE]\n") != std::string::npos);
    CHECK(text.find("\n --dns-server=HOST[:PORT]\n") != std::string::npos);
    CHECK(text.find("\n --ca-file=FILE\n") != std::string::npos);
    CHECK(text.find("Notes go here.") != std::string::npos);
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        CAPTURE(line);
        CHECK(line.size() <= 80);
    }

    auto again = make_cli();
    const auto version = parse(again, {"-V"});
    REQUIRE(std::holds_alternative<CliExit>(version));
    CHECK(first_line(std::get<CliExit>(version).text).rfind("check_demo ", 0) == 0);
}
