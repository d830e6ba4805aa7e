// server.h — mailsec-policyd's policy server: one epoll loop on one thread serves every policy
// connection Postfix's smtpd processes open (persistent, many at once), answers every request
// with action=DUNNO at once, and hands valid requests to the SessionBook.
//
// Input: untrusted bytes from anything that can connect. Each connection's memory is bounded
// (RequestReader's limits; at most kMaxPendingOutput of unsent answers, after which it is not
// read until the peer reads), the number of connections is bounded (over the maximum: closed
// at once and counted), an idle connection or an incomplete request times out. No peer can
// block another: sockets are non-blocking and a busy connection yields after kReadBudget.
// Every bad request: a rate-limited warning, mailsec_input_errors_total{source="policyd",
// kind="policy_request_invalid"}, and DUNNO (or a closed connection for a flood).
// Thread-safety: construct, listen() and run() on one thread; stop() from any thread or a
// signal handler. Errors: listen() returns a problem; run() returns 1 only when epoll itself
// fails; nothing a peer sends can throw out of run().
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/port_class.h"
#include "core/recorder.h"
#include "metrics/catalogue.h"
#include "policyd/listener.h"
#include "policyd/policy_sessions.h"
#include "policyd/request_reader.h"

namespace mailsec::policyd {

struct ServerOptions {
  std::string socket = "inet:10040@127.0.0.1";
  std::size_t max_connections = 1024;
  std::chrono::seconds idle_timeout{3600};
  std::chrono::seconds request_timeout{30};
  std::chrono::milliseconds reattach_grace = SessionBook::kDefaultGrace;
  Limits limits;
};

class Server {
 public:
  static constexpr std::string_view kAnswer = "action=DUNNO\n\n";
  static constexpr std::size_t kMaxPendingOutput = 64 * 1024;
  static constexpr std::size_t kReadChunk = 16 * 1024;
  static constexpr std::size_t kReadBudget = 4 * kReadChunk;  // per connection and wake-up

  // `rules`, `recorder` and `catalogue` must outlive the server.
  Server(ServerOptions options, const core::PortClassRules& rules, core::Recorder& recorder,
         metrics::Catalogue& catalogue);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Opens the listening socket. Returns a problem, or "" when listening.
  std::string listen();
  std::uint16_t port() const { return listener_.port(); }  // inet: the bound port

  // Serves until stop(), or SIGTERM/SIGINT read from `signal_fd` (a signalfd; SIGHUP there is
  // logged and ignored). At the end every connection is closed and every open session
  // counted. Returns 0, or 1 when epoll fails.
  int run(int signal_fd = -1);
  void stop();

 private:
  struct Connection;

  void accept(Clock::time_point now);
  void onReadable(Connection& c, Clock::time_point now);
  void onWritable(Connection& c, Clock::time_point now);
  // Answers the buffered requests; false when the connection was closed.
  bool process(Connection& c, Clock::time_point now);
  void handleRequest(Connection& c, std::string_view lines);
  void invalidRequest(Connection& c, RequestError error);
  bool flush(Connection& c, Clock::time_point now);
  void updateInterest(Connection& c);
  void closeConnection(ConnectionId id, Clock::time_point now);
  void drop(ConnectionId id, core::ConnectionDrop reason, Clock::time_point now);
  void resumeAccepting();
  void sweep(Clock::time_point now);
  bool readSignal(int signal_fd);
  int timeoutMs(Clock::time_point now, std::optional<Clock::time_point> sessions_due) const;

  const ServerOptions options_;
  core::Recorder& recorder_;
  metrics::Catalogue& catalogue_;
  SessionBook book_;
  Listener listener_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  bool stopping_ = false;
  Clock::time_point next_sweep_{};
  std::optional<Clock::time_point> accept_paused_until_;
  ConnectionId next_id_ = 16;  // 0..15 are the loop's own epoll tokens
  std::unordered_map<ConnectionId, std::unique_ptr<Connection>> connections_;
};

}  // namespace mailsec::policyd
