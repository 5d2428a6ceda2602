// SPDX-License-Identifier: GPL-3.0-or-later
// The text of an errno value in the lowercase form our messages use; thread-safe, unlike
// strerror(3).
#pragma once

#include <string>

namespace mailmon {

// "connection refused" for ECONNREFUSED.
std::string system_error_text(int error_number);

} // namespace mailmon
