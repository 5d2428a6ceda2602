// SPDX-License-Identifier: GPL-3.0-or-later
#include "mailmon/deadline.hpp"

#include <algorithm>
#include <limits>

namespace mailmon {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

Deadline::Deadline(milliseconds budget) : at_(Clock::now() + budget) {}

milliseconds Deadline::remaining() const
{
    const auto left = at_ - Clock::now();
    if (left <= Clock::duration::zero()) {
        return milliseconds::zero();
    }
    // Round up so that a deadline 0.4 ms away is not reported as already expired.
    return duration_cast<milliseconds>(left + milliseconds(1) - Clock::duration(1));
}

int Deadline::remaining_ms() const
{
    const auto left = remaining().count();
    return static_cast<int>(std::min<long long>(left, std::numeric_limits<int>::max()));
}

Deadline Deadline::capped(milliseconds cap) const
{
    return Deadline(std::min(at_, Clock::now() + cap));
}

double seconds_since(Deadline::Clock::time_point start)
{
    const auto elapsed = Deadline::Clock::now() - start;
    return std::chrono::duration<double>(elapsed).count();
}

} // namespace mailmon
