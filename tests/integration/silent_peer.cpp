// SPDX-License-Identifier: GPL-3.0-or-later
// A peer that never speaks, for faults no real server produces on demand: "tcp" accepts
// connections and holds them open without a banner (a tarpit MTA), "udp" swallows every
// datagram (a resolver that never answers). It prints "ready" once bound and exits on SIGTERM
// or after a minute, so a forgotten instance cannot outlive the test run for long.
#include <arpa/inet.h>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

constexpr int lifetime_ms = 60'000;

// Binds a socket of `type` to address:port (IPv4 or IPv6); -1 with a message on failure.
int bind_socket(int type, const std::string& address, int port)
{
    sockaddr_storage storage{};
    socklen_t length = 0;
    // The sockets API takes every address family through casts of sockaddr_storage.
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<std::uint16_t>(port));
        length = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<std::uint16_t>(port));
        length = sizeof(sockaddr_in6);
    } else {
        std::fprintf(stderr, "silent_peer: '%s' is not an IP address\n", address.c_str());
        return -1;
    }
    const int fd = socket(storage.ss_family, type, 0);
    const int yes = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes)) != 0 ||
        bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0 ||
        (type == SOCK_STREAM && listen(fd, 64) != 0)) {
        std::fprintf(stderr, "silent_peer: cannot bind %s port %d: %s\n", address.c_str(), port,
                     std::strerror(errno));
        return -1;
    }
    return fd;
}

// Accepts (TCP) or reads (UDP) whatever arrives, answering nothing, until the lifetime ends.
void stay_silent(int fd, bool tcp)
{
    std::vector<int> held;
    pollfd watch{fd, POLLIN, 0};
    char buffer[4096];
    for (int waited = 0; waited < lifetime_ms; waited += 100) {
        if (poll(&watch, 1, 100) <= 0) {
            continue;
        }
        if (tcp) {
            const int client = accept(fd, nullptr, nullptr);
            if (client >= 0) {
                held.push_back(client);
            }
        } else {
            (void)recv(fd, buffer, sizeof(buffer), 0);
        }
    }
    for (const int client : held) {
        close(client);
    }
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 4 || (std::string(argv[1]) != "tcp" && std::string(argv[1]) != "udp")) {
        std::fprintf(stderr, "usage: silent_peer tcp|udp ADDRESS PORT\n");
        return 2;
    }
    const bool tcp = std::string(argv[1]) == "tcp";
    const int fd = bind_socket(tcp ? SOCK_STREAM : SOCK_DGRAM, argv[2], std::atoi(argv[3]));
    if (fd < 0) {
        return 1;
    }
    std::printf("ready\n");
    std::fflush(stdout);
    stay_silent(fd, tcp);
    close(fd);
    return 0;
}
