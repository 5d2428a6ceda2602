// SPDX-License-Identifier: GPL-3.0-or-later
// One monotonic deadline per run, taken from -t. Every blocking step asks it how long it may
// wait, so no path can outlive the plugin's timeout. Copyable and thread-safe to read.
#pragma once

#include <chrono>

namespace mailmon {

class Deadline {
public:
    using Clock = std::chrono::steady_clock;

    // A deadline `budget` from now.
    explicit Deadline(std::chrono::milliseconds budget);
    // A deadline at a fixed point in time.
    explicit Deadline(Clock::time_point at) : at_(at) {}

    Clock::time_point at() const { return at_; }
    bool expired() const { return Clock::now() >= at_; }

    // Time left, never negative.
    std::chrono::milliseconds remaining() const;
    // Time left in whole milliseconds as an int, clamped for poll(2) and c-ares (0 if expired).
    int remaining_ms() const;

    // A step deadline: this one, or `cap` from now if that comes sooner. Used to give one
    // target its own budget inside the overall timeout.
    Deadline capped(std::chrono::milliseconds cap) const;

private:
    Clock::time_point at_;
};

// Milliseconds elapsed since `start`, as seconds in a double (for perfdata).
double seconds_since(Deadline::Clock::time_point start);

} // namespace mailmon
