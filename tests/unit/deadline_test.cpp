// SPDX-License-Identifier: GPL-3.0-or-later
#include "mailmon/deadline.hpp"
#include "mailmon/run.hpp"

#include <doctest/doctest.h>
#include <thread>

using namespace std::chrono_literals;
using mailmon::Deadline;

TEST_CASE("deadline: a fresh deadline has its budget left, rounded up")
{
    const Deadline deadline(500ms);
    CHECK(deadline.remaining() <= 500ms);
    CHECK(deadline.remaining() > 400ms);
    CHECK_FALSE(deadline.expired());
}

TEST_CASE("deadline: an elapsed deadline reports zero, never a negative time")
{
    const Deadline deadline(1ms);
    std::this_thread::sleep_for(5ms);
    CHECK(deadline.expired());
    CHECK(deadline.remaining() == 0ms);
    CHECK(deadline.remaining_ms() == 0);
}

TEST_CASE("deadline: capped takes the sooner of the two")
{
    const Deadline overall(10s);
    CHECK(overall.capped(100ms).remaining() <= 100ms);
    CHECK(overall.capped(1h).at() == overall.at());
}

TEST_CASE("deadline: targets get the overall budget less a tenth, at most 500 ms")
{
    const Deadline overall(10s);
    mailmon::TimeoutSetting ten_seconds;
    ten_seconds.budget = 10s;
    CHECK(overall.at() - mailmon::target_deadline(ten_seconds, overall).at() == 500ms);

    mailmon::TimeoutSetting two_seconds;
    two_seconds.budget = 2s;
    CHECK(overall.at() - mailmon::target_deadline(two_seconds, overall).at() == 200ms);
}
