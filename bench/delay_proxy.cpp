// SPDX-License-Identifier: GPL-3.0-or-later
// A forwarding proxy that adds latency, for benchmarks on a kernel without netem: every UDP
// datagram and every TCP chunk is held for half the round-trip time in each direction, and a
// new TCP connection's first server bytes wait one more round trip (the handshake a real
// network would cost). One thread, one poll loop, a queue ordered by due time.
//
//   delay_proxy udp|tcp LISTEN_IP LISTEN_PORT TARGET_IP TARGET_PORT RTT_MS
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <netinet/in.h>
#include <poll.h>
#include <queue>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Endpoint {
    sockaddr_storage address{};
    socklen_t length = 0;
};

// A chunk waiting for its time: to an fd (TCP, connected UDP) or to an address (UDP replies).
struct Pending {
    Clock::time_point due;
    int fd = -1;
    std::string bytes;
    Endpoint to; // length 0: the fd is connected
    bool close_after = false;
    bool operator>(const Pending& other) const { return due > other.due; }
};

bool parse_endpoint(const char* ip, const char* port, Endpoint& out)
{
    // The sockets API takes every address family through casts of sockaddr_storage.
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out.address);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.address);
    const auto number = static_cast<std::uint16_t>(std::atoi(port));
    if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(number);
        out.length = sizeof(sockaddr_in);
        return true;
    }
    if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(number);
        out.length = sizeof(sockaddr_in6);
        return true;
    }
    return false;
}

sockaddr* raw(Endpoint& endpoint)
{
    return reinterpret_cast<sockaddr*>(&endpoint.address);
}

class Proxy {
public:
    Proxy(bool tcp, Endpoint target, std::chrono::milliseconds rtt)
        : tcp_(tcp), target_(target), half_(rtt / 2), rtt_(rtt)
    {
    }

    bool listen_on(Endpoint local);
    void run();

private:
    void accept_client();
    void read_from(int fd);
    void flush_due();
    int upstream_for(const Endpoint& client);
    void hold(int fd, std::string bytes, Endpoint to, std::chrono::milliseconds delay,
              bool close_after);

    bool tcp_;
    Endpoint target_;
    std::chrono::milliseconds half_;
    std::chrono::milliseconds rtt_;
    int listener_ = -1;
    std::map<int, int> peer_; // TCP: fd -> the other side's fd
    std::map<int, bool> from_server_; // TCP: fd is the upstream side
    std::map<int, bool> greeted_; // TCP upstream fd: first bytes already sent
    std::map<std::string, int> upstreams_; // UDP: client key -> upstream socket
    std::map<int, Endpoint> clients_; // UDP: upstream socket -> client
    std::priority_queue<Pending, std::vector<Pending>, std::greater<>> queue_;
};

bool Proxy::listen_on(Endpoint local)
{
    listener_ = socket(local.address.ss_family, tcp_ ? SOCK_STREAM : SOCK_DGRAM, 0);
    const int yes = 1;
    setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    return listener_ >= 0 && bind(listener_, raw(local), local.length) == 0 &&
           (!tcp_ || listen(listener_, 128) == 0);
}

void Proxy::hold(int fd, std::string bytes, Endpoint to, std::chrono::milliseconds delay,
                 bool close_after)
{
    queue_.push(Pending{Clock::now() + delay, fd, std::move(bytes), to, close_after});
}

void Proxy::accept_client()
{
    const int client = accept(listener_, nullptr, nullptr);
    if (client < 0) {
        return;
    }
    const int server = socket(target_.address.ss_family, SOCK_STREAM, 0);
    if (server < 0 || connect(server, raw(target_), target_.length) != 0) {
        close(client);
        if (server >= 0) {
            close(server);
        }
        return;
    }
    peer_[client] = server;
    peer_[server] = client;
    from_server_[server] = true;
}

int Proxy::upstream_for(const Endpoint& client)
{
    const std::string key(reinterpret_cast<const char*>(&client.address), client.length);
    if (const auto found = upstreams_.find(key); found != upstreams_.end()) {
        return found->second;
    }
    const int fd = socket(target_.address.ss_family, SOCK_DGRAM, 0);
    Endpoint target = target_;
    if (fd >= 0 && connect(fd, raw(target), target.length) == 0) {
        upstreams_[key] = fd;
        clients_[fd] = client;
        return fd;
    }
    return -1;
}

void Proxy::read_from(int fd)
{
    char buffer[65536];
    if (!tcp_ && fd == listener_) {
        Endpoint client;
        client.length = sizeof(client.address);
        const auto n = recvfrom(fd, buffer, sizeof(buffer), 0, raw(client), &client.length);
        const int upstream = n > 0 ? upstream_for(client) : -1;
        if (upstream >= 0) {
            hold(upstream, std::string(buffer, static_cast<std::size_t>(n)), {}, half_, false);
        }
        return;
    }
    const auto n = recv(fd, buffer, sizeof(buffer), 0);
    if (!tcp_) {
        if (n > 0) {
            hold(listener_, std::string(buffer, static_cast<std::size_t>(n)), clients_[fd], half_,
                 false);
        }
        return;
    }
    const int other = peer_[fd];
    auto delay = half_;
    if (from_server_[fd] && !greeted_[fd]) {
        greeted_[fd] = true;
        delay += rtt_; // the TCP handshake the proxy answered locally
    }
    hold(other, n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : "", {}, delay, n <= 0);
    if (n <= 0) {
        peer_.erase(fd); // stop reading; the other side closes when the queue gets there
        close(fd);
    }
}

void Proxy::flush_due()
{
    while (!queue_.empty() && queue_.top().due <= Clock::now()) {
        Pending item = queue_.top();
        queue_.pop();
        if (item.to.length > 0) {
            sendto(item.fd, item.bytes.data(), item.bytes.size(), 0, raw(item.to), item.to.length);
        } else if (!item.bytes.empty()) {
            (void)send(item.fd, item.bytes.data(), item.bytes.size(), MSG_NOSIGNAL);
        }
        if (item.close_after && peer_.count(item.fd) != 0) {
            peer_.erase(item.fd);
            close(item.fd);
        }
    }
}

void Proxy::run()
{
    for (;;) {
        std::vector<pollfd> fds{{listener_, POLLIN, 0}};
        for (const auto& [fd, other] : peer_) {
            fds.push_back({fd, POLLIN, 0});
        }
        for (const auto& [fd, client] : clients_) {
            fds.push_back({fd, POLLIN, 0});
        }
        int wait = 1000;
        if (!queue_.empty()) {
            const auto until = queue_.top().due - Clock::now();
            wait = static_cast<int>(std::max<long long>(
                0, std::chrono::ceil<std::chrono::milliseconds>(until).count()));
        }
        if (poll(fds.data(), fds.size(), wait) > 0) {
            for (const auto& entry : fds) {
                if ((entry.revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
                    continue;
                }
                if (tcp_ && entry.fd == listener_) {
                    accept_client();
                } else if (entry.fd == listener_ || peer_.count(entry.fd) != 0 ||
                           clients_.count(entry.fd) != 0) {
                    read_from(entry.fd);
                }
            }
        }
        flush_due();
    }
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 7 || (std::string(argv[1]) != "udp" && std::string(argv[1]) != "tcp")) {
        std::fprintf(stderr, "usage: delay_proxy udp|tcp LISTEN_IP PORT TARGET_IP PORT RTT_MS\n");
        return 2;
    }
    Endpoint local;
    Endpoint target;
    if (!parse_endpoint(argv[2], argv[3], local) || !parse_endpoint(argv[4], argv[5], target)) {
        std::fprintf(stderr, "delay_proxy: addresses must be numeric\n");
        return 2;
    }
    std::signal(SIGPIPE, SIG_IGN);
    Proxy proxy(std::string(argv[1]) == "tcp", target,
                std::chrono::milliseconds(std::atoi(argv[6])));
    if (!proxy.listen_on(local)) {
        std::fprintf(stderr, "delay_proxy: cannot listen on %s:%s: %s\n", argv[2], argv[3],
                     std::strerror(errno));
        return 1;
    }
    std::printf("ready\n");
    std::fflush(stdout);
    proxy.run();
}
