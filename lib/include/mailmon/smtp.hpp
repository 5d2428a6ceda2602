// SPDX-License-Identifier: GPL-3.0-or-later
// SMTP client pieces: reply parsing (RFC 5321 §4.2, enhanced codes of RFC 3463), EHLO
// capabilities, and probe_smtp, the one dialogue (banner, EHLO, STARTTLS, TLS, EHLO, QUIT) that
// check_mx, check_smtp_tls and check_mail_cert all run against an endpoint.
#pragma once

#include "mailmon/deadline.hpp"
#include "mailmon/net.hpp"
#include "mailmon/result.hpp"
#include "mailmon/tls.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailmon {

// A complete reply. Text from the peer is kept raw: output sanitises it.
struct Reply {
    int code = 0; // 200..599
    std::string enhanced_code; // "5.7.1" when the first line starts with one (RFC 3463)
    std::vector<std::string> lines; // text after "250-" / "250 " per line, enhanced code kept

    // The lines joined by single spaces.
    std::string text() const;
};

// Replies longer than this are refused: a peer could otherwise make us store endless lines.
constexpr std::size_t max_reply_lines = 128;

// Parses one complete reply from its lines (without line endings). Errors (Protocol): no
// lines, a line without a three-digit code in 200..599, a code followed by anything but "-",
// " " or the end, codes differing between lines, a "-" on the last line, a final line before
// the last one, more than max_reply_lines lines.
Result<Reply> parse_reply(const std::vector<std::string>& lines);
// The same for a whole buffer of CRLF or LF terminated lines (used by tests and the fuzzer).
Result<Reply> parse_reply(std::string_view text);
// Reads one reply line by line from the reader. Errors: those of LineReader and parse_reply,
// the Protocol message naming the peer ("cannot parse reply from 127.0.0.1:25: ...").
Result<Reply> read_reply(LineReader& reader, const Deadline& deadline);

// The EHLO keywords of a 250 reply (RFC 5321 §4.1.1.1). Keywords are stored upper-case and
// looked up case-insensitively; their parameters are kept as sent.
struct Capabilities {
    std::string greeting; // the first line: the server's name and greeting
    std::map<std::string, std::vector<std::string>> keywords;

    bool has(std::string_view keyword) const;
    // Parameters of a keyword; empty when it is absent or has none.
    std::vector<std::string> params(std::string_view keyword) const;
    // SIZE n (RFC 1870); nullopt when absent, 0 when no limit is announced.
    std::optional<std::uint64_t> size_limit() const;
};

// Lines whose keyword is not ALPHA/DIGIT *(ALPHA/DIGIT/"-") are skipped.
// LIMIT: skipped EHLO lines (e.g. the old "AUTH=LOGIN" form) are not reported — a check sees
// only the standard keyword lines.
Capabilities parse_ehlo(const Reply& reply);

enum class SmtpMode { Plain, StartTls, ImplicitTls };

struct ProbeOptions {
    std::string address; // numeric IPv4 or IPv6 address
    std::uint16_t port = 25;
    SmtpMode mode = SmtpMode::StartTls;
    std::string helo_name; // our name in EHLO/HELO
    TlsOptions tls;
    // A context shared by many probes, made by TlsContext::create from options with the same
    // trust store (and DANE enabled when tls.tlsa holds usable records); null: the probe
    // makes its own. The caller keeps it alive until the probe returns.
    const TlsContext* context = nullptr;
    // false: QUIT is sent and the connection closed without waiting for the 221, which saves
    // a round trip for a check that learns nothing from that reply.
    bool await_quit_reply = true;
};

enum class Phase { Connect, Banner, Ehlo, StartTls, Handshake, EhloAfterTls, Quit };

// "connect", "banner", "ehlo", "starttls", "handshake", "ehlo-after-tls", "quit".
const char* to_string(Phase phase);

struct PhaseTime {
    Phase phase;
    double seconds;
};

struct ProbeFailure {
    Phase phase;
    Error error;
};

struct ProbeResult {
    std::string endpoint; // endpoint_name(address, port)
    Phase reached = Phase::Connect; // the last phase entered (the failed one on failure)
    // Phases in the order run (implicit TLS: Connect, Handshake, Banner, ...), each with its
    // duration; the failed phase is included with the time it ran before failing.
    std::vector<PhaseTime> timings;
    std::optional<Reply> banner;
    bool used_helo = false; // EHLO was refused with 5xx and HELO was accepted
    std::optional<Reply> ehlo_reply; // the last EHLO reply (after TLS, when TLS ran)
    std::optional<Capabilities> capabilities; // before TLS, or the only ones (plain/implicit)
    std::optional<Reply> starttls_reply;
    std::optional<TlsSession> tls;
    std::optional<Capabilities> capabilities_after_tls;
    std::optional<ProbeFailure> failure;

    bool ok() const { return !failure.has_value(); }
    // Duration of a phase that ran; nullopt otherwise.
    std::optional<double> seconds(Phase phase) const;
};

// Runs the whole dialogue against one endpoint: connect; (implicit TLS: handshake); banner,
// which must be 220; EHLO, falling back to HELO only on a 5xx; for StartTls: STARTTLS must be
// offered and answered 220, then the handshake and EHLO again; finally QUIT, without waiting
// long for the 221 (a missing 221 is no failure). Never throws, never outlives the deadline.
// Failure kinds: Connect, Timeout, Protocol (not SMTP, refused banner/EHLO, "STARTTLS not
// offered", STARTTLS answered non-220, a TLS server on a plain port), Tls, Usage, Config,
// Internal. Certificate verification is recorded in tls, never a failure here.
// Thread-safe: runs share no state, so a plugin may run one probe per thread at once. SIGPIPE
// is blocked in the calling thread during the call.
ProbeResult probe_smtp(const ProbeOptions& options, const Deadline& deadline);

} // namespace mailmon
