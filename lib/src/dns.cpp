// SPDX-License-Identifier: GPL-3.0-or-later
// The c-ares resolver loop (many queries, one channel, poll(2) under the deadline), the mapping
// of its outcomes to typed responses and errors, and reverse-lookup names.
#include "mailmon/dns.hpp"

#include "dns_wire.hpp"

#include <algorithm>
#include <ares.h>
#include <arpa/inet.h>
#include <array>
#include <charconv>
#include <climits>
#include <exception>
#include <poll.h>

namespace mailmon::dns {
namespace {

constexpr int default_port = 53;

// The answers of one resolve() call. The c-ares callbacks write into it; it outlives them
// because resolve() cancels every unfinished query before it lets go of the batch.
struct Batch {
    std::vector<Response> responses;
    std::size_t outstanding = 0;
    std::exception_ptr failure; // an exception caught in a callback, rethrown by resolve()
    Deadline::Clock::time_point start = Deadline::Clock::now();
    int tries = 0;
};

// What a callback gets as its argument: which response it fills.
struct Slot {
    Batch* batch = nullptr;
    std::size_t index = 0;
};

// ares_library_init runs once per process, guarded by the static's thread-safe initialisation;
// it is never undone, since another Resolver may still be alive.
int library_status()
{
    static const int status = ares_library_init(ARES_LIB_INIT_ALL);
    return status;
}

void fill_failure(Response& response, int status, int tries)
{
    switch (status) {
    case ARES_ETIMEOUT:
        response.status = Status::Timeout;
        response.detail = "no answer after " + std::to_string(tries) + " tries per server";
        break;
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION:
        response.status = Status::Timeout;
        response.detail = "no answer before the deadline";
        break;
    default:
        response.status = Status::Unreachable;
        response.detail = ares_strerror(status);
        break;
    }
}

void complete(const Slot& slot, int status, const unsigned char* answer, int length)
{
    Batch& batch = *slot.batch;
    Response& response = batch.responses[slot.index];
    if (status == ARES_SUCCESS && answer != nullptr && length >= 0) {
        response = parse_answer(response.query, {answer, static_cast<std::size_t>(length)});
    } else {
        fill_failure(response, status, batch.tries);
    }
    response.seconds = seconds_since(batch.start);
}

// The ares_callback: no exception may cross into c-ares, so it is kept for resolve().
// LIMIT: c-ares 1.18 drops an answer whose question differs from the query or that comes from
// another address — such a garbled answer ends as Timeout, not Malformed.
void on_answer(void* arg, int status, int /*timeouts*/, unsigned char* answer, int length) noexcept
{
    const auto& slot = *static_cast<const Slot*>(arg);
    try {
        complete(slot, status, answer, length);
    } catch (...) {
        if (!slot.batch->failure) {
            slot.batch->failure = std::current_exception();
        }
    }
    --slot.batch->outstanding;
}

void send_all(ares_channel channel, std::vector<Slot>& slots)
{
    for (Slot& slot : slots) {
        Response& response = slot.batch->responses[slot.index];
        const auto query = build_query(response.query);
        if (!query) {
            response.status = Status::BadName;
            response.detail = query.error().message;
            continue;
        }
        ++slot.batch->outstanding;
        ares_send(channel, query->data(), static_cast<int>(query->size()), on_answer, &slot);
    }
}

// How long poll may sleep: until c-ares wants to retry, and never past the deadline.
int wait_ms(ares_channel channel, const Deadline& deadline)
{
    int wait = deadline.remaining_ms();
    timeval next{};
    if (ares_timeout(channel, nullptr, &next) != nullptr) {
        // Rounded up: waking a fraction of a millisecond early would only spin.
        const long long next_ms = next.tv_sec * 1000LL + (next.tv_usec + 999) / 1000;
        wait = static_cast<int>(std::min<long long>(wait, next_ms));
    }
    return wait;
}

// One round of the event loop: wait for the sockets c-ares watches, then let it read, write
// and handle its retry timeouts.
void wait_and_process(ares_channel channel, const Deadline& deadline)
{
    // LIMIT: ares_getsock reports at most 16 sockets (a UDP and a TCP one per server) — with
    // more than 8 servers, answers on the sockets beyond are not read and those queries retry.
    std::array<ares_socket_t, ARES_GETSOCK_MAXNUM> sockets{};
    const int mask = ares_getsock(channel, sockets.data(), ARES_GETSOCK_MAXNUM);
    std::vector<pollfd> fds;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
        short events = 0;
        if (ARES_GETSOCK_READABLE(mask, i) != 0) {
            events = static_cast<short>(events | POLLIN);
        }
        if (ARES_GETSOCK_WRITABLE(mask, i) != 0) {
            events = static_cast<short>(events | POLLOUT);
        }
        if (events != 0) {
            fds.push_back(pollfd{sockets[static_cast<std::size_t>(i)], events, 0});
        }
    }

    if (poll(fds.data(), fds.size(), wait_ms(channel, deadline)) <= 0) {
        ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
        return;
    }
    for (const pollfd& fd : fds) {
        const bool readable = (fd.revents & (POLLIN | POLLERR | POLLHUP)) != 0;
        const bool writable = (fd.revents & POLLOUT) != 0;
        if (readable || writable) {
            ares_process_fd(channel, readable ? fd.fd : ARES_SOCKET_BAD,
                            writable ? fd.fd : ARES_SOCKET_BAD);
        }
    }
}

// Cancels what is still pending when resolve() leaves, by return or by exception, so that no
// callback can run after the batch is gone; the cancelled queries become Timeout.
class CancelOnExit {
public:
    explicit CancelOnExit(ares_channel channel) : channel_(channel) {}
    CancelOnExit(const CancelOnExit&) = delete;
    CancelOnExit& operator=(const CancelOnExit&) = delete;
    ~CancelOnExit() { ares_cancel(channel_); }

private:
    ares_channel channel_;
};

std::optional<int> parse_port(std::string_view text)
{
    int port = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (error != std::errc() || end != text.data() + text.size() || port < 1 || port > 65535) {
        return std::nullopt;
    }
    return port;
}

// Splits "host", "host:port", "v6" and "[v6]:port"; false on a bracket without its partner.
bool split_server(std::string_view text, std::string& host, std::optional<std::string>& port,
                  bool& bracketed)
{
    bracketed = text.starts_with('[');
    if (bracketed) {
        const auto close = text.find(']');
        if (close == std::string_view::npos ||
            (close + 1 < text.size() && text[close + 1] != ':')) {
            return false;
        }
        host = text.substr(1, close - 1);
        if (close + 1 < text.size()) {
            port = std::string(text.substr(close + 2));
        }
        return true;
    }
    const auto colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
        host = text.substr(0, colon);
        port = std::string(text.substr(colon + 1));
        return true;
    }
    host = text;
    return true;
}

Result<ares_addr_port_node> parse_server(const std::string& text)
{
    const auto fail = [&text](const std::string& cause) {
        return make_error(ErrorKind::Usage, "cannot use DNS server '" + text + "': " + cause);
    };
    std::string host;
    std::optional<std::string> port;
    bool bracketed = false;
    if (!split_server(text, host, port, bracketed)) {
        return fail("unbalanced '[' in the address");
    }

    ares_addr_port_node node{};
    if (!bracketed && inet_pton(AF_INET, host.c_str(), &node.addr.addr4) == 1) {
        node.family = AF_INET;
    } else if (inet_pton(AF_INET6, host.c_str(), &node.addr.addr6) == 1) {
        node.family = AF_INET6;
    } else {
        return fail("not an IP address");
    }

    const auto number = port ? parse_port(*port) : std::optional<int>(default_port);
    if (!number) {
        return fail("the port is not a number from 1 to 65535");
    }
    node.udp_port = *number;
    node.tcp_port = *number;
    return node;
}

Result<Unit> check_timing(const ResolverConfig& config)
{
    if (config.tries < 1) {
        return make_error(ErrorKind::Usage, "cannot use DNS settings: tries must be at least 1");
    }
    if (config.try_timeout.count() < 1 || config.try_timeout.count() > INT_MAX) {
        return make_error(ErrorKind::Usage,
                          "cannot use DNS settings: the try timeout must be at least 1 ms");
    }
    return Unit{};
}

// The configured servers, not yet linked into the list ares_set_servers_ports takes.
Result<std::vector<ares_addr_port_node>> parse_servers(const std::vector<std::string>& texts)
{
    std::vector<ares_addr_port_node> servers;
    for (const std::string& text : texts) {
        auto server = parse_server(text);
        if (!server) {
            return server.error();
        }
        servers.push_back(*server);
    }
    return servers;
}

// A bare channel; the caller owns it at once.
Result<ares_channel> init_channel(const ResolverConfig& config)
{
    // NOCHECKRESP: without it c-ares 1.18 drops SERVFAIL, NOTIMP and REFUSED answers, retries,
    // and finally reports "Could not contact DNS servers", so a plugin could not tell a broken
    // zone from a dead server. NOSEARCH: names are queried as given (ares_send never searches;
    // the flag keeps it so should the code change).
    ares_options options{};
    options.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_NOSEARCH;
    options.timeout = static_cast<int>(config.try_timeout.count());
    options.tries = config.tries;
    ares_channel channel = nullptr;
    const int status =
        ares_init_options(&channel, &options, ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
    if (status != ARES_SUCCESS) {
        return make_error(ErrorKind::Internal,
                          std::string("cannot create DNS resolver: ") + ares_strerror(status));
    }
    return channel;
}

std::string failure_cause(const Response& response)
{
    switch (response.status) {
    case Status::Ok:
        return "no failure: the query was answered";
    case Status::NoData:
        return std::string("no ") + to_string(response.query.type) + " record (NODATA)";
    case Status::NxDomain:
        return "no such name (NXDOMAIN)";
    case Status::ServFail:
        return response.detail.empty() ? "server failure (SERVFAIL)" : response.detail;
    case Status::Refused:
        return "the server refused the query (REFUSED)";
    case Status::Timeout:
        return response.detail.empty() ? "timed out" : response.detail;
    case Status::Malformed:
        return "malformed answer: " + response.detail;
    case Status::Unreachable:
        return "server unreachable: " + response.detail;
    case Status::BadName:
        return "invalid name: " + response.detail;
    }
    return response.detail;
}

ErrorKind failure_kind(Status status)
{
    if (is_soft_failure(status)) {
        return ErrorKind::ResolveSoft;
    }
    switch (status) {
    case Status::NoData:
    case Status::NxDomain:
        return ErrorKind::ResolveHard;
    case Status::BadName:
        return ErrorKind::Usage;
    default:
        return ErrorKind::Internal;
    }
}

} // namespace

const char* to_string(Type type)
{
    switch (type) {
    case Type::A:
        return "A";
    case Type::AAAA:
        return "AAAA";
    case Type::MX:
        return "MX";
    case Type::TXT:
        return "TXT";
    case Type::PTR:
        return "PTR";
    case Type::CNAME:
        return "CNAME";
    case Type::TLSA:
        return "TLSA";
    }
    return "?";
}

const char* to_string(Status status)
{
    switch (status) {
    case Status::Ok:
        return "ok";
    case Status::NoData:
        return "nodata";
    case Status::NxDomain:
        return "nxdomain";
    case Status::ServFail:
        return "servfail";
    case Status::Refused:
        return "refused";
    case Status::Timeout:
        return "timeout";
    case Status::Malformed:
        return "malformed";
    case Status::Unreachable:
        return "unreachable";
    case Status::BadName:
        return "bad-name";
    }
    return "?";
}

bool is_resolver_silent(Status status)
{
    return status == Status::Timeout || status == Status::Unreachable;
}

bool is_soft_failure(Status status)
{
    switch (status) {
    case Status::ServFail:
    case Status::Refused:
    case Status::Timeout:
    case Status::Malformed:
    case Status::Unreachable:
        return true;
    default:
        return false;
    }
}

Error to_error(const Response& response)
{
    return make_error(failure_kind(response.status), "cannot resolve " + response.query.name + "/" +
                                                         to_string(response.query.type) + ": " +
                                                         failure_cause(response));
}

void Resolver::ChannelDeleter::operator()(ares_channeldata* channel) const
{
    ares_destroy(channel);
}

Result<Resolver> Resolver::create(const ResolverConfig& config)
{
    if (auto timing = check_timing(config); !timing) {
        return timing.error();
    }
    auto servers = parse_servers(config.servers);
    if (!servers) {
        return servers.error();
    }
    if (const int status = library_status(); status != ARES_SUCCESS) {
        return make_error(ErrorKind::Internal,
                          std::string("cannot initialise c-ares: ") + ares_strerror(status));
    }

    auto raw = init_channel(config);
    if (!raw) {
        return raw.error();
    }
    Channel channel(*raw);

    if (!servers->empty()) {
        // Linked only now: the vector no longer moves.
        for (std::size_t i = 0; i + 1 < servers->size(); ++i) {
            (*servers)[i].next = &(*servers)[i + 1];
        }
        const int status = ares_set_servers_ports(*raw, servers->data());
        if (status != ARES_SUCCESS) {
            return make_error(ErrorKind::Internal,
                              std::string("cannot set DNS servers: ") + ares_strerror(status));
        }
    }
    return Resolver(std::move(channel), config.tries);
}

std::vector<Response> Resolver::resolve(const std::vector<Query>& queries, const Deadline& deadline)
{
    Batch batch;
    batch.tries = tries_;
    std::vector<Slot> slots;
    for (const Query& query : queries) {
        Response response;
        response.query = query;
        response.detail = "no answer before the deadline";
        batch.responses.push_back(std::move(response));
        slots.push_back(Slot{&batch, slots.size()});
    }

    {
        const CancelOnExit cancel(channel_.get());
        send_all(channel_.get(), slots);
        while (batch.outstanding > 0 && !deadline.expired()) {
            wait_and_process(channel_.get(), deadline);
        }
    }
    if (batch.failure) {
        std::rethrow_exception(batch.failure);
    }
    return std::move(batch.responses);
}

std::optional<std::string> reversed_labels(std::string_view ip)
{
    static constexpr char hex[] = "0123456789abcdef";
    if (ip.find('\0') != std::string_view::npos) {
        return std::nullopt; // inet_pton would stop there and accept the prefix
    }
    const std::string text(ip);
    std::array<unsigned char, 16> bytes{};
    if (inet_pton(AF_INET, text.c_str(), bytes.data()) == 1) {
        return std::to_string(bytes[3]) + "." + std::to_string(bytes[2]) + "." +
               std::to_string(bytes[1]) + "." + std::to_string(bytes[0]);
    }
    if (inet_pton(AF_INET6, text.c_str(), bytes.data()) != 1) {
        return std::nullopt;
    }
    std::string labels;
    for (auto byte = bytes.rbegin(); byte != bytes.rend(); ++byte) {
        labels += hex[*byte & 0x0f];
        labels += '.';
        labels += hex[*byte >> 4];
        labels += '.';
    }
    labels.pop_back();
    return labels;
}

std::optional<std::string> reverse_name(std::string_view ip)
{
    auto labels = reversed_labels(ip);
    if (!labels) {
        return std::nullopt;
    }
    const bool v6 = ip.find(':') != std::string_view::npos;
    return *labels + (v6 ? ".ip6.arpa" : ".in-addr.arpa");
}

} // namespace mailmon::dns
