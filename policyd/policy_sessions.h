// policy_sessions.h — maps Postfix policy requests onto SMTP sessions and decides when each
// session ended, feeding one core::SessionTracker per SMTP session. What a session, a TLS
// session, a client certificate or a message counts as is core's decision; this file only
// knows how Postfix's policy delegation reveals where sessions begin and end.
//
// What Postfix does (checked with Postfix 3.7; see docs/policyd.md):
// - every request carries client_address, client_port, server_address and server_port, the
//   TCP connection of the SMTP session: that 4-tuple is the session key;
// - an smtpd process serves one SMTP client at a time and keeps one policy connection per
//   check_policy_service spec open across the clients it serves (up to its max_use), so a
//   request for another key on a policy connection means the previous session there ended;
// - a policy connection closes when smtpd is idle (smtpd_policy_service_max_idle), exits
//   (max_idle, max_use) or hits smtpd_policy_service_request_limit; the last one can be in
//   the middle of a session, and smtpd then continues it at once on a new connection. So a
//   session whose policy connections have all closed is counted only after a short grace in
//   which a request for the same key, on any connection, takes it up again;
// - protocol_state=CONNECT (smtpd_delay_reject = no) starts a new session for its key;
// - END-OF-MESSAGE counts a message, once per `instance` (one per MAIL transaction).
//
// Input: parsed requests whose values are untrusted (core bounds and classifies them; keys
// are truncated). Memory: at most one session per live policy connection plus kMaxDetached
// sessions in their grace. Thread-safety: not thread-safe; one event loop owns it. The
// Recorder must be thread-safe. Errors: never throws on any input (allocation failure aside).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/port_class.h"
#include "core/recorder.h"
#include "core/session_tracker.h"
#include "policyd/request_parser.h"

namespace mailsec::policyd {

using ConnectionId = std::uint64_t;
using Clock = std::chrono::steady_clock;

class SessionBook {
 public:
  // How long a session whose policy connections all closed waits for a continuation.
  static constexpr std::chrono::milliseconds kDefaultGrace{2000};
  // Sessions waiting in their grace beyond this are counted at once, oldest first.
  static constexpr std::size_t kMaxDetached = 4096;
  // Bytes of each key part kept (an IPv6 address with a zone fits).
  static constexpr std::size_t kMaxKeyPart = 64;

  // `rules` must outlive the book.
  SessionBook(const core::PortClassRules& rules, core::Recorder& recorder,
              std::chrono::milliseconds grace = kDefaultGrace);
  ~SessionBook();  // counts every session still open
  SessionBook(const SessionBook&) = delete;
  SessionBook& operator=(const SessionBook&) = delete;

  // A valid request (parseRequest ok) arrived on policy connection `connection`.
  void request(ConnectionId connection, const Request& request);
  // Policy connection `connection` closed (either side).
  void connectionClosed(ConnectionId connection, Clock::time_point now);
  // Counts the sessions whose grace ran out by `now`; returns when to call again.
  std::optional<Clock::time_point> expire(Clock::time_point now);
  // Counts every open session now (shutdown).
  void closeAll();

  std::size_t openSessions() const { return sessions_.size(); }
  std::size_t detachedSessions() const { return detached_; }

 private:
  struct Session;
  struct Holder {  // the session a policy connection last carried
    std::string key;
    std::uint64_t generation = 0;
  };
  struct Expiry {
    Clock::time_point deadline;
    std::string key;
    std::uint64_t generation;
  };
  using SessionMap = std::unordered_map<std::string, std::unique_ptr<Session>>;

  Session* find(const std::string& key, std::uint64_t generation);
  void close(SessionMap::iterator it);
  void feed(Session& session, core::SmtpStage stage, const Request& request);

  const core::PortClassRules& rules_;
  core::Recorder& recorder_;
  const std::chrono::milliseconds grace_;
  SessionMap sessions_;
  std::unordered_map<ConnectionId, Holder> holders_;
  std::deque<Expiry> expiries_;  // deadlines in order: the grace is constant
  std::size_t detached_ = 0;
  std::uint64_t next_generation_ = 1;
};

}  // namespace mailsec::policyd
