// SPDX-License-Identifier: GPL-3.0-or-later
#include "mailmon/run.hpp"

#include "mailmon/output.hpp"
#include "mailmon/perfdata.hpp"

#include <cstdlib>
#include <exception>
#include <thread>

namespace mailmon {

int run_guarded(const std::string& name, const std::function<int()>& body) noexcept
{
    try {
        return body();
    } catch (const std::exception& error) {
        return emit_text(name + " UNKNOWN - internal error: " + sanitize(error.what()) + "\n", 3);
    } catch (...) {
        return emit_text(name + " UNKNOWN - internal error: unknown exception\n", 3);
    }
}

void arm_watchdog(const std::string& name, const TimeoutSetting& timeout, Deadline overall)
{
    const double seconds = std::chrono::duration<double>(timeout.budget).count();
    const std::string text = name + " " + to_string(timeout.on_expiry) + " - timeout after " +
                             format_number(seconds).value_or("?") + "s\n";
    const int code = exit_code(timeout.on_expiry);
    std::thread([text, code, overall] {
        std::this_thread::sleep_until(overall.at());
        emit_text(text, code);
        // _Exit: the main thread may hold locks or be inside OpenSSL; no destructors may run.
        std::_Exit(code);
    }).detach();
}

Deadline target_deadline(const TimeoutSetting& timeout, Deadline overall)
{
    const auto reserve = std::min(timeout.budget / 10, std::chrono::milliseconds(500));
    return Deadline(overall.at() - reserve);
}

} // namespace mailmon
