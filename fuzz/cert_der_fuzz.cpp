// SPDX-License-Identifier: GPL-3.0-or-later
// Fuzz target for certificate inspection: arbitrary bytes as a server's DER certificate, then
// name matching and, when it parses, a chain verification of the same bytes and an OCSP read.
#include "mailmon/cert.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::span<const std::uint8_t> der(data, size);
    const auto info = mailmon::inspect_certificate(der);
    const auto matched = mailmon::matches_name(der, "mx.example.org");
    if (info.ok() != matched.ok()) {
        __builtin_trap();
    }
    if (info.ok()) {
        (void)info->key_text();
        (void)mailmon::format_utc(info->not_after);
        auto store = mailmon::TrustStore::from_der({});
        if (store.ok()) {
            const mailmon::Der copy(data, data + size);
            (void)mailmon::verify_chain({copy, copy}, *store, info->not_before);
        }
    }
    (void)mailmon::read_ocsp_staple(der, der);
    return 0;
}
