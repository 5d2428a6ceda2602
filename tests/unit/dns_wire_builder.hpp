// SPDX-License-Identifier: GPL-3.0-or-later
// DNS messages built byte by byte for the dns tests: answers fed to the parser, and the replies
// of the in-process fake server. Names are written without compression.
#pragma once

#include <arpa/inet.h>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mailmon::test {

using Bytes = std::vector<std::uint8_t>;

constexpr std::uint16_t type_a = 1;
constexpr std::uint16_t type_cname = 5;
constexpr std::uint16_t type_ptr = 12;
constexpr std::uint16_t type_mx = 15;
constexpr std::uint16_t type_txt = 16;
constexpr std::uint16_t type_aaaa = 28;
constexpr std::uint16_t type_tlsa = 52;

inline void put16(Bytes& out, unsigned value)
{
    out.push_back(static_cast<std::uint8_t>(value >> 8));
    out.push_back(static_cast<std::uint8_t>(value));
}

// "" and "." are the root.
inline Bytes encode_name(std::string_view name)
{
    Bytes out;
    while (!name.empty() && name != ".") {
        const auto dot = name.find('.');
        const auto label = name.substr(0, dot);
        out.push_back(static_cast<std::uint8_t>(label.size()));
        out.insert(out.end(), label.begin(), label.end());
        name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
    }
    out.push_back(0);
    return out;
}

inline Bytes address_rdata(const std::string& ip)
{
    Bytes out(16);
    if (inet_pton(AF_INET, ip.c_str(), out.data()) == 1) {
        out.resize(4);
    } else {
        inet_pton(AF_INET6, ip.c_str(), out.data());
    }
    return out;
}

inline Bytes mx_rdata(unsigned preference, std::string_view exchange)
{
    Bytes out;
    put16(out, preference);
    const Bytes name = encode_name(exchange);
    out.insert(out.end(), name.begin(), name.end());
    return out;
}

inline Bytes txt_rdata(const std::vector<std::string>& strings)
{
    Bytes out;
    for (const std::string& text : strings) {
        out.push_back(static_cast<std::uint8_t>(text.size()));
        out.insert(out.end(), text.begin(), text.end());
    }
    return out;
}

inline Bytes tlsa_rdata(std::uint8_t usage, std::uint8_t selector, std::uint8_t matching,
                        const Bytes& data)
{
    Bytes out{usage, selector, matching};
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

struct Rr {
    std::string owner;
    std::uint16_t type = type_a;
    Bytes rdata;
    std::uint16_t klass = 1;
};

struct Message {
    std::uint16_t id = 0x1234;
    unsigned rcode = 0;
    bool authenticated = false;
    std::string qname = "example.org";
    std::uint16_t qtype = type_a;
    std::vector<Rr> answers;
};

inline Bytes encode(const Message& message)
{
    Bytes out;
    put16(out, message.id);
    out.push_back(0x81); // QR, RD
    out.push_back(static_cast<std::uint8_t>(0x80 | (message.authenticated ? 0x20 : 0) |
                                            (message.rcode & 0x0f))); // RA, AD, RCODE
    put16(out, 1);
    put16(out, static_cast<unsigned>(message.answers.size()));
    put16(out, 0);
    put16(out, 0);
    const Bytes qname = encode_name(message.qname);
    out.insert(out.end(), qname.begin(), qname.end());
    put16(out, message.qtype);
    put16(out, 1);
    for (const Rr& rr : message.answers) {
        const Bytes owner = encode_name(rr.owner);
        out.insert(out.end(), owner.begin(), owner.end());
        put16(out, rr.type);
        put16(out, rr.klass);
        put16(out, 0);
        put16(out, 300); // TTL
        put16(out, static_cast<unsigned>(rr.rdata.size()));
        out.insert(out.end(), rr.rdata.begin(), rr.rdata.end());
    }
    return out;
}

} // namespace mailmon::test
