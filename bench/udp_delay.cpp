// SPDX-License-Identifier: GPL-3.0-or-later
// A delaying UDP proxy for the DNSBL benchmark: this kernel has no netem, so round-trip latency
// is added here. Every datagram is held DELAY_MS/2 on the way to the server and again on the
// way back; each client address gets its own upstream socket, so answers find their way home
// without rewriting DNS IDs. At most WINDOW queries are in flight upstream at once, because
// rbldnsd's 128 KiB receive buffer drops larger bursts, which is the server's limit and not the
// path's. Usage: udp_delay LISTEN_IP:PORT SERVER_IP:PORT DELAY_MS [WINDOW]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Packet {
    Clock::time_point due;
    int from_fd = -1;    // the socket to send it from
    sockaddr_in to{};    // where it goes
    bool upstream = false; // a query on its way to the server (counts against the window)
    std::vector<char> bytes;
};

sockaddr_in parse_endpoint(const std::string& text)
{
    const auto colon = text.rfind(':');
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(std::atoi(text.c_str() + colon + 1)));
    if (colon == std::string::npos ||
        inet_pton(AF_INET, text.substr(0, colon).c_str(), &address.sin_addr) != 1) {
        std::fprintf(stderr, "udp_delay: '%s' is not IPv4:PORT\n", text.c_str());
        std::exit(2);
    }
    return address;
}

int make_socket(const sockaddr_in* bind_to)
{
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    const int buffer = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    const auto* address = reinterpret_cast<const sockaddr*>(bind_to);
    if (fd < 0 || (bind_to && bind(fd, address, sizeof *bind_to) != 0)) {
        std::perror("udp_delay: socket");
        std::exit(1);
    }
    return fd;
}

std::uint64_t key_of(const sockaddr_in& address)
{
    return (std::uint64_t{address.sin_addr.s_addr} << 16) | address.sin_port;
}

class Proxy {
public:
    Proxy(sockaddr_in listen, sockaddr_in server, Clock::duration one_way, std::size_t window)
        : listen_fd_(make_socket(&listen)), server_(server), one_way_(one_way), window_(window)
    {
    }

    void run()
    {
        while (true) {
            std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
            for (const auto& [fd, client] : clients_) {
                fds.push_back({fd, POLLIN, 0});
            }
            poll(fds.data(), fds.size(), wait_ms());
            for (const auto& p : fds) {
                if (p.revents & POLLIN) {
                    receive(p.fd);
                }
            }
            send_due();
        }
    }

private:
    int wait_ms() const
    {
        if (queue_.empty()) {
            return 1000;
        }
        const auto left = queue_.front().due - Clock::now();
        return static_cast<int>(std::max<long long>(
            0, std::chrono::duration_cast<std::chrono::microseconds>(left).count() / 1000));
    }

    void receive(int fd)
    {
        char buffer[65536];
        sockaddr_in from{};
        socklen_t length = sizeof from;
        ssize_t n = 0;
        while ((n = recvfrom(fd, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from),
                             &length)) > 0) {
            Packet packet{Clock::now() + one_way_, -1, {}, false, {buffer, buffer + n}};
            if (fd == listen_fd_) {
                packet.from_fd = upstream_for(from);
                packet.to = server_;
                packet.upstream = true;
            } else {
                if (!in_flight_.empty()) {
                    in_flight_.pop_front();
                }
                packet.from_fd = listen_fd_;
                packet.to = clients_.at(fd);
            }
            queue_.push_back(std::move(packet));
            length = sizeof from;
        }
    }

    int upstream_for(const sockaddr_in& client)
    {
        const auto key = key_of(client);
        if (const auto found = upstream_.find(key); found != upstream_.end()) {
            return found->second;
        }
        const int fd = make_socket(nullptr);
        upstream_[key] = fd;
        clients_[fd] = client;
        return fd;
    }

    // Sends what is due in arrival order; a query beyond the window waits for an answer.
    void send_due()
    {
        const auto now = Clock::now();
        // A query the server never answered frees its slot after a second.
        while (!in_flight_.empty() && now - in_flight_.front() > std::chrono::seconds(1)) {
            in_flight_.pop_front();
        }
        for (auto it = queue_.begin(); it != queue_.end() && it->due <= now;) {
            if (it->upstream && in_flight_.size() >= window_) {
                ++it;
                continue;
            }
            if (it->upstream) {
                in_flight_.push_back(now);
            }
            sendto(it->from_fd, it->bytes.data(), it->bytes.size(), 0,
                   reinterpret_cast<const sockaddr*>(&it->to), sizeof it->to);
            it = queue_.erase(it);
        }
    }

    int listen_fd_;
    sockaddr_in server_;
    Clock::duration one_way_;
    std::size_t window_;
    std::deque<Clock::time_point> in_flight_; // send times of unanswered queries
    std::deque<Packet> queue_;
    std::map<std::uint64_t, int> upstream_; // client key -> upstream socket
    std::map<int, sockaddr_in> clients_;    // upstream socket -> client
};

} // namespace

int main(int argc, char** argv)
{
    if (argc < 4) {
        std::fprintf(stderr, "usage: udp_delay LISTEN_IP:PORT SERVER_IP:PORT DELAY_MS [WINDOW]\n");
        return 2;
    }
    const auto rtt = std::chrono::microseconds(static_cast<long long>(std::atof(argv[3]) * 1000));
    const std::size_t window = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 64;
    Proxy(parse_endpoint(argv[1]), parse_endpoint(argv[2]), rtt / 2, window).run();
}
