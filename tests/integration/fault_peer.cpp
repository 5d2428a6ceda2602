// SPDX-License-Identifier: GPL-3.0-or-later
// An SMTP server that misbehaves on purpose, for faults no real MTA produces on demand: one
// fault per mode (see `modes` below). The silent peers (a tarpit, a resolver that never
// answers) are lib.sh's. It prints "ready" once bound and exits on SIGTERM or after a minute,
// so a forgotten instance cannot outlive the test run for long. Each connection gets its own
// thread.
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

constexpr int lifetime_ms = 60'000;

// Two MiB: far beyond any line limit, so only a bounded reader survives it.
const std::string huge_line(2u << 20u, 'x');

// What an SMTP fault mode says at each step; an empty string means "say nothing".
struct Script {
    const char* mode;
    std::string banner; // sent on connect
    bool dribble = false; // the banner one byte per second
    bool tls_at_once = false; // a TLS alert record instead of a banner
    std::string ehlo = "250-fault.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n";
    std::string starttls = "220 2.0.0 go ahead\r\n";
    bool alert_after_starttls = false; // answer the ClientHello with a fatal alert
    bool silent_after_starttls = false; // take the ClientHello and never answer it
};

const std::string normal_banner = "220 fault.test ESMTP fault peer\r\n";
// A TLS 1.2 record: alert, fatal, handshake_failure (RFC 8446 §6).
const std::string handshake_alert("\x15\x03\x03\x00\x02\x02\x28", 7);

std::vector<Script> modes()
{
    std::vector<Script> all;
    all.push_back({"dribble", normal_banner, true});
    all.push_back({"greeting-554", "554 5.7.1 fault.test no service for you\r\n"});
    Script no_starttls{"no-starttls", normal_banner};
    no_starttls.ehlo = "250-fault.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n";
    all.push_back(no_starttls);
    Script refuse{"starttls-454", normal_banner};
    refuse.starttls = "454 4.7.0 TLS not available due to local problem\r\n";
    all.push_back(refuse);
    Script abort{"abort-handshake", normal_banner};
    abort.alert_after_starttls = true;
    all.push_back(abort);
    Script stall{"handshake-silent", normal_banner};
    stall.silent_after_starttls = true;
    all.push_back(stall);
    all.push_back({"plaintext", normal_banner});
    Script tls{"tls-at-once", ""};
    tls.tls_at_once = true;
    all.push_back(tls);
    all.push_back({"long-banner", "220-" + huge_line + "\r\n220 fault.test\r\n"});
    Script long_ehlo{"long-ehlo", normal_banner};
    long_ehlo.ehlo = "250-fault.test\r\n250-" + huge_line + "\r\n250 STARTTLS\r\n";
    all.push_back(long_ehlo);
    Script control{"control-bytes", "220 fault|test \x01\x1b[31mred\x1b[0m ESMTP\r\n"};
    control.ehlo = "250-fault|test\x07\r\n250-AUTH PLAIN|LOGIN\x1b[2J\r\n250 8BITMIME\r\n";
    all.push_back(control);
    return all;
}

// Binds a listening TCP socket to address:port (IPv4 or IPv6); -1 with a message on failure.
int bind_socket(const std::string& address, int port)
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
        std::fprintf(stderr, "fault_peer: '%s' is not an IP address\n", address.c_str());
        return -1;
    }
    const int fd = socket(storage.ss_family, SOCK_STREAM, 0);
    const int yes = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes)) != 0 ||
        bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0 ||
        listen(fd, 64) != 0) {
        std::fprintf(stderr, "fault_peer: cannot bind %s port %d: %s\n", address.c_str(), port,
                     std::strerror(errno));
        return -1;
    }
    return fd;
}

// Sends all of text; false once the client has gone.
bool say(int fd, std::string_view text)
{
    while (!text.empty()) {
        const ssize_t sent = send(fd, text.data(), text.size(), MSG_NOSIGNAL);
        if (sent <= 0) {
            return false;
        }
        text.remove_prefix(static_cast<std::size_t>(sent));
    }
    return true;
}

// The next command line from the client, upper-cased verb first; empty when it has gone.
std::string hear(int fd)
{
    std::string line;
    char c = 0;
    while (line.size() < 1024 && recv(fd, &c, 1, 0) == 1) {
        if (c == '\n') {
            return line;
        }
        if (c != '\r') {
            line += c;
        }
    }
    return {};
}

bool greet(int fd, const Script& script)
{
    if (script.tls_at_once) {
        return say(fd, handshake_alert);
    }
    if (!script.dribble) {
        return say(fd, script.banner);
    }
    for (const char c : script.banner) {
        if (!say(fd, std::string_view(&c, 1))) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    return true;
}

// One client: the scripted dialogue until QUIT, a fault, or the client leaving.
void serve(int fd, const Script& script)
{
    if (!greet(fd, script) || script.tls_at_once || script.banner.rfind("220 ", 0) != 0) {
        (void)hear(fd);
        close(fd);
        return;
    }
    for (std::string line = hear(fd); !line.empty(); line = hear(fd)) {
        const std::string verb = line.substr(0, 4);
        if (verb == "EHLO" || verb == "ehlo") {
            say(fd, script.ehlo);
        } else if (verb == "STAR" || verb == "star") {
            say(fd, script.starttls);
            if (script.alert_after_starttls) {
                char hello[512];
                (void)recv(fd, hello, sizeof(hello), 0);
                say(fd, handshake_alert);
                break;
            }
            if (script.silent_after_starttls) {
                std::this_thread::sleep_for(std::chrono::milliseconds(lifetime_ms));
                break;
            }
        } else if (verb == "QUIT" || verb == "quit") {
            say(fd, "221 2.0.0 bye\r\n");
            break;
        } else {
            say(fd, "502 5.5.2 not here\r\n");
        }
    }
    close(fd);
}

// Accepts until the lifetime ends, one thread per client.
void run(int fd, const Script& script)
{
    pollfd watch{fd, POLLIN, 0};
    for (int waited = 0; waited < lifetime_ms; waited += 100) {
        if (poll(&watch, 1, 100) <= 0) {
            continue;
        }
        const int client = accept(fd, nullptr, nullptr);
        if (client >= 0) {
            std::thread(serve, client, script).detach();
        }
    }
}

int usage()
{
    std::string names;
    for (const Script& script : modes()) {
        names += (names.empty() ? "" : "|") + std::string(script.mode);
    }
    std::fprintf(stderr, "usage: fault_peer %s ADDRESS PORT\n", names.c_str());
    return 2;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 4) {
        return usage();
    }
    const std::string mode = argv[1];
    const std::vector<Script> scripts = modes();
    const Script* script = nullptr;
    for (const Script& candidate : scripts) {
        script = mode == candidate.mode ? &candidate : script;
    }
    if (script == nullptr) {
        return usage();
    }
    const int fd = bind_socket(argv[2], std::atoi(argv[3]));
    if (fd < 0) {
        return 1;
    }
    std::printf("ready\n");
    std::fflush(stdout);
    run(fd, *script);
    close(fd);
    return 0;
}
