// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer target for the SMTP reply parser and the EHLO capability parser: any bytes a
// server sends must give a Reply or a Protocol error, never a crash or an unbounded reply.
#include "mailmon/smtp.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer fixes this name.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto reply = mailmon::parse_reply(text);
    if (!reply) {
        if (reply.error().kind != mailmon::ErrorKind::Protocol) {
            __builtin_trap();
        }
        return 0;
    }
    if (reply->code < 200 || reply->code > 599 || reply->lines.empty() ||
        reply->lines.size() > mailmon::max_reply_lines) {
        __builtin_trap();
    }
    const mailmon::Capabilities capabilities = mailmon::parse_ehlo(reply.value());
    (void)capabilities.size_limit();
    return 0;
}
