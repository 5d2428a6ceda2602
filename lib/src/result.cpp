// SPDX-License-Identifier: GPL-3.0-or-later
#include "mailmon/result.hpp"

namespace mailmon {

const char* to_string(ErrorKind kind)
{
    switch (kind) {
    case ErrorKind::Usage:
        return "usage";
    case ErrorKind::Config:
        return "config";
    case ErrorKind::Timeout:
        return "timeout";
    case ErrorKind::ResolveSoft:
        return "resolve-soft";
    case ErrorKind::ResolveHard:
        return "resolve-hard";
    case ErrorKind::Connect:
        return "connect";
    case ErrorKind::Protocol:
        return "protocol";
    case ErrorKind::Tls:
        return "tls";
    case ErrorKind::Certificate:
        return "certificate";
    case ErrorKind::Internal:
        return "internal";
    }
    return "internal";
}

} // namespace mailmon
