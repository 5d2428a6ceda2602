// SPDX-License-Identifier: GPL-3.0-or-later
// The DANE reading of TLSA answers from tables: every resolver status, with and without the AD
// flag, and the owner names the lookups ask for.
#include "mailmon/dane.hpp"

#include <doctest/doctest.h>
#include <string>

using mailmon::DaneState;
using mailmon::dns::Status;

TEST_CASE("dane: TLSA owner names")
{
    struct Row {
        std::string host;
        std::uint16_t port;
        std::string expected;
    };
    const Row rows[] = {
        {"mx.example.org", 25, "_25._tcp.mx.example.org"},
        {"mx.example.org.", 25, "_25._tcp.mx.example.org"},
        {"mx.example.org..", 465, "_465._tcp.mx.example.org"},
        {"MX.Example.ORG", 587, "_587._tcp.MX.Example.ORG"},
    };
    for (const Row& row : rows) {
        CAPTURE(row.host);
        CHECK(mailmon::tlsa_name(row.host, row.port) == row.expected);
    }
}

TEST_CASE("dane: every TLSA answer as a DANE sender reads it")
{
    struct Row {
        Status status;
        bool authenticated;
        std::string resolver_detail;
        DaneState expected;
        std::string detail;
    };
    const Row rows[] = {
        {Status::Ok, true, "", DaneState::Validated, ""},
        {Status::Ok, false, "", DaneState::Unsigned, ""},
        {Status::NoData, true, "", DaneState::Absent, ""},
        {Status::NoData, false, "", DaneState::Absent, ""},
        {Status::NxDomain, true, "", DaneState::Absent, ""},
        {Status::NxDomain, false, "", DaneState::Absent, ""},
        {Status::ServFail, false, "", DaneState::Failed, "servfail"},
        {Status::ServFail, false, "the server answered FORMERR", DaneState::Failed,
         "servfail: the server answered FORMERR"},
        {Status::Refused, false, "", DaneState::Unanswered, "refused"},
        {Status::Timeout, false, "no answer after 3 tries per server", DaneState::Unanswered,
         "timeout: no answer after 3 tries per server"},
        {Status::Unreachable, false, "Connection refused", DaneState::Unanswered,
         "unreachable: Connection refused"},
        {Status::Malformed, false, "truncated\nanswer|x", DaneState::Unanswered,
         "malformed: truncated answer/x"},
        {Status::BadName, false, "label over 63 bytes", DaneState::Unanswered,
         "bad-name: label over 63 bytes"},
    };
    for (const Row& row : rows) {
        CAPTURE(mailmon::dns::to_string(row.status));
        CAPTURE(row.authenticated);
        mailmon::dns::Response response;
        response.status = row.status;
        response.authenticated = row.authenticated;
        response.detail = row.resolver_detail;
        if (row.status == Status::Ok) {
            response.tlsa = {{3, 1, 1, {0xab, 0xcd}}, {2, 0, 2, {0x01}}};
        }

        const mailmon::DaneLookup lookup = mailmon::read_tlsa_response(response);

        CHECK(lookup.state == row.expected);
        CHECK(lookup.detail == row.detail);
        // Unsigned records are kept too: check_mail_cert reports them, nobody verifies by them.
        REQUIRE(lookup.records.size() == response.tlsa.size());
        for (std::size_t i = 0; i < lookup.records.size(); ++i) {
            CHECK(lookup.records[i].usage == response.tlsa[i].usage);
            CHECK(lookup.records[i].selector == response.tlsa[i].selector);
            CHECK(lookup.records[i].matching_type == response.tlsa[i].matching_type);
            CHECK(lookup.records[i].data == response.tlsa[i].data);
        }
    }
}

TEST_CASE("dane: nothing looked up is the default")
{
    const mailmon::DaneLookup lookup;
    CHECK(lookup.state == DaneState::NotLookedUp);
    CHECK(lookup.records.empty());
    CHECK(lookup.detail.empty());
}
