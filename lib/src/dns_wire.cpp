// SPDX-License-Identifier: GPL-3.0-or-later
// Raw DNS messages. Answers are parsed here rather than by ares_parse_*_reply: c-ares 1.18 has
// no TLSA parser, and (measured on 1.18.1) ares_parse_a_reply reports success without an
// address for a CNAME-only answer, drops an A record listed before the CNAMEs leading to it,
// and calls the first alias the canonical name. One walk over the answer section gives every
// type the same CNAME handling.
#include "dns_wire.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace mailmon::dns {
namespace {

using Wire = std::span<const std::uint8_t>;

constexpr std::size_t header_size = 12;
constexpr std::size_t question_fixed_size = 4; // QTYPE, QCLASS
constexpr std::size_t record_fixed_size = 10; // TYPE, CLASS, TTL, RDLENGTH
constexpr std::size_t max_message_size = 65535;
constexpr std::uint8_t ad_mask = 0x20; // header byte 3 (RFC 6840 5.7)
constexpr std::uint8_t qr_mask = 0x80; // header byte 2
constexpr int class_in = 1;
constexpr int rcode_formerr = 1;
constexpr int rcode_servfail = 2;
constexpr int rcode_nxdomain = 3;
constexpr int rcode_notimp = 4;
constexpr int rcode_refused = 5;

struct FreeAresString {
    void operator()(void* text) const { ares_free_string(text); }
};

struct Header {
    bool authenticated = false;
    int rcode = 0;
    std::uint16_t qdcount = 0;
    std::uint16_t ancount = 0;
};

// An answer record of class IN whose data stays in the message until we know it matters.
struct Record {
    std::string owner;
    std::uint16_t type = 0;
    std::size_t rdata = 0;
    std::size_t rdlength = 0;
};

Error malformed(std::string cause)
{
    return make_error(ErrorKind::Protocol, std::move(cause));
}

std::uint16_t read_u16(Wire wire, std::size_t at)
{
    return static_cast<std::uint16_t>((wire[at] << 8) | wire[at + 1]);
}

// The (possibly compressed) name at `at` and the bytes it occupies there. ares_expand_name
// bounds every read by the message size and rejects pointer loops.
std::optional<std::string> expand_name(Wire wire, std::size_t at, std::size_t& length)
{
    if (at >= wire.size()) {
        return std::nullopt;
    }
    char* text = nullptr;
    long used = 0;
    const int status = ares_expand_name(wire.data() + at, wire.data(),
                                        static_cast<int>(wire.size()), &text, &used);
    if (status != ARES_SUCCESS) {
        return std::nullopt;
    }
    const std::unique_ptr<char, FreeAresString> owned(text);
    length = static_cast<std::size_t>(used);
    return std::string(text);
}

bool same_name(std::string_view a, std::string_view b)
{
    const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

Result<Header> read_header(Wire wire)
{
    if (wire.size() < header_size) {
        return malformed("answer of " + std::to_string(wire.size()) +
                         " bytes is shorter than a DNS header");
    }
    if (wire.size() > max_message_size) {
        return malformed("answer is longer than a DNS message can be");
    }
    if ((wire[2] & qr_mask) == 0) {
        return malformed("message is a query, not a response");
    }
    Header header;
    header.authenticated = (wire[3] & ad_mask) != 0;
    header.rcode = wire[3] & 0x0f;
    header.qdcount = read_u16(wire, 4);
    header.ancount = read_u16(wire, 6);
    return header;
}

// Where the answer section starts, after the questions.
Result<std::size_t> skip_questions(Wire wire, const Header& header)
{
    std::size_t at = header_size;
    for (std::size_t i = 1; i <= header.qdcount; ++i) {
        std::size_t length = 0;
        if (!expand_name(wire, at, length)) {
            return malformed("question " + std::to_string(i) + " has a bad name");
        }
        at += length + question_fixed_size;
        if (at > wire.size()) {
            return malformed("question " + std::to_string(i) + " is truncated");
        }
    }
    return at;
}

Result<std::vector<Record>> read_answers(Wire wire, const Header& header)
{
    auto at = skip_questions(wire, header);
    if (!at) {
        return at.error();
    }
    std::vector<Record> records;
    for (std::size_t i = 1; i <= header.ancount; ++i) {
        const std::string which = "answer record " + std::to_string(i);
        std::size_t length = 0;
        auto owner = expand_name(wire, *at, length);
        if (!owner) {
            return malformed(which + " has a bad owner name");
        }
        *at += length;
        if (*at + record_fixed_size > wire.size()) {
            return malformed(which + " is truncated");
        }
        const std::uint16_t type = read_u16(wire, *at);
        const std::uint16_t klass = read_u16(wire, *at + 2);
        const std::size_t rdlength = read_u16(wire, *at + 8);
        const std::size_t rdata = *at + record_fixed_size;
        *at = rdata + rdlength;
        if (*at > wire.size()) {
            return malformed(which + " has data running past the end of the message");
        }
        if (klass == class_in) {
            records.push_back(Record{std::move(*owner), type, rdata, rdlength});
        }
    }
    return records;
}

// A name that fills the record data exactly (CNAME, PTR, the exchange of an MX).
Result<std::string> name_in_rdata(Wire wire, std::size_t at, std::size_t end, const char* what)
{
    std::size_t length = 0;
    auto name = expand_name(wire, at, length);
    if (!name || at + length != end) {
        return malformed(std::string(what) + " record has a bad name");
    }
    return std::move(*name);
}

// Walks the CNAME chain from the query name into response.cnames and returns the name at its
// end. Bounded by the number of records, so a CNAME loop ends too.
Result<std::string> follow_cnames(Wire wire, const std::vector<Record>& records, Response& response)
{
    std::string_view query_name = response.query.name;
    if (query_name.ends_with('.')) {
        query_name.remove_suffix(1);
    }
    std::string current(query_name);
    for (std::size_t step = 0; step < records.size(); ++step) {
        const Record* alias = nullptr;
        for (const Record& record : records) {
            if (record.type == type_code(Type::CNAME) && same_name(record.owner, current)) {
                alias = &record;
                break;
            }
        }
        if (alias == nullptr) {
            break;
        }
        auto target = name_in_rdata(wire, alias->rdata, alias->rdata + alias->rdlength, "CNAME");
        if (!target) {
            return target.error();
        }
        response.cnames.push_back(*target);
        current = std::move(*target);
    }
    return current;
}

Result<Unit> decode_address(Wire wire, const Record& record, Response& response)
{
    const bool v4 = record.type == type_code(Type::A);
    const std::size_t expected = v4 ? 4 : 16;
    if (record.rdlength != expected) {
        return malformed(std::string(v4 ? "A" : "AAAA") + " record of " +
                         std::to_string(record.rdlength) + " bytes");
    }
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(v4 ? AF_INET : AF_INET6, wire.data() + record.rdata, text, sizeof(text));
    response.addresses.emplace_back(text);
    return Unit{};
}

Result<Unit> decode_mx(Wire wire, const Record& record, Response& response)
{
    if (record.rdlength < 3) {
        return malformed("MX record of " + std::to_string(record.rdlength) + " bytes");
    }
    auto exchange = name_in_rdata(wire, record.rdata + 2, record.rdata + record.rdlength, "MX");
    if (!exchange) {
        return exchange.error();
    }
    response.mx.push_back(Mx{read_u16(wire, record.rdata), std::move(*exchange)});
    return Unit{};
}

// RFC 1035 3.3.14: one or more <character-string>s, joined here as RFC 7208 3.3 asks for SPF.
Result<Unit> decode_txt(Wire wire, const Record& record, Response& response)
{
    std::string text;
    const std::size_t end = record.rdata + record.rdlength;
    for (std::size_t at = record.rdata; at < end;) {
        const std::size_t length = wire[at];
        if (at + 1 + length > end) {
            return malformed("TXT record has a string running past its end");
        }
        text.append(reinterpret_cast<const char*>(wire.data() + at + 1), length);
        at += 1 + length;
    }
    response.texts.push_back(std::move(text));
    return Unit{};
}

Result<Unit> decode_tlsa(Wire wire, const Record& record, Response& response)
{
    if (record.rdlength < 3) {
        return malformed("TLSA record of " + std::to_string(record.rdlength) + " bytes");
    }
    const auto* data = wire.data() + record.rdata;
    response.tlsa.push_back(Tlsa{data[0], data[1], data[2],
                                 std::vector<std::uint8_t>(data + 3, data + record.rdlength)});
    return Unit{};
}

Result<Unit> decode_record(Wire wire, const Record& record, Type type, Response& response)
{
    switch (type) {
    case Type::A:
    case Type::AAAA:
        return decode_address(wire, record, response);
    case Type::MX:
        return decode_mx(wire, record, response);
    case Type::TXT:
        return decode_txt(wire, record, response);
    case Type::PTR: {
        auto name = name_in_rdata(wire, record.rdata, record.rdata + record.rdlength, "PTR");
        if (!name) {
            return name.error();
        }
        response.texts.push_back(std::move(*name));
        return Unit{};
    }
    case Type::TLSA:
        return decode_tlsa(wire, record, response);
    case Type::CNAME:
        break; // follow_cnames has them already
    }
    return Unit{};
}

// Decodes the records of the asked type owned by `owner`; true if there was at least one.
Result<bool> decode_matches(Wire wire, const std::vector<Record>& records, const std::string& owner,
                            Response& response)
{
    const Type type = response.query.type;
    if (type == Type::CNAME) {
        return !response.cnames.empty();
    }
    bool found = false;
    for (const Record& record : records) {
        if (record.type != type_code(type) || !same_name(record.owner, owner)) {
            continue;
        }
        auto decoded = decode_record(wire, record, type, response);
        if (!decoded) {
            return decoded.error();
        }
        found = true;
    }
    return found;
}

// The status of an answer that carries no records for us, or nullopt for NOERROR/NXDOMAIN.
std::optional<Status> status_of_rcode(int rcode, std::string& detail)
{
    switch (rcode) {
    case 0:
    case rcode_nxdomain:
        return std::nullopt;
    case rcode_servfail:
        return Status::ServFail;
    case rcode_refused:
        return Status::Refused;
    case rcode_formerr:
        detail = "the server answered FORMERR";
        return Status::ServFail;
    case rcode_notimp:
        detail = "the server answered NOTIMP";
        return Status::ServFail;
    default:
        detail = "the server answered RCODE " + std::to_string(rcode);
        return Status::ServFail;
    }
}

Result<Unit> read_message(Wire wire, Response& response)
{
    auto header = read_header(wire);
    if (!header) {
        return header.error();
    }
    response.authenticated = header->authenticated;
    if (auto failed = status_of_rcode(header->rcode, response.detail)) {
        response.status = *failed;
        return Unit{};
    }

    auto records = read_answers(wire, *header);
    if (!records) {
        return records.error();
    }
    auto owner = follow_cnames(wire, *records, response);
    if (!owner) {
        return owner.error();
    }
    auto found = decode_matches(wire, *records, *owner, response);
    if (!found) {
        return found.error();
    }

    if (header->rcode == rcode_nxdomain) {
        response.status = Status::NxDomain;
    } else {
        response.status = *found ? Status::Ok : Status::NoData;
    }
    return Unit{};
}

} // namespace

std::uint16_t type_code(Type type)
{
    switch (type) {
    case Type::A:
        return 1;
    case Type::AAAA:
        return 28;
    case Type::MX:
        return 15;
    case Type::TXT:
        return 16;
    case Type::PTR:
        return 12;
    case Type::CNAME:
        return 5;
    case Type::TLSA:
        return 52;
    }
    return 0;
}

// LIMIT: no EDNS0 — an answer over 512 bytes comes truncated and c-ares asks again over TCP, one
// round trip more (rare for the types here).
Result<std::vector<std::uint8_t>> build_query(const Query& query)
{
    if (query.name.find('\0') != std::string::npos) {
        return make_error(ErrorKind::Usage, "the name contains a NUL byte");
    }
    unsigned char* buffer = nullptr;
    int length = 0;
    const int status = ares_create_query(query.name.c_str(), class_in, type_code(query.type), 0, 1,
                                         &buffer, &length, 0);
    if (status != ARES_SUCCESS) {
        return make_error(ErrorKind::Usage, ares_strerror(status));
    }
    const std::unique_ptr<unsigned char, FreeAresString> owned(buffer);
    std::vector<std::uint8_t> bytes(buffer, buffer + length);

    // c-ares 1.18 cannot ask for AD itself; a validating resolver only reports AD to a query
    // that carries it (or DO), RFC 6840 5.7.
    bytes[3] |= ad_mask;
    return bytes;
}

Response parse_answer(const Query& query, Wire wire)
{
    Response response;
    response.query = query;
    auto parsed = read_message(wire, response);
    if (parsed) {
        return response;
    }

    // Nothing of a message that does not parse is trusted, not even its AD bit.
    Response failed;
    failed.query = query;
    failed.status = Status::Malformed;
    failed.detail = parsed.error().message;
    return failed;
}

} // namespace mailmon::dns
