// SPDX-License-Identifier: GPL-3.0-or-later
#include "mailmon/state.hpp"

namespace mailmon {

const char* to_string(State state)
{
    switch (state) {
    case State::Ok:
        return "OK";
    case State::Warning:
        return "WARNING";
    case State::Critical:
        return "CRITICAL";
    case State::Unknown:
        return "UNKNOWN";
    }
    return "UNKNOWN";
}

int severity(State state)
{
    switch (state) {
    case State::Ok:
        return 0;
    case State::Unknown:
        return 1;
    case State::Warning:
        return 2;
    case State::Critical:
        return 3;
    }
    return 1;
}

State worst(State a, State b)
{
    return severity(a) >= severity(b) ? a : b;
}

} // namespace mailmon
