// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer target: threshold range text as a user or a template might pass it. A parsed range
// must evaluate any value without trouble, and its perfdata form must parse again.
#include "mailmon/range.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto range = mailmon::Range::parse(text);
    if (!range) {
        return 0;
    }
    static_cast<void>(range->alerts(0));
    static_cast<void>(range->alerts(-1e300));
    static_cast<void>(range->alerts(1e300));
    if (!mailmon::Range::parse(range->perfdata()).ok()) {
        __builtin_trap();
    }
    return 0;
}
