// SPDX-License-Identifier: GPL-3.0-or-later
// The dns module: reverse names, errors, server settings, and the resolver loop against an
// in-process UDP server on 127.0.0.1 that answers from a table, including the faults a real
// resolver does not produce on demand (silence, garbage, odd RCODEs).
#include "dns_wire_builder.hpp"
#include "mailmon/dns.hpp"

#include <atomic>
#include <doctest/doctest.h>
#include <functional>
#include <map>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace std::chrono_literals;
using namespace mailmon::dns;
using namespace mailmon::test;
using mailmon::Deadline;
using mailmon::ErrorKind;

namespace {

struct FakeQuery {
    std::string name;
    std::uint16_t type = 0;
    bool wants_ad = false;
    bool over_tcp = false;
};

// The bytes to send back for a query, or nullopt to stay silent.
using Handler = std::function<std::optional<Bytes>(const FakeQuery&, std::uint16_t id)>;

std::optional<FakeQuery> decode_query(const Bytes& packet)
{
    FakeQuery query;
    std::size_t at = 12;
    while (at < packet.size() && packet[at] != 0) {
        const std::size_t length = packet[at];
        if (at + 1 + length > packet.size()) {
            return std::nullopt;
        }
        query.name += (query.name.empty() ? "" : ".");
        query.name.append(packet.begin() + static_cast<long>(at) + 1,
                          packet.begin() + static_cast<long>(at + 1 + length));
        at += 1 + length;
    }
    if (packet.size() < 12 || at + 5 > packet.size()) {
        return std::nullopt;
    }
    query.type = static_cast<std::uint16_t>((packet[at + 1] << 8) | packet[at + 2]);
    query.wants_ad = (packet[3] & 0x20) != 0;
    return query;
}

// A socket bound to 127.0.0.1:port (0: the kernel picks).
int bound_socket(int type, std::uint16_t port)
{
    const int fd = ::socket(AF_INET, type, 0);
    REQUIRE(fd >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    return fd;
}

std::uint16_t local_port(int fd)
{
    sockaddr_in address{};
    socklen_t length = sizeof(address);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    return ntohs(address.sin_port);
}

bool read_exact(int fd, std::uint8_t* data, std::size_t size)
{
    while (size > 0) {
        const auto got = ::recv(fd, data, size, 0);
        if (got <= 0) {
            return false;
        }
        data += got;
        size -= static_cast<std::size_t>(got);
    }
    return true;
}

// A DNS server on 127.0.0.1, UDP and TCP on one kernel-chosen port, serving until destroyed.
class FakeDnsServer {
public:
    explicit FakeDnsServer(Handler handler) : handler_(std::move(handler))
    {
        udp_ = bound_socket(SOCK_DGRAM, 0);
        port_ = local_port(udp_);
        listener_ = bound_socket(SOCK_STREAM, port_);
        REQUIRE(::listen(listener_, 8) == 0);
        thread_ = std::thread([this] { serve(); });
    }
    FakeDnsServer(const FakeDnsServer&) = delete;
    FakeDnsServer& operator=(const FakeDnsServer&) = delete;
    ~FakeDnsServer()
    {
        stop_ = true;
        thread_.join();
        for (const int fd : connections_) {
            ::close(fd);
        }
        ::close(listener_);
        ::close(udp_);
    }

    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    int queries() const { return queries_; }
    int queries_with_ad() const { return with_ad_; }
    int queries_over_tcp() const { return over_tcp_; }

private:
    void serve()
    {
        while (!stop_) {
            std::vector<pollfd> fds = {{udp_, POLLIN, 0}, {listener_, POLLIN, 0}};
            for (const int fd : connections_) {
                fds.push_back({fd, POLLIN, 0});
            }
            if (::poll(fds.data(), fds.size(), 20) <= 0) {
                continue;
            }
            if (fds[0].revents != 0) {
                serve_udp();
            }
            if (fds[1].revents != 0) {
                connections_.push_back(::accept(listener_, nullptr, nullptr));
            }
            for (std::size_t i = 2; i < fds.size(); ++i) {
                if (fds[i].revents != 0 && !serve_tcp(fds[i].fd)) {
                    ::close(fds[i].fd);
                    std::erase(connections_, fds[i].fd);
                }
            }
        }
    }

    std::optional<Bytes> answer(const Bytes& packet, bool over_tcp)
    {
        auto query = decode_query(packet);
        if (!query) {
            return std::nullopt;
        }
        query->over_tcp = over_tcp;
        ++queries_;
        with_ad_ += query->wants_ad ? 1 : 0;
        over_tcp_ += over_tcp ? 1 : 0;
        return handler_(*query, static_cast<std::uint16_t>((packet[0] << 8) | packet[1]));
    }

    void serve_udp()
    {
        Bytes packet(4096);
        sockaddr_in peer{};
        socklen_t length = sizeof(peer);
        const auto got = ::recvfrom(udp_, packet.data(), packet.size(), 0,
                                    reinterpret_cast<sockaddr*>(&peer), &length);
        packet.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
        if (const auto reply = answer(packet, false)) {
            ::sendto(udp_, reply->data(), reply->size(), 0, reinterpret_cast<sockaddr*>(&peer),
                     length);
        }
    }

    // One length-prefixed query (RFC 1035 4.2.2); false when the peer has closed.
    bool serve_tcp(int fd)
    {
        std::uint8_t prefix[2] = {};
        if (!read_exact(fd, prefix, 2)) {
            return false;
        }
        Bytes packet(static_cast<std::size_t>((prefix[0] << 8) | prefix[1]));
        if (!read_exact(fd, packet.data(), packet.size())) {
            return false;
        }
        if (const auto reply = answer(packet, true)) {
            Bytes framed;
            put16(framed, static_cast<unsigned>(reply->size()));
            framed.insert(framed.end(), reply->begin(), reply->end());
            ::send(fd, framed.data(), framed.size(), MSG_NOSIGNAL);
        }
        return true;
    }

    Handler handler_;
    int udp_ = -1;
    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::vector<int> connections_; // touched by the serving thread only
    std::atomic<bool> stop_{false};
    std::atomic<int> queries_{0};
    std::atomic<int> with_ad_{0};
    std::atomic<int> over_tcp_{0};
    std::thread thread_;
};

Message reply_to(const FakeQuery& query, std::uint16_t id)
{
    Message message;
    message.id = id;
    message.qname = query.name;
    message.qtype = query.type;
    return message;
}

// Answers by name: the first label says what to do.
std::optional<Bytes> table_handler(const FakeQuery& query, std::uint16_t id)
{
    Message message = reply_to(query, id);
    const std::string label = query.name.substr(0, query.name.find('.'));
    const std::map<std::string, unsigned> rcodes = {
        {"servfail", 2}, {"nxdomain", 3}, {"notimp", 4}, {"refused", 5}, {"nodata", 0}};
    if (label == "silent") {
        return std::nullopt;
    }
    if (const auto rcode = rcodes.find(label); rcode != rcodes.end()) {
        message.rcode = rcode->second;
        return encode(message);
    }
    if (label == "alias") {
        message.answers = {{query.name, type_cname, encode_name("target.example")}};
        return encode(message);
    }
    if (label == "big") {
        // Twenty TXT records are too many for 512 bytes: truncated over UDP, whole over TCP.
        for (int i = 0; query.over_tcp && i < 20; ++i) {
            message.answers.push_back({query.name, type_txt, txt_rdata({std::string(60, 'x')})});
        }
        Bytes wire = encode(message);
        wire[2] = static_cast<std::uint8_t>(wire[2] | (query.over_tcp ? 0 : 0x02)); // TC
        return wire;
    }
    if (label == "garbage") {
        message.answers = {{query.name, query.type, {1, 2, 3}}};
        Bytes wire = encode(message);
        wire.resize(wire.size() - 2); // the record data runs past the end
        return wire;
    }
    message.authenticated = query.wants_ad;
    const std::map<std::uint16_t, Bytes> rdata = {{type_a, address_rdata("192.0.2.1")},
                                                  {type_aaaa, address_rdata("2001:db8::1")},
                                                  {type_mx, mx_rdata(10, "mx.example")},
                                                  {type_txt, txt_rdata({"127.0.0.2 ", "listed"})},
                                                  {type_tlsa, tlsa_rdata(3, 1, 1, {1, 2, 3})}};
    message.answers = {{query.name, query.type, rdata.at(query.type)}};
    return encode(message);
}

Resolver resolver_for(const std::string& server, std::chrono::milliseconds try_timeout = 1s,
                      int tries = 2)
{
    auto resolver = Resolver::create({{server}, try_timeout, tries});
    REQUIRE(resolver.ok());
    return std::move(resolver).value();
}

// A loopback UDP port with nobody listening: bound, read, then closed.
std::uint16_t closed_port()
{
    const int fd = bound_socket(SOCK_DGRAM, 0);
    const std::uint16_t port = local_port(fd);
    ::close(fd);
    return port;
}

} // namespace

TEST_CASE("dns: reverse names of IPv4 and IPv6 addresses")
{
    struct Case {
        const char* ip;
        const char* labels;
        const char* suffix;
    };
    const std::string v6_db8 = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2";
    const std::string v6_loop = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0";
    const std::string v6_mapped = "1.0.2.0.0.0.0.c.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0";
    const Case cases[] = {
        {"192.0.2.1", "1.2.0.192", ".in-addr.arpa"},
        {"127.0.0.2", "2.0.0.127", ".in-addr.arpa"},
        {"0.0.0.0", "0.0.0.0", ".in-addr.arpa"},
        {"2001:db8::1", v6_db8.c_str(), ".ip6.arpa"},
        {"2001:DB8:0:0:0:0:0:1", v6_db8.c_str(), ".ip6.arpa"},
        {"::1", v6_loop.c_str(), ".ip6.arpa"},
        {"::ffff:192.0.2.1", v6_mapped.c_str(), ".ip6.arpa"},
    };
    for (const Case& item : cases) {
        CAPTURE(item.ip);
        CHECK(reversed_labels(item.ip) == std::string(item.labels));
        CHECK(reverse_name(item.ip) == std::string(item.labels) + item.suffix);
    }
}

TEST_CASE("dns: reverse names refuse what is not an address")
{
    const char* garbage[] = {"",         "1.2.3",       "1.2.3.4.5",      "256.1.1.1",
                             "1.2.3.04", "example.org", "[::1]",          "fe80::1%eth0",
                             " 1.2.3.4", "1.2.3.4 ",    "2001:db8::1::2", "12345::"};
    for (const char* ip : garbage) {
        CAPTURE(ip);
        CHECK_FALSE(reversed_labels(ip).has_value());
        CHECK_FALSE(reverse_name(ip).has_value());
    }
    CHECK_FALSE(reverse_name(std::string_view("1.2.3.4\0", 8)).has_value());
}

TEST_CASE("dns: failures become errors of the right kind with the query in the message")
{
    struct Case {
        Status status = Status::Ok;
        std::string detail;
        ErrorKind kind = ErrorKind::Internal;
        std::string message;
    };
    const Case cases[] = {
        {Status::NoData, "", ErrorKind::ResolveHard,
         "cannot resolve example.org/MX: no MX record (NODATA)"},
        {Status::NxDomain, "", ErrorKind::ResolveHard,
         "cannot resolve example.org/MX: no such name (NXDOMAIN)"},
        {Status::ServFail, "", ErrorKind::ResolveSoft,
         "cannot resolve example.org/MX: server failure (SERVFAIL)"},
        {Status::Refused, "", ErrorKind::ResolveSoft,
         "cannot resolve example.org/MX: the server refused the query (REFUSED)"},
        {Status::Timeout, "no answer before the deadline", ErrorKind::ResolveSoft,
         "cannot resolve example.org/MX: no answer before the deadline"},
        {Status::Malformed, "A record of 3 bytes", ErrorKind::ResolveSoft,
         "cannot resolve example.org/MX: malformed answer: A record of 3 bytes"},
        {Status::Unreachable, "Connection refused", ErrorKind::ResolveSoft,
         "cannot resolve example.org/MX: server unreachable: Connection refused"},
        {Status::BadName, "Misformatted domain name", ErrorKind::Usage,
         "cannot resolve example.org/MX: invalid name: Misformatted domain name"},
    };
    for (const Case& item : cases) {
        CAPTURE(to_string(item.status));
        Response response;
        response.query = {"example.org", Type::MX};
        response.status = item.status;
        response.detail = item.detail;
        const auto error = to_error(response);
        CHECK(error.kind == item.kind);
        CHECK(error.message == item.message);
        CHECK(is_soft_failure(item.status) == (item.kind == ErrorKind::ResolveSoft));
    }
    CHECK_FALSE(is_soft_failure(Status::Ok));
}

TEST_CASE("dns: server settings are checked before use")
{
    const char* good[] = {"127.0.0.1", "127.0.0.1:5353", "::1", "[::1]", "[::1]:5353"};
    for (const char* server : good) {
        CAPTURE(server);
        CHECK(Resolver::create({{server}}).ok());
    }
    struct Case {
        const char* server;
        const char* cause;
    };
    const Case bad[] = {
        {"", "not an IP address"},
        {"localhost", "not an IP address"},
        {"[127.0.0.1]:53", "not an IP address"},
        {"1.2.3.4:53:1", "not an IP address"},
        {"127.0.0.1:0", "the port is not a number from 1 to 65535"},
        {"127.0.0.1:65536", "the port is not a number from 1 to 65535"},
        {"127.0.0.1:x", "the port is not a number from 1 to 65535"},
        {"127.0.0.1:", "the port is not a number from 1 to 65535"},
        {"[::1]:", "the port is not a number from 1 to 65535"},
        {"[::1", "unbalanced '[' in the address"},
        {"[::1]53", "unbalanced '[' in the address"},
    };
    for (const Case& item : bad) {
        CAPTURE(item.server);
        const auto resolver = Resolver::create({{"127.0.0.1", item.server}});
        REQUIRE_FALSE(resolver.ok());
        CHECK(resolver.error().kind == ErrorKind::Usage);
        CHECK(resolver.error().message ==
              "cannot use DNS server '" + std::string(item.server) + "': " + item.cause);
    }
    CHECK(Resolver::create({}).ok()); // the system's servers, not queried here
    CHECK_FALSE(Resolver::create({{"127.0.0.1"}, 1s, 0}).ok());
    CHECK_FALSE(Resolver::create({{"127.0.0.1"}, 0ms, 2}).ok());
}

TEST_CASE("dns: one resolve tells every answer and failure apart, in query order")
{
    FakeDnsServer server(table_handler);
    Resolver resolver = resolver_for(server.address());
    struct Case {
        Query query;
        Status status = Status::Ok;
    };
    const Case cases[] = {
        {{"ok.example", Type::A}, Status::Ok},
        {{"servfail.example", Type::A}, Status::ServFail},
        {{"refused.example", Type::MX}, Status::Refused},
        {{"nxdomain.example", Type::A}, Status::NxDomain},
        {{"nodata.example", Type::AAAA}, Status::NoData},
        {{"notimp.example", Type::TXT}, Status::ServFail},
        {{"alias.example", Type::A}, Status::NoData},
        {{"garbage.example", Type::A}, Status::Malformed},
        {{"ok.example", Type::MX}, Status::Ok},
        {{"_25._tcp.ok.example", Type::TLSA}, Status::Ok},
        {{std::string(64, 'x') + ".example", Type::A}, Status::BadName},
    };
    std::vector<Query> queries;
    for (const Case& item : cases) {
        queries.push_back(item.query);
    }

    const auto responses = resolver.resolve(queries, Deadline(10s));
    REQUIRE(responses.size() == queries.size());
    for (std::size_t i = 0; i < queries.size(); ++i) {
        CAPTURE(queries[i].name);
        CHECK(responses[i].query.name == queries[i].name);
        CHECK(responses[i].status == cases[i].status);
        CHECK(responses[i].seconds < 10.0);
    }
    CHECK(responses[0].addresses == std::vector<std::string>{"192.0.2.1"});
    CHECK(responses[0].authenticated);
    CHECK(responses[5].detail == "the server answered NOTIMP");
    CHECK(responses[6].cnames == std::vector<std::string>{"target.example"});
    CHECK(responses[7].detail == "answer record 1 has data running past the end of the message");
    CHECK(responses[8].mx.at(0).exchange == "mx.example");
    CHECK(responses[9].authenticated);
    CHECK(responses[9].tlsa.at(0).data == Bytes{1, 2, 3});
    CHECK(to_error(responses[10]).kind == ErrorKind::Usage);

    // SERVFAIL and REFUSED come back at once instead of being retried (ARES_FLAG_NOCHECKRESP).
    CHECK(server.queries() == 10);
    CHECK(server.queries_with_ad() == 10);
}

TEST_CASE("dns: two hundred queries at once all complete")
{
    FakeDnsServer server([](const FakeQuery& query, std::uint16_t id) {
        Message message = reply_to(query, id);
        const int n = std::stoi(query.name.substr(1, query.name.find('.') - 1));
        const std::string ip = "10.0." + std::to_string(n / 256) + "." + std::to_string(n % 256);
        message.answers = {{query.name, type_a, address_rdata(ip)}};
        return std::optional<Bytes>(encode(message));
    });
    Resolver resolver = resolver_for(server.address());
    std::vector<Query> queries;
    queries.reserve(200);
    for (int n = 0; n < 200; ++n) {
        queries.push_back({"q" + std::to_string(n) + ".example", Type::A});
    }

    const auto responses = resolver.resolve(queries, Deadline(20s));
    REQUIRE(responses.size() == 200);
    for (int n = 0; n < 200; ++n) {
        CAPTURE(n);
        const auto& response = responses[static_cast<std::size_t>(n)];
        REQUIRE(response.status == Status::Ok);
        CHECK(response.addresses == std::vector<std::string>{"10.0." + std::to_string(n / 256) +
                                                             "." + std::to_string(n % 256)});
    }
}

TEST_CASE("dns: a silent server gives Timeout when the deadline passes, not later")
{
    FakeDnsServer server(table_handler);
    Resolver resolver = resolver_for(server.address(), 1500ms, 2);
    const auto start = Deadline::Clock::now();

    const auto responses = resolver.resolve(
        {{"silent.example", Type::A}, {"silent.example", Type::MX}}, Deadline(300ms));
    const auto elapsed = Deadline::Clock::now() - start;
    CHECK(elapsed >= 250ms);
    CHECK(elapsed < 300ms + 1500ms); // generous: the machine is shared
    for (const auto& response : responses) {
        CHECK(response.status == Status::Timeout);
        CHECK(response.detail == "no answer before the deadline");
    }

    // The channel is usable again after a cancelled round.
    const auto again = resolver.resolve({{"ok.example", Type::A}}, Deadline(5s));
    CHECK(again.at(0).status == Status::Ok);
}

TEST_CASE("dns: a silent server gives Timeout once c-ares runs out of tries")
{
    FakeDnsServer server(table_handler);
    Resolver resolver = resolver_for(server.address(), 100ms, 2);
    const auto start = Deadline::Clock::now();
    const auto responses = resolver.resolve({{"silent.example", Type::A}}, Deadline(20s));
    CHECK(Deadline::Clock::now() - start < 10s);
    CHECK(responses.at(0).status == Status::Timeout);
    CHECK(responses.at(0).detail == "no answer after 2 tries per server");
    CHECK(server.queries() == 2);
}

TEST_CASE("dns: an expired deadline returns at once with every query timed out")
{
    FakeDnsServer server(table_handler);
    Resolver resolver = resolver_for(server.address());
    const auto responses =
        resolver.resolve({{"ok.example", Type::A}}, Deadline(Deadline::Clock::now() - 1s));
    CHECK(responses.at(0).status == Status::Timeout);
    CHECK(resolver.resolve({}, Deadline(1s)).empty());
}

TEST_CASE("dns: a port nobody listens on is Unreachable")
{
    Resolver resolver = resolver_for("127.0.0.1:" + std::to_string(closed_port()), 500ms, 1);
    const auto responses = resolver.resolve({{"ok.example", Type::A}}, Deadline(5s));
    CHECK(responses.at(0).status == Status::Unreachable);
    CHECK_FALSE(responses.at(0).detail.empty());
}

TEST_CASE("dns: a silent first server is passed over for the next one")
{
    FakeDnsServer silent([](const FakeQuery&, std::uint16_t) { return std::optional<Bytes>(); });
    FakeDnsServer answering(table_handler);
    auto resolver = Resolver::create({{silent.address(), answering.address()}, 100ms, 2});
    REQUIRE(resolver.ok());

    const auto responses = resolver->resolve({{"ok.example", Type::A}}, Deadline(10s));
    CHECK(responses.at(0).status == Status::Ok);
    CHECK(silent.queries() == 1);
    CHECK(answering.queries() == 1);
}

TEST_CASE("dns: a truncated answer is fetched again over TCP")
{
    FakeDnsServer server(table_handler);
    Resolver resolver = resolver_for(server.address());
    const auto responses = resolver.resolve({{"big.example", Type::TXT}}, Deadline(10s));
    REQUIRE(responses.at(0).status == Status::Ok);
    CHECK(responses.at(0).texts.size() == 20);
    CHECK(server.queries_over_tcp() == 1);
}
