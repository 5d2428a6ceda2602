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

// How bad a state is, for ordering: OK 0 < UNKNOWN 1 < WARNING 2 < CRITICAL 3. A problem we
// could see outranks one we could not measure, and CRITICAL always wins.
int severity(State state);

// The worse of two states by severity().
State worst(State a, State b);

} // namespace mailmon
