// SPDX-License-Identifier: GPL-3.0-or-later
// Performance data items, formatted so that Nagios and Icinga 2's parser accept every one:
// 'label'=value[UOM];[warn];[crit];[min];[max], C-locale numbers, no exponents, never "U".
#pragma once

#include "mailmon/range.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace mailmon {

// Units from the Monitoring Plugins guideline list only.
enum class Uom { None, Seconds, Milliseconds, Percent, Bytes, Counter };

struct Metric {
    std::string label;
    double value = 0;
    Uom unit = Uom::None;
    std::optional<Range> warning;
    std::optional<Range> critical;
    std::optional<double> min;
    std::optional<double> max;
};

// The unit as written after the value: "", "s", "ms", "%", "B", "c".
const char* unit_suffix(Uom unit);

// A number in fixed notation with at most six decimals, trailing zeros dropped, "." as the
// decimal point whatever the locale. Non-finite values have no valid form: nullopt.
std::optional<std::string> format_number(double value);

// The label quoted when it holds anything but letters, digits and "_.-/", with the two
// characters the format forbids ('=' and the quote) replaced by '_'.
std::string format_label(std::string_view label);

// One item, or nullopt when the value is not finite (the item is then left out, because
// Icinga 2 rejects "U").
std::optional<std::string> format_metric(const Metric& metric);

} // namespace mailmon
