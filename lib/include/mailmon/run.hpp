// SPDX-License-Identifier: GPL-3.0-or-later
// What every plugin's main needs around its check: the single top-level catch that turns any
// escaped exception into UNKNOWN (exit 3, never a crash or a stray exit code), and a watchdog
// that guarantees a report and an exit when -t runs out, whatever a step is stuck in.
#pragma once

#include "mailmon/cli.hpp"
#include "mailmon/deadline.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <variant>

namespace mailmon {

// Runs `body` and returns its exit code; an exception escaping it is reported as
// "NAME UNKNOWN - internal error: ..." with exit code 3.
int run_guarded(const std::string& name, const std::function<int()>& body) noexcept;

// Starts a detached thread that, if the process is still running at `overall`, prints
// "NAME STATE - timeout after Ns" with the -t state and ends the process with that exit code.
// Steps should finish well before: it is a safety net, not the way a timeout is reported.
void arm_watchdog(const std::string& name, const TimeoutSetting& timeout, Deadline overall);

// The deadline for talking to targets: the overall one less a reserve (a tenth of the budget,
// at most 500 ms), so that a silent target is reported CRITICAL before -t expires.
Deadline target_deadline(const TimeoutSetting& timeout, Deadline overall);

// The main shared by the plugins: parse the options (`declare` adds the plugin's own, `read`
// turns them into `Options` or a usage-error message), arm the watchdog, run `check` with the
// target deadline, print its Report. One function, so every plugin has the same exit paths:
// help, version and usage errors exit 3; an escaped exception is UNKNOWN.
template <typename Options, typename Declare, typename Read, typename Check>
int run_plugin(const PluginInfo& info, int argc, char** argv, Declare declare, Read read,
               Check check)
{
    return run_guarded(info.name, [&] {
        Cli cli(info);
        declare(cli);
        const auto parsed = cli.parse(argc, argv);
        if (const auto* exit = std::get_if<CliExit>(&parsed)) {
            return emit_text(exit->text, exit->exit_code);
        }
        const auto& common = std::get<CommonOptions>(parsed);
        const std::variant<Options, std::string> options = read(cli, common);
        if (const auto* error = std::get_if<std::string>(&options)) {
            return emit_text(cli.usage_error(*error).text, 3);
        }
        const Deadline overall(common.timeout.budget);
        arm_watchdog(info.name, common.timeout, overall);
        Diagnostics diagnostics(common.verbosity);
        const Report report = check(std::get<Options>(options), common, diagnostics,
                                    target_deadline(common.timeout, overall));
        return emit(report, common.format);
    });
}

} // namespace mailmon
