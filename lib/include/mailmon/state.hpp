// SPDX-License-Identifier: GPL-3.0-or-later
// The four plugin states, their exit codes and names, and how two states combine.
#pragma once

namespace mailmon {

// The enumerator values are the exit codes of the plugin contract.
enum class State { Ok = 0, Warning = 1, Critical = 2, Unknown = 3 };

// "OK", "WARNING", "CRITICAL", "UNKNOWN".
const char* to_string(State state);

inline int exit_code(State state)
{
    return static_cast<int>(state);
}

// The worse of two states, ranked OK < UNKNOWN < WARNING < CRITICAL: a problem we could see
// outranks one we could not measure, and CRITICAL always wins.
State worst(State a, State b);

} // namespace mailmon
