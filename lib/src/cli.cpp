// SPDX-License-Identifier: GPL-3.0-or-later
#include "mailmon/cli.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace po = boost::program_options;

namespace mailmon {

namespace {

constexpr std::size_t help_width = 80;

Result<State> parse_state(std::string_view text)
{
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const std::pair<const char*, State> names[] = {
        {"ok", State::Ok},
        {"0", State::Ok},
        {"warning", State::Warning},
        {"1", State::Warning},
        {"critical", State::Critical},
        {"2", State::Critical},
        {"unknown", State::Unknown},
        {"3", State::Unknown},
    };
    for (const auto& [name, state] : names) {
        if (lower == name) {
            return state;
        }
    }
    return make_error(ErrorKind::Usage, "'" + std::string(text) +
                                            "' is not a state (ok, warning, critical, unknown)");
}

Result<double> parse_seconds(std::string_view text)
{
    double seconds = 0;
    const auto [end, ec] =
        std::from_chars(text.data(), text.data() + text.size(), seconds, std::chars_format::fixed);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        return make_error(ErrorKind::Usage, "'" + std::string(text) + "' is not a number");
    }
    if (!(seconds > 0 && seconds <= 3600)) {
        return make_error(ErrorKind::Usage, "seconds must be above 0 and at most 3600");
    }
    return seconds;
}

// Wraps `text` to the help width, each line indented by `indent` spaces.
std::string wrap(std::string_view text, std::size_t indent)
{
    std::string out;
    std::string line(indent, ' ');
    std::size_t start = 0;
    while (start < text.size()) {
        const auto space = text.find(' ', start);
        const auto word = text.substr(
            start, space == std::string_view::npos ? std::string_view::npos : space - start);
        if (line.size() > indent && line.size() + 1 + word.size() > help_width) {
            out += line + '\n';
            line.assign(indent, ' ');
        }
        line += (line.size() > indent ? " " : "") + std::string(word);
        start = space == std::string_view::npos ? text.size() : space + 1;
    }
    return out + line + '\n';
}

// " -H, --hostname=DOMAIN" followed by the wrapped description, Monitoring Plugins style.
std::string describe(const po::option_description& option)
{
    // Without a short name, Boost gives the bare long name here instead of "-x".
    const std::string short_name =
        option.canonical_display_name(po::command_line_style::allow_dash_for_short);
    std::string line = " ";
    if (short_name.size() == 2 && short_name[0] == '-') {
        line += short_name + ", ";
    }
    line += "--" + option.long_name();
    if (option.semantic()->max_tokens() > 0) {
        line += "=" + option.semantic()->name();
    }
    return line + '\n' + wrap(option.description(), 4);
}

} // namespace

Result<TimeoutSetting> parse_timeout(std::string_view text)
{
    const auto colon = text.find(':');
    auto seconds = parse_seconds(text.substr(0, colon));
    if (!seconds) {
        return make_error(ErrorKind::Usage, "invalid -t/--timeout '" + std::string(text) +
                                                "': " + seconds.error().message);
    }
    TimeoutSetting setting;
    setting.budget = std::chrono::milliseconds(static_cast<long long>(*seconds * 1000));
    if (colon != std::string_view::npos) {
        auto state = parse_state(text.substr(colon + 1));
        if (!state) {
            return make_error(ErrorKind::Usage, "invalid -t/--timeout '" + std::string(text) +
                                                    "': " + state.error().message);
        }
        setting.on_expiry = *state;
    }
    return setting;
}

Cli::Cli(PluginInfo info) : info_(std::move(info))
{
    // One option per group of lines reads better than the formatter's packing of the chain.
    // clang-format off
    common_.add_options()
        ("help,h", "Print this help and exit.")
        ("version,V", "Print the version and exit.")
        ("verbose,v", po::bool_switch(),
         "Diagnostics on stderr; repeat for more (-vv adds the protocol transcript, -vvv "
         "library internals). Without it stderr stays empty.")
        ("timeout,t", po::value<std::string>()->value_name("SECONDS[:STATE]"),
         "Stop and report after SECONDS (default 10). The state on expiry is UNKNOWN unless "
         "STATE says otherwise; a target that does not answer in time is CRITICAL earlier.")
        ("use-ipv4,4", po::bool_switch(), "Use IPv4 addresses only.")
        ("use-ipv6,6", po::bool_switch(), "Use IPv6 addresses only.")
        ("dns-server", po::value<std::vector<std::string>>()->value_name("HOST[:PORT]"),
         "Ask this resolver instead of the system's (repeatable).")
        ("ca-file", po::value<std::string>()->value_name("FILE"),
         "Trust the CA certificates in this PEM file instead of the system store.")
        ("ca-path", po::value<std::string>()->value_name("DIR"),
         "Trust the CA certificates in this hashed directory instead of the system store.")
        ("output", po::value<std::string>()->value_name("FORMAT"),
         "nagios (default) or json: one JSON object with state, summary, long output and "
         "metrics, for Zabbix and scripts.");
    // clang-format on
}

std::variant<CommonOptions, CliExit> Cli::parse(int argc, const char* const argv[])
{
    po::options_description all;
    all.add(own_).add(common_);
    const int style =
        po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    try {
        auto parsed = po::command_line_parser(argc, argv).options(all).style(style).run();
        const auto stray = po::collect_unrecognized(parsed.options, po::include_positional);
        if (!stray.empty()) {
            return usage_error("unexpected argument '" + stray.front() + "'");
        }
        // -v may repeat, which Boost does not allow for a switch: count it here instead.
        auto& options = parsed.options;
        const auto is_verbose = [](const auto& option) { return option.string_key == "verbose"; };
        verbosity_ = static_cast<int>(std::count_if(options.begin(), options.end(), is_verbose));
        options.erase(std::remove_if(options.begin(), options.end(), is_verbose), options.end());
        po::store(parsed, values_);
        po::notify(values_);
    } catch (const po::error& error) {
        return usage_error(error.what());
    }
    if (values_.count("help") != 0) {
        return CliExit{help(), 3};
    }
    if (values_.count("version") != 0) {
        return CliExit{version(), 3};
    }
    return collect_common();
}

std::variant<CommonOptions, CliExit> Cli::collect_common() const
{
    CommonOptions common;
    common.verbosity = std::min(verbosity_, 3);
    if (values_.count("timeout") != 0) {
        auto timeout = parse_timeout(values_["timeout"].as<std::string>());
        if (!timeout) {
            return usage_error(timeout.error().message);
        }
        common.timeout = *timeout;
    }
    if (values_.count("output") != 0) {
        const auto& format = values_["output"].as<std::string>();
        if (format != "nagios" && format != "json") {
            return usage_error("invalid --output '" + format + "': use nagios or json");
        }
        common.format = format == "json" ? OutputFormat::Json : OutputFormat::Nagios;
    }
    common.ipv4_only = values_["use-ipv4"].as<bool>();
    common.ipv6_only = values_["use-ipv6"].as<bool>();
    if (common.ipv4_only && common.ipv6_only) {
        return usage_error("-4 and -6 exclude each other");
    }
    if (values_.count("dns-server") != 0) {
        common.dns_servers = values_["dns-server"].as<std::vector<std::string>>();
    }
    if (values_.count("ca-file") != 0) {
        common.ca_file = values_["ca-file"].as<std::string>();
    }
    if (values_.count("ca-path") != 0) {
        common.ca_path = values_["ca-path"].as<std::string>();
    }
    return common;
}

CliExit Cli::usage_error(std::string_view what) const
{
    return CliExit{info_.name + " UNKNOWN - " + std::string(what) + "\nUsage: " + info_.program +
                       " " + info_.usage + "\nTry '" + info_.program +
                       " --help' for more information.\n",
                   3};
}

std::string Cli::version() const
{
    return info_.program + " " + MAILMON_VERSION + " (Mail Monitoring Plugins)\n";
}

std::string Cli::help() const
{
    std::string text = version() + "\n" + wrap(info_.purpose, 0) + "\nUsage:\n " + info_.program +
                       " " + info_.usage + "\n";
    const std::pair<const char*, const po::options_description*> groups[] = {
        {"Plugin options", &own_}, {"Common options", &common_}};
    for (const auto& [caption, group] : groups) {
        text += std::string("\n") + caption + ":\n";
        for (const auto& option : group->options()) {
            text += describe(*option);
        }
    }
    if (!info_.notes.empty()) {
        text += "\n" + info_.notes;
        if (text.back() != '\n') {
            text += '\n';
        }
    }
    return text;
}

} // namespace mailmon
