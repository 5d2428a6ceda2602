// SPDX-License-Identifier: GPL-3.0-or-later
// probe_smtp: one SMTP dialogue against one endpoint, phase by phase, each phase timed and
// every step bounded by the caller's deadline.
#include "mailmon/smtp.hpp"

#include <chrono>
#include <csignal>
#include <exception>
#include <memory>
#include <optional>
#include <pthread.h>

namespace mailmon {

namespace {

using namespace std::chrono_literals;

// Waiting longer for the 221 to QUIT would only make every check slower.
constexpr auto quit_wait = 1000ms;

// Blocks SIGPIPE in this thread while a probe runs: OpenSSL writes with write(2), and a peer
// that has gone must give an error, not kill the plugin. A SIGPIPE raised meanwhile is
// thread-directed, so it is taken back before the mask is restored.
class SigpipeBlock {
public:
    SigpipeBlock()
    {
        sigset_t pipe_only;
        sigemptyset(&pipe_only);
        sigaddset(&pipe_only, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_only, &saved_);
        sigset_t pending;
        sigpending(&pending);
        was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    }
    SigpipeBlock(const SigpipeBlock&) = delete;
    SigpipeBlock& operator=(const SigpipeBlock&) = delete;
    ~SigpipeBlock()
    {
        sigset_t pipe_only;
        sigemptyset(&pipe_only);
        sigaddset(&pipe_only, SIGPIPE);
        const timespec no_wait{};
        while (!was_pending_ && sigtimedwait(&pipe_only, nullptr, &no_wait) == SIGPIPE) {
        }
        pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
    }

private:
    sigset_t saved_{};
    bool was_pending_ = false;
};

// A TLS record header: content type 20..23 and major version 3 (RFC 8446 §5.1).
bool looks_like_tls_record(std::string_view bytes)
{
    if (bytes.size() < 2) {
        return false;
    }
    const auto type = static_cast<unsigned char>(bytes[0]);
    return type >= 0x14 && type <= 0x17 && bytes[1] == '\x03';
}

class Dialogue {
public:
    Dialogue(const ProbeOptions& options, const Deadline& deadline, ProbeResult& result)
        : options_(options), deadline_(deadline), result_(result)
    {
    }

    void run();

private:
    template <typename Step> bool phase(Phase phase, Step step);
    Status connect();
    Status handshake();
    Status banner();
    Status ehlo(std::optional<Capabilities>& capabilities);
    Status starttls();
    Status quit();
    Result<Reply> command(const std::string& line);
    Error refused(const std::string& what, const Reply& reply) const;

    const ProbeOptions& options_;
    const Deadline& deadline_;
    ProbeResult& result_;
    Socket socket_;
    std::unique_ptr<SocketStream> plain_;
    std::unique_ptr<TlsStream> tls_;
    std::unique_ptr<LineReader> reader_;
};

template <typename Step> bool Dialogue::phase(Phase phase, Step step)
{
    result_.reached = phase;
    const auto start = Deadline::Clock::now();
    Status status = step();
    result_.timings.push_back(PhaseTime{phase, seconds_since(start)});
    if (!status) {
        result_.failure = ProbeFailure{phase, status.error()};
    }
    return status.ok();
}

void Dialogue::run()
{
    const bool implicit = options_.mode == SmtpMode::ImplicitTls;
    const bool starttls_mode = options_.mode == SmtpMode::StartTls;
    const bool done =
        phase(Phase::Connect, [&] { return connect(); }) &&
        (!implicit || phase(Phase::Handshake, [&] { return handshake(); })) &&
        phase(Phase::Banner, [&] { return banner(); }) &&
        phase(Phase::Ehlo, [&] { return ehlo(result_.capabilities); }) &&
        (!starttls_mode ||
         (phase(Phase::StartTls, [&] { return starttls(); }) &&
          phase(Phase::Handshake, [&] { return handshake(); }) &&
          phase(Phase::EhloAfterTls, [&] { return ehlo(result_.capabilities_after_tls); })));
    if (done) {
        phase(Phase::Quit, [&] { return quit(); });
    } else if (result_.failure->error.kind == ErrorKind::Protocol && reader_) {
        // The server is still talking to us: say goodbye, but do not wait for its answer.
        (void)reader_->stream().write_all("QUIT\r\n", deadline_.capped(quit_wait));
    }
}

Status Dialogue::connect()
{
    auto socket = connect_tcp(options_.address, options_.port, deadline_);
    if (!socket) {
        return socket.error();
    }
    socket_ = std::move(socket.value());
    plain_ = std::make_unique<SocketStream>(socket_, result_.endpoint);
    reader_ = std::make_unique<LineReader>(*plain_);
    return success();
}

Status Dialogue::handshake()
{
    // A context of its own costs a few milliseconds of CPU (OpenSSL 3 fetches every
    // algorithm again, and the trust store is loaded again); callers with many probes share one.
    std::optional<TlsContext> own;
    if (options_.context == nullptr) {
        auto context = TlsContext::create(options_.tls);
        if (!context) {
            return context.error();
        }
        own.emplace(std::move(context.value()));
    }
    const TlsContext& context = own ? *own : *options_.context;
    auto stream = tls_connect(context, socket_, result_.endpoint, options_.tls, deadline_);
    if (!stream) {
        return stream.error();
    }
    tls_ = std::move(stream.value());
    result_.tls = tls_->session();
    reader_->switch_stream(*tls_);
    return success();
}

Error Dialogue::refused(const std::string& what, const Reply& reply) const
{
    const std::string answer = std::to_string(reply.code) + " " + reply.text();
    return make_error(ErrorKind::Protocol, "cannot " + what + " " + result_.endpoint +
                                               ": the server answered " + answer);
}

Status Dialogue::banner()
{
    // A TLS server sends nothing first, or an alert: look before parsing it as text.
    auto filled = reader_->fill(3, deadline_);
    if (!tls_ && looks_like_tls_record(reader_->pending())) {
        return make_error(ErrorKind::Protocol,
                          "cannot read the banner of " + result_.endpoint +
                              ": the server speaks TLS at once (an implicit-TLS port?)");
    }
    if (!filled) {
        return filled;
    }
    auto reply = read_reply(*reader_, deadline_);
    if (!reply) {
        return reply.error();
    }
    result_.banner = reply.value();
    if (reply->code != 220) {
        return refused("start an SMTP session with", reply.value());
    }
    return success();
}

Result<Reply> Dialogue::command(const std::string& line)
{
    auto sent = reader_->stream().write_all(line + "\r\n", deadline_);
    if (!sent) {
        return sent.error();
    }
    return read_reply(*reader_, deadline_);
}

Status Dialogue::ehlo(std::optional<Capabilities>& capabilities)
{
    auto reply = command("EHLO " + options_.helo_name);
    if (!reply) {
        return reply.error();
    }
    result_.ehlo_reply = reply.value();
    if (reply->code == 250) {
        capabilities = parse_ehlo(reply.value());
        return success();
    }
    // RFC 5321 §3.2: a server that does not know EHLO answers 5xx; only then is HELO right.
    if (reply->code / 100 != 5) {
        return refused("greet", reply.value());
    }
    auto helo = command("HELO " + options_.helo_name);
    if (!helo) {
        return helo.error();
    }
    if (helo->code != 250) {
        return refused("greet", helo.value());
    }
    result_.used_helo = true;
    capabilities = Capabilities{};
    capabilities->greeting = helo->lines.front();
    return success();
}

Status Dialogue::starttls()
{
    if (!result_.capabilities->has("STARTTLS")) {
        return make_error(ErrorKind::Protocol,
                          "cannot start TLS with " + result_.endpoint + ": STARTTLS not offered");
    }
    auto reply = command("STARTTLS");
    if (!reply) {
        return reply.error();
    }
    result_.starttls_reply = reply.value();
    if (reply->code != 220) {
        return refused("start TLS with", reply.value());
    }
    // RFC 3207 §4.2: nothing may come before the handshake; bytes here were injected.
    if (!reader_->pending().empty()) {
        return make_error(ErrorKind::Protocol,
                          "cannot start TLS with " + result_.endpoint +
                              ": the server sent data after its 220 to STARTTLS");
    }
    return success();
}

Status Dialogue::quit()
{
    const Deadline quit_deadline = deadline_.capped(quit_wait);
    if (reader_->stream().write_all("QUIT\r\n", quit_deadline) && options_.await_quit_reply) {
        (void)read_reply(*reader_, quit_deadline);
    }
    if (tls_) {
        tls_->close_notify();
    }
    return success();
}

} // namespace

ProbeResult probe_smtp(const ProbeOptions& options, const Deadline& deadline)
{
    ProbeResult result;
    try {
        const SigpipeBlock no_sigpipe;
        result.endpoint = endpoint_name(options.address, options.port);
        Dialogue(options, deadline, result).run();
    } catch (const std::exception& error) {
        result.failure = ProbeFailure{
            result.reached, make_error(ErrorKind::Internal,
                                       "cannot probe " + result.endpoint + ": " + error.what())};
    }
    return result;
}

} // namespace mailmon
