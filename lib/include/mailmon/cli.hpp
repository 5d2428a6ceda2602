// SPDX-License-Identifier: GPL-3.0-or-later
// Command-line handling shared by every plugin: the common options on Boost.Program_options,
// the -t SECONDS[:STATE] syntax, the Monitoring Plugins help layout, and usage errors that
// end in UNKNOWN (exit 3) with one line saying what is wrong.
#pragma once

#include "mailmon/output.hpp"
#include "mailmon/result.hpp"
#include "mailmon/state.hpp"

#include <boost/program_options.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mailmon {

struct PluginInfo {
    std::string program; // "check_mx"
    std::string name; // status-line name, "MX"
    std::string purpose; // a paragraph for --help
    std::string usage; // arguments after the program name, "-H DOMAIN [-p PORT] ..."
    std::string notes; // text after the option list: states, examples, limits
};

struct TimeoutSetting {
    std::chrono::milliseconds budget{10'000};
    State on_expiry = State::Unknown;
};

// "10", "2.5", "10:critical", "10:2". Seconds must be above 0 and at most 3600; the state is
// a name (any case) or its number.
Result<TimeoutSetting> parse_timeout(std::string_view text);

struct CommonOptions {
    int verbosity = 0;
    TimeoutSetting timeout;
    OutputFormat format = OutputFormat::Nagios;
    bool ipv4_only = false;
    bool ipv6_only = false;
    std::vector<std::string> dns_servers; // "HOST[:PORT]"; empty: the system resolver
    std::string ca_file;
    std::string ca_path;
};

// parse() asks main to print `text` and exit with `exit_code` instead of running the check:
// --help and --version (exit 3, as Monitoring Plugins do), or a usage error.
struct CliExit {
    std::string text;
    int exit_code = 3;
};

class Cli {
public:
    explicit Cli(PluginInfo info);

    // Declares the plugin's own options; they are listed first in --help. Give every valued
    // option a value_name ("DOMAIN") so the help shows "-H, --hostname=DOMAIN".
    boost::program_options::options_description_easy_init add() { return own_.add_options(); }

    // Parses argv. On success the plugin's own values are in values().
    std::variant<CommonOptions, CliExit> parse(int argc, const char* const argv[]);
    const boost::program_options::variables_map& values() const { return values_; }

    // A usage error found after parse() (a missing -H, a bad combination).
    CliExit usage_error(std::string_view what) const;

    std::string help() const;
    std::string version() const;

private:
    std::variant<CommonOptions, CliExit> collect_common() const;

    PluginInfo info_;
    boost::program_options::options_description own_;
    boost::program_options::options_description common_;
    boost::program_options::variables_map values_;
    int verbosity_ = 0;
};

} // namespace mailmon
