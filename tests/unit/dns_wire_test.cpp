// SPDX-License-Identifier: GPL-3.0-or-later
// The DNS wire layer: queries carry AD, and raw answers parse into typed responses or into
// Malformed, never a crash.
#include "dns_wire.hpp"
#include "dns_wire_builder.hpp"

#include <algorithm>
#include <doctest/doctest.h>

using namespace mailmon::dns;
using namespace mailmon::test;

namespace {

Response parse(const Query& query, const Bytes& wire)
{
    return parse_answer(query, wire);
}

// An MX answer with compressed owners and exchanges, written by hand.
// clang-format off
const Bytes compressed_mx = {
    0x12, 0x34, 0x81, 0xa0, 0, 1, 0, 2, 0, 0, 0, 0,                   // header, AD set
    7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0, 0, 15, 0, 1, // question
    0xc0, 12, 0, 15, 0, 1, 0, 0, 0x0e, 0x10, 0, 7, 0, 10, 2, 'm', 'x', 0xc0, 12,
    0xc0, 12, 0, 15, 0, 1, 0, 0, 0x0e, 0x10, 0, 8, 0, 20, 3, 'm', 'x', '2', 0xc0, 12};
// clang-format on

Message cname_chain()
{
    Message message;
    message.qname = "www.example.org";
    message.answers = {{"www.example.org", type_cname, encode_name("a.example.net")},
                       {"a.example.net", type_cname, encode_name("b.example.net")},
                       {"b.example.net", type_a, address_rdata("192.0.2.7")}};
    return message;
}

} // namespace

TEST_CASE("dns: a query asks for recursion and AD, without EDNS")
{
    const auto query = build_query({"example.org", Type::MX});
    REQUIRE(query.ok());
    const Bytes& bytes = *query;
    REQUIRE(bytes.size() == 12 + 13 + 4);
    CHECK((bytes[2] & 0x01) != 0); // RD
    CHECK((bytes[3] & 0x20) != 0); // AD
    CHECK(bytes[5] == 1); // QDCOUNT
    CHECK(bytes[11] == 0); // ARCOUNT: no OPT record
    CHECK(bytes[12 + 13 + 1] == 15); // QTYPE MX
    const Bytes name = encode_name("example.org");
    CHECK(Bytes(bytes.begin() + 12, bytes.begin() + 25) == name);
}

TEST_CASE("dns: a name that cannot be encoded is refused when the query is built")
{
    CHECK_FALSE(build_query({std::string(64, 'a') + ".example", Type::A}).ok());
    CHECK_FALSE(build_query({std::string("a\0b.example", 11), Type::A}).ok());
    CHECK(build_query({"example.org.", Type::A}).ok());
}

TEST_CASE("dns: an MX answer with compressed names gives every exchange and the AD bit")
{
    const Response response = parse({"example.org", Type::MX}, compressed_mx);
    REQUIRE(response.status == Status::Ok);
    CHECK(response.authenticated);
    REQUIRE(response.mx.size() == 2);
    CHECK(response.mx[0].preference == 10);
    CHECK(response.mx[0].exchange == "mx.example.org");
    CHECK(response.mx[1].preference == 20);
    CHECK(response.mx[1].exchange == "mx2.example.org");
    CHECK(response.cnames.empty());
}

TEST_CASE("dns: the null MX of RFC 7505 has an empty exchange")
{
    Message message;
    message.qtype = type_mx;
    message.answers = {{"example.org", type_mx, mx_rdata(0, ".")}};
    const Response response = parse({"example.org", Type::MX}, encode(message));
    REQUIRE(response.status == Status::Ok);
    REQUIRE(response.mx.size() == 1);
    CHECK(response.mx[0].preference == 0);
    CHECK(response.mx[0].exchange.empty());
    CHECK_FALSE(response.authenticated);
}

TEST_CASE("dns: TXT strings of one record are joined, records stay apart")
{
    Message message;
    message.qtype = type_txt;
    message.answers = {{"example.org", type_txt, txt_rdata({"v=spf1 ", "-all"})},
                       {"example.org", type_txt, txt_rdata({"second"})},
                       {"example.org", type_txt, {}}};
    const Response response = parse({"example.org", Type::TXT}, encode(message));
    REQUIRE(response.status == Status::Ok);
    CHECK(response.texts == std::vector<std::string>{"v=spf1 -all", "second", ""});
}

TEST_CASE("dns: TLSA records keep usage, selector, matching type and data")
{
    Message message;
    message.qname = "_25._tcp.mx.example.org";
    message.qtype = type_tlsa;
    message.authenticated = true;
    message.answers = {{message.qname, type_tlsa, tlsa_rdata(3, 1, 1, {0xde, 0xad, 0xbe, 0xef})},
                       {message.qname, type_tlsa, tlsa_rdata(2, 0, 0, {})}};
    const Response response = parse({message.qname, Type::TLSA}, encode(message));
    REQUIRE(response.status == Status::Ok);
    CHECK(response.authenticated);
    REQUIRE(response.tlsa.size() == 2);
    CHECK(response.tlsa[0].usage == 3);
    CHECK(response.tlsa[0].selector == 1);
    CHECK(response.tlsa[0].matching_type == 1);
    CHECK(response.tlsa[0].data == Bytes{0xde, 0xad, 0xbe, 0xef});
    CHECK(response.tlsa[1].usage == 2);
    CHECK(response.tlsa[1].data.empty());
}

TEST_CASE("dns: a CNAME chain is reported and followed to the addresses at its end")
{
    Message message = cname_chain();
    SUBCASE("in order") {}
    SUBCASE("in reverse order")
    {
        std::reverse(message.answers.begin(), message.answers.end());
    }
    const Response response = parse({"WWW.Example.org.", Type::A}, encode(message));
    REQUIRE(response.status == Status::Ok);
    CHECK(response.cnames == std::vector<std::string>{"a.example.net", "b.example.net"});
    CHECK(response.addresses == std::vector<std::string>{"192.0.2.7"});
}

TEST_CASE("dns: a CNAME-only answer is NODATA for A and still names the alias")
{
    Message message = cname_chain();
    message.answers.pop_back();
    const Response response = parse({"www.example.org", Type::A}, encode(message));
    CHECK(response.status == Status::NoData);
    CHECK(response.cnames == std::vector<std::string>{"a.example.net", "b.example.net"});
    CHECK(response.addresses.empty());
}

TEST_CASE("dns: a CNAME query answers with the target")
{
    Message message = cname_chain();
    message.qtype = type_cname;
    message.answers.resize(1);
    const Response response = parse({"www.example.org", Type::CNAME}, encode(message));
    CHECK(response.status == Status::Ok);
    CHECK(response.cnames == std::vector<std::string>{"a.example.net"});
}

TEST_CASE("dns: a CNAME loop ends the chain instead of looping")
{
    Message message;
    message.answers = {{"example.org", type_cname, encode_name("loop.example.org")},
                       {"loop.example.org", type_cname, encode_name("example.org")}};
    const Response response = parse({"example.org", Type::A}, encode(message));
    CHECK(response.status == Status::NoData);
    CHECK(response.cnames.size() == 2);
}

TEST_CASE("dns: records of other names, types and classes are ignored")
{
    Message message;
    message.answers = {{"other.example.org", type_a, address_rdata("192.0.2.1")},
                       {"example.org", type_aaaa, address_rdata("2001:db8::1")},
                       {"example.org", type_a, address_rdata("192.0.2.2"), 3},
                       {"example.org", type_a, address_rdata("192.0.2.3")}};
    const Response response = parse({"example.org", Type::A}, encode(message));
    REQUIRE(response.status == Status::Ok);
    CHECK(response.addresses == std::vector<std::string>{"192.0.2.3"});
}

TEST_CASE("dns: AAAA and PTR answers")
{
    Message aaaa;
    aaaa.qtype = type_aaaa;
    aaaa.answers = {{"example.org", type_aaaa, address_rdata("2001:db8::25")}};
    const Response v6 = parse({"example.org", Type::AAAA}, encode(aaaa));
    CHECK(v6.status == Status::Ok);
    CHECK(v6.addresses == std::vector<std::string>{"2001:db8::25"});

    Message ptr;
    ptr.qname = "1.2.0.192.in-addr.arpa";
    ptr.qtype = type_ptr;
    ptr.answers = {{ptr.qname, type_ptr, encode_name("mail.example.org")}};
    const Response name = parse({ptr.qname, Type::PTR}, encode(ptr));
    CHECK(name.status == Status::Ok);
    CHECK(name.texts == std::vector<std::string>{"mail.example.org"});
}

TEST_CASE("dns: RCODEs map to statuses")
{
    struct Case {
        unsigned rcode;
        Status status;
        const char* detail;
    };
    const Case cases[] = {
        {0, Status::NoData, ""},
        {1, Status::ServFail, "the server answered FORMERR"},
        {2, Status::ServFail, ""},
        {3, Status::NxDomain, ""},
        {4, Status::ServFail, "the server answered NOTIMP"},
        {5, Status::Refused, ""},
        {9, Status::ServFail, "the server answered RCODE 9"},
    };
    for (const Case& item : cases) {
        CAPTURE(item.rcode);
        Message message;
        message.rcode = item.rcode;
        const Response response = parse({"example.org", Type::A}, encode(message));
        CHECK(response.status == item.status);
        CHECK(response.detail == item.detail);
    }
}

TEST_CASE("dns: NXDOMAIN after a CNAME keeps the alias")
{
    Message message;
    message.rcode = 3;
    message.answers = {{"example.org", type_cname, encode_name("gone.example.net")}};
    const Response response = parse({"example.org", Type::A}, encode(message));
    CHECK(response.status == Status::NxDomain);
    CHECK(response.cnames == std::vector<std::string>{"gone.example.net"});
}

TEST_CASE("dns: broken answers are Malformed with a detail")
{
    struct Case {
        const char* what = "";
        Type type = Type::A;
        Rr record;
        const char* detail = "";
    };
    const Case cases[] = {
        {"short A", Type::A, {"example.org", type_a, {1, 2, 3}}, "A record of 3 bytes"},
        {"long AAAA", Type::AAAA, {"example.org", type_aaaa, Bytes(17)}, "AAAA record of 17 bytes"},
        {"MX without name", Type::MX, {"example.org", type_mx, {0, 1}}, "MX record of 2 bytes"},
        {"MX name past data",
         Type::MX,
         {"example.org", type_mx, {0, 1, 3, 'a'}},
         "MX record has a bad name"},
        {"TXT overrun",
         Type::TXT,
         {"example.org", type_txt, {5, 'a'}},
         "TXT record has a string running past its end"},
        {"short TLSA", Type::TLSA, {"example.org", type_tlsa, {3, 1}}, "TLSA record of 2 bytes"},
        {"CNAME with junk",
         Type::A,
         {"example.org", type_cname, {1, 'a', 0, 7}},
         "CNAME record has a bad name"},
    };
    for (const Case& item : cases) {
        CAPTURE(item.what);
        Message message;
        message.authenticated = true;
        message.answers = {item.record};
        const Response response = parse({"example.org", item.type}, encode(message));
        CHECK(response.status == Status::Malformed);
        CHECK(response.detail == item.detail);
        CHECK_FALSE(response.authenticated);
    }
}

TEST_CASE("dns: a query echoed back is not an answer")
{
    const auto query = build_query({"example.org", Type::A});
    REQUIRE(query.ok());
    const Response response = parse({"example.org", Type::A}, *query);
    CHECK(response.status == Status::Malformed);
    CHECK(response.detail == "message is a query, not a response");
}

TEST_CASE("dns: every truncated prefix of an answer is Malformed")
{
    struct Case {
        const char* what;
        Query query;
        Bytes wire;
    };
    Message txt;
    txt.qtype = type_txt;
    txt.answers = {{"example.org", type_txt, txt_rdata({"a", "bc"})}};
    Message tlsa;
    tlsa.qtype = type_tlsa;
    tlsa.answers = {{"example.org", type_tlsa, tlsa_rdata(3, 1, 1, Bytes(32, 7))}};
    const Case cases[] = {
        {"MX", {"example.org", Type::MX}, compressed_mx},
        {"CNAME chain", {"www.example.org", Type::A}, encode(cname_chain())},
        {"TXT", {"example.org", Type::TXT}, encode(txt)},
        {"TLSA", {"example.org", Type::TLSA}, encode(tlsa)},
    };
    for (const Case& item : cases) {
        CAPTURE(item.what);
        REQUIRE(parse(item.query, item.wire).status == Status::Ok);
        for (std::size_t length = 0; length < item.wire.size(); ++length) {
            CAPTURE(length);
            const Bytes prefix(item.wire.begin(),
                               item.wire.begin() + static_cast<std::ptrdiff_t>(length));
            CHECK(parse(item.query, prefix).status == Status::Malformed);
        }
    }
}

TEST_CASE("dns: compression pointer loops are Malformed")
{
    const Bytes header = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0};
    const Bytes question = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0, 0, 15, 0, 1};
    struct Case {
        const char* what;
        bool with_question;
        Bytes tail;
        const char* detail;
    };
    const Case cases[] = {
        {"question points at itself", false, {0xc0, 12, 0, 15, 0, 1}, "question 1 has a bad name"},
        {"owner points at itself",
         true,
         {0xc0, 29, 0, 15, 0, 1, 0, 0, 0, 0, 0, 4, 0, 1, 0xc0, 12},
         "answer record 1 has a bad owner name"},
        {"two pointers point at each other",
         true,
         {0xc0, 31, 0xc0, 29, 0, 15, 0, 1, 0, 0, 0, 0, 0, 4, 0, 1, 0xc0, 12},
         "answer record 1 has a bad owner name"},
        {"exchange points at itself",
         true,
         {0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 0, 0, 4, 0, 1, 0xc0, 43},
         "MX record has a bad name"},
        {"pointer past the end",
         true,
         {0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 0, 0, 4, 0, 1, 0xc0, 200},
         "MX record has a bad name"},
    };
    for (const Case& item : cases) {
        CAPTURE(item.what);
        Bytes wire = header;
        if (item.with_question) {
            wire.insert(wire.end(), question.begin(), question.end());
        }
        wire.insert(wire.end(), item.tail.begin(), item.tail.end());
        const Response response = parse({"example.org", Type::MX}, wire);
        CHECK(response.status == Status::Malformed);
        CHECK(response.detail == item.detail);
    }
}
