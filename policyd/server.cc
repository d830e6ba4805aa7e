#include "policyd/server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <exception>
#include <optional>
#include <utility>
#include <vector>

#include "common/log.h"

namespace mailsec::policyd {
namespace {

// epoll tokens of the loop's own descriptors; connections use their id (>= 16).
constexpr std::uint64_t kListenerToken = 1;
constexpr std::uint64_t kWakeToken = 2;
constexpr std::uint64_t kSignalToken = 3;

constexpr std::chrono::seconds kSweepInterval{1};
constexpr std::chrono::milliseconds kAcceptPause{100};

// What a peer can trigger is logged through these, so no peer can flood the log.
log::RateLimited g_request_warnings(10, std::chrono::seconds(60));
log::RateLimited g_connection_warnings(10, std::chrono::seconds(60));

}  // namespace

struct Server::Connection {
  Connection(ConnectionId id_, int fd_, const Limits& limits, Clock::time_point now)
      : id(id_), fd(fd_), reader(limits), last_activity(now) {}
  ~Connection() {
    if (fd >= 0) ::close(fd);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  std::size_t pending() const { return out.size() - sent; }

  const ConnectionId id;
  const int fd;
  RequestReader reader;
  std::string out;       // answers not yet written
  std::size_t sent = 0;  // bytes of `out` already written
  Clock::time_point last_activity;
  // Since when a request has been incomplete (or, before the first one, since the connection
  // was accepted); unset between requests.
  std::optional<Clock::time_point> partial_since;
  bool reading = true;           // false while too many answers wait for the peer to read them
  bool peer_closed = false;      // the peer shut down its side; close once the answers are out
  std::uint32_t registered = 0;  // the epoll interest registered
};

Server::Server(ServerOptions options, const core::PortClassRules& rules, core::Recorder& recorder,
               metrics::Catalogue& catalogue)
    : options_(std::move(options)),
      recorder_(recorder),
      catalogue_(catalogue),
      book_(rules, recorder, options_.reattach_grace) {}

Server::~Server() {
  connections_.clear();
  if (wake_fd_ >= 0) ::close(wake_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

std::string Server::listen() {
  std::string problem;
  const auto spec = parseListenSpec(options_.socket, problem);
  if (!spec) return problem;
  if (problem = listener_.open(*spec); !problem.empty()) return problem;
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) return std::string("epoll/eventfd: ") + std::strerror(errno);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenerToken;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listener_.fd(), &ev) != 0) {
    return std::string("epoll_ctl: ") + std::strerror(errno);
  }
  ev.data.u64 = kWakeToken;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
    return std::string("epoll_ctl: ") + std::strerror(errno);
  }
  return "";
}

void Server::stop() {
  if (wake_fd_ < 0) return;
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto ignored = ::write(wake_fd_, &one, sizeof one);
}

int Server::run(int signal_fd) {
  if (epoll_fd_ < 0) return 1;
  if (signal_fd >= 0) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kSignalToken;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, signal_fd, &ev) != 0) {
      log::error("epoll_ctl(signalfd): ", std::strerror(errno));
      return 1;
    }
  }
  int status = 0;
  std::array<epoll_event, 256> events{};
  std::optional<Clock::time_point> sessions_due;
  next_sweep_ = Clock::now() + kSweepInterval;
  while (!stopping_) {
    const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                               timeoutMs(Clock::now(), sessions_due));
    if (n < 0) {
      if (errno == EINTR) continue;
      log::error("epoll_wait: ", std::strerror(errno));
      recorder_.internalError(core::Component::kPolicyd);
      status = 1;
      break;
    }
    const auto now = Clock::now();
    for (int i = 0; i < n; ++i) {
      const std::uint64_t token = events[static_cast<std::size_t>(i)].data.u64;
      const std::uint32_t what = events[static_cast<std::size_t>(i)].events;
      try {
        if (token == kListenerToken) {
          accept(now);
        } else if (token == kWakeToken) {
          stopping_ = true;
        } else if (token == kSignalToken) {
          stopping_ = readSignal(signal_fd) || stopping_;
        } else {
          const auto it = connections_.find(token);
          if (it == connections_.end()) continue;  // closed earlier in this batch
          Connection& c = *it->second;
          if ((what & (EPOLLHUP | EPOLLERR)) != 0 && !c.reading) {
            closeConnection(token, now);  // hung up while its answers were held back
            continue;
          }
          if ((what & (EPOLLOUT | EPOLLERR)) != 0) onWritable(c, now);
          if (!connections_.contains(token)) continue;
          if ((what & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) onReadable(c, now);
        }
      } catch (const std::exception& e) {
        // Our own bug or memory exhaustion: count it, drop what it concerned, keep serving.
        log::error("internal error: ", e.what());
        recorder_.internalError(core::Component::kPolicyd);
        if (token >= 16) closeConnection(token, now);
      }
    }
    if (accept_paused_until_ && *accept_paused_until_ <= now) resumeAccepting();
    if (now >= next_sweep_) sweep(now);
    sessions_due = book_.expire(now);
  }
  // Shutdown: answers already produced get one last chance, then everything is counted.
  const auto now = Clock::now();
  while (!connections_.empty()) {
    Connection& c = *connections_.begin()->second;
    if (c.pending() > 0) {
      [[maybe_unused]] const auto ignored =
          ::send(c.fd, c.out.data() + c.sent, c.pending(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    closeConnection(c.id, now);
  }
  book_.closeAll();
  listener_.close();
  return status;
}

int Server::timeoutMs(Clock::time_point now, std::optional<Clock::time_point> sessions_due) const {
  auto due = next_sweep_;
  if (sessions_due && *sessions_due < due) due = *sessions_due;
  if (accept_paused_until_ && *accept_paused_until_ < due) due = *accept_paused_until_;
  if (due <= now) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(due - now).count();
  return static_cast<int>(std::min<std::int64_t>(ms, 60'000));
}

bool Server::readSignal(int signal_fd) {
  signalfd_siginfo info{};
  bool stop_now = false;
  while (::read(signal_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    if (info.ssi_signo == SIGHUP) {
      log::info("SIGHUP: configuration reload is not supported yet; ignored");
    } else {
      log::info("signal ", info.ssi_signo, ": stopping");
      stop_now = true;
    }
  }
  return stop_now;
}

void Server::accept(Clock::time_point now) {
  for (;;) {
    const int fd = ::accept4(listener_.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      // Out of descriptors or memory: stop accepting for a moment rather than spin.
      g_connection_warnings.warning("accept: ", std::strerror(errno), "; not accepting for 100 ms");
      recorder_.internalError(core::Component::kPolicyd);
      epoll_event ev{};
      ev.data.u64 = kListenerToken;
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listener_.fd(), &ev);
      accept_paused_until_ = now + kAcceptPause;
      return;
    }
    if (connections_.size() >= options_.max_connections) {
      ::close(fd);
      catalogue_.policyd_connections_dropped.inc(core::ConnectionDrop::kTooManyConnections);
      g_connection_warnings.warning("policy connection refused: ", options_.max_connections,
                                    " connections open (policyd.max_connections)");
      continue;
    }
    if (listener_.isInet()) {
      // One small answer per request: never wait for more to coalesce.
      const int on = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    }
    const ConnectionId id = next_id_++;
    auto connection = std::make_unique<Connection>(id, fd, options_.limits, now);
    // Postfix connects to send a request at once: a connection that sends nothing is held to
    // the request timeout, not the idle timeout, so silent connections cannot hold every slot.
    connection->partial_since = now;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = id;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      g_connection_warnings.warning("epoll_ctl: ", std::strerror(errno));
      recorder_.internalError(core::Component::kPolicyd);
      continue;  // the Connection's destructor closes fd
    }
    connection->registered = EPOLLIN;
    connections_.emplace(id, std::move(connection));
    log::debug("policy connection ", id, " opened");
  }
}

void Server::onReadable(Connection& c, Clock::time_point now) {
  if (!c.reading) return;  // paused until the peer reads its answers
  std::array<char, kReadChunk> chunk;
  for (std::size_t budget = kReadBudget; budget > 0;) {
    const ssize_t got = ::recv(c.fd, chunk.data(), chunk.size(), 0);
    if (got > 0) {
      const auto bytes = static_cast<std::size_t>(got);
      c.reader.append(std::string_view(chunk.data(), bytes));
      c.last_activity = now;
      if (!process(c, now)) return;
      if (!c.reading || bytes < chunk.size()) break;
      budget -= std::min(budget, bytes);
      continue;
    }
    if (got == 0) {
      if (c.reader.midRequest()) invalidRequest(c, RequestError::kTruncated);
      log::debug("policy connection ", c.id, " closed by the peer");
      // A peer that only shut down its sending side still gets the answers to what it sent:
      // stop reading and close once they are written (or the peer is gone).
      c.peer_closed = true;
      c.reading = false;
      if (!flush(c, now)) return;
      if (c.pending() == 0) {
        closeConnection(c.id, now);
      } else {
        updateInterest(c);
      }
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    log::debug("policy connection ", c.id, ": ", std::strerror(errno));
    closeConnection(c.id, now);
    return;
  }
  if (flush(c, now)) updateInterest(c);
}

void Server::onWritable(Connection& c, Clock::time_point now) {
  if (!flush(c, now)) return;
  if (c.peer_closed) {
    if (c.pending() == 0) closeConnection(c.id, now);
    return;
  }
  if (c.pending() < kMaxPendingOutput / 2 && !c.reading) {
    // The peer caught up: answer what it sent meanwhile, then read again.
    c.reading = true;
    if (!process(c, now) || !flush(c, now)) return;
  }
  updateInterest(c);
}

bool Server::process(Connection& c, Clock::time_point now) {
  while (c.pending() < kMaxPendingOutput) {
    const RequestReader::Event event = c.reader.next();
    if (event.kind == RequestReader::Event::Kind::kNeedMore) break;
    if (event.kind == RequestReader::Event::Kind::kFlood) {
      invalidRequest(c, RequestError::kFlood);
      drop(c.id, core::ConnectionDrop::kInputFlood, now);
      return false;
    }
    if (event.kind == RequestReader::Event::Kind::kInvalid) {
      invalidRequest(c, event.error);
    } else {
      handleRequest(c, event.lines);
    }
    if (c.sent > 0 && c.sent == c.out.size()) {
      c.out.clear();
      c.sent = 0;
    }
    c.out.append(kAnswer);
  }
  // Too many unread answers: stop reading this peer until it reads them.
  if (c.pending() >= kMaxPendingOutput) c.reading = false;
  if (!c.reader.midRequest()) {
    c.partial_since.reset();
  } else if (!c.partial_since) {
    c.partial_since = now;
  }
  return true;
}

void Server::handleRequest(Connection& c, std::string_view lines) {
  const ParseResult parsed = parseRequest(lines, options_.limits);
  if (!parsed.ok()) {
    invalidRequest(c, parsed.error);
    return;
  }
  const Request& r = parsed.request;
  catalogue_.policyd_requests.inc(parseStage(r.protocol_state));
  if (log::enabled(log::Level::kDebug)) {
    log::debug(r.instance.empty() ? std::string_view("-") : r.instance, ": ", r.protocol_state,
               " client ", r.client_address, ":", r.client_port, " tls ",
               r.encryption_protocol.empty() ? std::string_view("none") : r.encryption_protocol,
               " (policy connection ", c.id, ")");
  }
  book_.request(c.id, r);
}

void Server::invalidRequest(Connection& c, RequestError error) {
  recorder_.inputError(core::Source::kPolicyd, core::InputErrorKind::kPolicyRequestInvalid);
  g_request_warnings.warning("policy connection ", c.id, ": invalid request (", describe(error),
                             error == RequestError::kTruncated ? ")"
                             : error == RequestError::kFlood   ? "); closing the connection"
                                                               : "); answered DUNNO");
}

bool Server::flush(Connection& c, Clock::time_point now) {
  while (c.pending() > 0) {
    const ssize_t wrote =
        ::send(c.fd, c.out.data() + c.sent, c.pending(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (wrote > 0) {
      c.sent += static_cast<std::size_t>(wrote);
      c.last_activity = now;
      continue;
    }
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    log::debug("policy connection ", c.id, ": write: ", std::strerror(errno));
    closeConnection(c.id, now);
    return false;
  }
  if (c.pending() == 0) {
    c.out.clear();
    c.sent = 0;
  } else if (c.sent > kMaxPendingOutput) {
    c.out.erase(0, c.sent);
    c.sent = 0;
  }
  return true;
}

void Server::updateInterest(Connection& c) {
  std::uint32_t want = c.reading ? static_cast<std::uint32_t>(EPOLLIN) : 0u;
  if (c.pending() > 0) want |= EPOLLOUT;
  if (want == c.registered) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = c.id;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
  c.registered = want;
}

void Server::closeConnection(ConnectionId id, Clock::time_point now) {
  const auto it = connections_.find(id);
  if (it == connections_.end()) return;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second->fd, nullptr);
  connections_.erase(it);  // closes the descriptor
  book_.connectionClosed(id, now);
}

void Server::drop(ConnectionId id, core::ConnectionDrop reason, Clock::time_point now) {
  catalogue_.policyd_connections_dropped.inc(reason);
  if (reason != core::ConnectionDrop::kInputFlood) {
    g_connection_warnings.warning("policy connection ", id, " closed: ", core::toLabel(reason));
  }
  closeConnection(id, now);
}

void Server::resumeAccepting() {
  accept_paused_until_.reset();
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenerToken;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listener_.fd(), &ev);
}

void Server::sweep(Clock::time_point now) {
  next_sweep_ = now + kSweepInterval;
  std::vector<std::pair<ConnectionId, core::ConnectionDrop>> expired;
  for (const auto& [id, c] : connections_) {
    if (c->partial_since && now - *c->partial_since >= options_.request_timeout) {
      expired.emplace_back(id, core::ConnectionDrop::kRequestTimeout);
    } else if (now - c->last_activity >= options_.idle_timeout) {
      expired.emplace_back(id, core::ConnectionDrop::kIdleTimeout);
    }
  }
  for (const auto& [id, reason] : expired) drop(id, reason, now);
}

}  // namespace mailsec::policyd
