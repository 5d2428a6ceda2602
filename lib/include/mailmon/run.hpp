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

} // namespace mailmon
