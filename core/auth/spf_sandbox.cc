#include "core/auth/spf_sandbox.h"

#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace mailsec::core::auth {
namespace {

constexpr std::uint32_t kMaxFrame = 1 << 20;
constexpr std::size_t kMaxRdata = 64;
constexpr std::size_t kMaxRecords = 256;
constexpr std::size_t kMaxRequestText = 4096;
constexpr uid_t kNobody = 65534;
// How long a retired healthy child gets to exit after its socket closes.
constexpr std::chrono::milliseconds kSpfChildExitWait{1000};

// Frames: u32 length (host order; both ends are this process image) + payload, whose first
// byte says what it is. Parent → child: kRequest, then kAnswer for each kQuery; child →
// parent: kQuery..., then kVerdict or kNoVerdict carrying the request's sequence number.
enum Kind : char { kRequest = 'R', kQuery = 'Q', kAnswer = 'A', kVerdict = 'V', kNoVerdict = 'N' };

class Writer {
 public:
  void u8(std::uint8_t v) { out_ += static_cast<char>(v); }
  void u16(std::uint16_t v) { raw(&v, sizeof v); }
  void u32(std::uint32_t v) { raw(&v, sizeof v); }
  void str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }
  std::string frame() const {
    std::string f;
    const auto n = static_cast<std::uint32_t>(out_.size());
    f.append(reinterpret_cast<const char*>(&n), sizeof n);
    f += out_;
    return f;
  }

 private:
  void raw(const void* p, std::size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool u8(std::uint8_t& v) { return raw(&v, sizeof v); }
  bool u16(std::uint16_t& v) { return raw(&v, sizeof v); }
  bool u32(std::uint32_t& v) { return raw(&v, sizeof v); }
  bool str(std::string& s, std::size_t max) {
    std::uint32_t n = 0;
    if (!u32(n) || n > max || n > in_.size() - pos_) return false;
    s.assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  bool raw(void* p, std::size_t n) {
    if (in_.size() - pos_ < n) return false;
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  std::string_view in_;
  std::size_t pos_ = 0;
};

// Sends all of `data` before `deadline` (no deadline: the child side), so a child that stops
// reading cannot block the parent.
bool sendAll(int fd, const std::string& data,
             std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    if (deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          *deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd, POLLOUT, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return false;
    }
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent,
                             MSG_NOSIGNAL | (deadline ? MSG_DONTWAIT : 0));
    if (n < 0 && (errno == EINTR || (deadline && (errno == EAGAIN || errno == EWOULDBLOCK)))) {
      continue;
    }
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads exactly `n` bytes before `deadline` (no deadline: the child side).
bool recvAll(int fd, char* out, std::size_t n,
             std::optional<std::chrono::steady_clock::time_point> deadline) {
  std::size_t got = 0;
  while (got < n) {
    if (deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          *deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd, POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return false;
    }
    const ssize_t r = ::recv(fd, out + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    got += static_cast<std::size_t>(r);
  }
  return true;
}

bool recvFrame(int fd, std::string& payload,
               std::optional<std::chrono::steady_clock::time_point> deadline) {
  std::uint32_t n = 0;
  if (!recvAll(fd, reinterpret_cast<char*>(&n), sizeof n, deadline)) return false;
  if (n == 0 || n > kMaxFrame) return false;
  payload.resize(n);
  return recvAll(fd, payload.data(), n, deadline);
}

// The child's resolver: every query goes to the parent.
class ProxyResolver final : public Resolver {
 public:
  explicit ProxyResolver(int fd) : fd_(fd) {}
  DnsAnswer query(std::string_view name, std::uint16_t type) override {
    Writer w;
    w.u8(kQuery);
    w.u16(type);
    w.str(name.substr(0, 255));
    std::string payload;
    if (!sendAll(fd_, w.frame()) || !recvFrame(fd_, payload, std::nullopt)) _exit(3);
    Reader r(payload);
    std::uint8_t kind = 0, status = 0, dnssec = 0;
    std::uint32_t rcode = 0, count = 0;
    if (!r.u8(kind) || kind != kAnswer || !r.u8(status) || !r.u8(dnssec) || !r.u32(rcode) ||
        !r.u32(count) || count > kMaxRdata) {
      _exit(3);
    }
    DnsAnswer answer;
    answer.status = static_cast<DnsStatus>(status);
    answer.dnssec = static_cast<Dnssec>(dnssec);
    answer.rcode = static_cast<int>(rcode);
    for (std::uint32_t i = 0; i < count; ++i) {
      std::string rdata;
      if (!r.str(rdata, 65535)) _exit(3);
      answer.rdata.push_back(std::move(rdata));
    }
    return answer;
  }

 private:
  int fd_;
};

void dropPrivileges(pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);   // when the forking thread ends
  if (::getppid() != parent) _exit(0);  // it already has
  if (::geteuid() == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) {
      _exit(4);  // never run libspf2 as root
    }
  }
  ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  // Over the child's whole life: the parent replaces it at kSpfChildCpuRecycle.
  const auto cpu_seconds = static_cast<rlim_t>(kSpfChildCpuLimit.count());
  const rlimit cpu{cpu_seconds, cpu_seconds};
  if (::setrlimit(RLIMIT_CPU, &cpu) != 0) _exit(4);
  const rlimit core_dumps{0, 0};
  ::setrlimit(RLIMIT_CORE, &core_dumps);
}

bool readRequest(const std::string& payload, std::uint32_t& sequence, SpfRequest& request) {
  Reader r(payload);
  std::uint8_t kind = 0;
  return r.u8(kind) && kind == kRequest && r.u32(sequence) &&
         r.str(request.client_address, kMaxRequestText) && r.str(request.helo, kMaxRequestText) &&
         r.str(request.mail_from, kMaxRequestText) && r.done();
}

std::string verdictFrame(std::uint32_t sequence, const std::optional<SpfVerdict>& verdict,
                         const std::vector<RecordFetch>& records) {
  Writer w;
  if (!verdict) {
    w.u8(kNoVerdict);
    w.u32(sequence);
    return w.frame();
  }
  w.u8(kVerdict);
  w.u32(sequence);
  w.u8(static_cast<std::uint8_t>(verdict->result));
  w.u8(static_cast<std::uint8_t>(verdict->error));
  w.u8(static_cast<std::uint8_t>(verdict->identity));
  w.str(verdict->domain.substr(0, 255));
  w.u32(static_cast<std::uint32_t>(std::min(records.size(), kMaxRecords)));
  for (std::size_t i = 0; i < records.size() && i < kMaxRecords; ++i) {
    w.u8(static_cast<std::uint8_t>(records[i].record));
    w.u8(static_cast<std::uint8_t>(records[i].dnssec));
  }
  return w.frame();
}

// The child: one request at a time until the socket closes. Never returns.
[[noreturn]] void runChild(int fd, pid_t parent, const SpfCheck& check) {
  // Nothing the milter holds (MTA connections, resolver sockets, the store, other threads'
  // sandbox sockets) stays reachable.
  if (fd > 3) ::close_range(3, static_cast<unsigned>(fd - 1), 0);
  ::close_range(static_cast<unsigned>(fd + 1), ~0U, 0);
  dropPrivileges(parent);
  ProxyResolver proxy(fd);
  for (;;) {
    std::string payload;
    if (!recvFrame(fd, payload, std::nullopt)) _exit(0);  // the parent closed: retired
    std::uint32_t sequence = 0;
    SpfRequest request;
    if (!readRequest(payload, sequence, request)) _exit(3);
    std::vector<RecordFetch> records;
    std::optional<SpfVerdict> verdict;
    try {
      verdict = check(proxy, request, records);
    } catch (...) {
      _exit(5);  // never unwind into the parent's frames
    }
    if (!sendAll(fd, verdictFrame(sequence, verdict, records))) _exit(3);
  }
}

template <typename E>
bool inRange(std::uint8_t v) {
  return v < closedSetSize<E>();
}

SpfVerdict failed(const SpfRequest& request) {
  SpfVerdict v;
  v.result = SpfResult::kTemperror;
  v.error = SpfError::kOther;
  v.identity = request.mail_from.empty() ? SpfIdentity::kHelo : SpfIdentity::kMailFrom;
  v.domain = request.mail_from.empty() ? std::string() : mailboxDomain(request.mail_from);
  return v;
}

std::string requestFrame(std::uint32_t sequence, const SpfRequest& request) {
  Writer w;
  w.u8(kRequest);
  w.u32(sequence);
  w.str(std::string_view(request.client_address).substr(0, kMaxRequestText));
  w.str(std::string_view(request.helo).substr(0, kMaxRequestText));
  w.str(std::string_view(request.mail_from).substr(0, kMaxRequestText));
  return w.frame();
}

enum class Exchange { kVerdict, kFailed };

// Serves the child's queries until its verdict for `sequence` (into `result`/`fetched`),
// anything malformed, or `until`.
Exchange exchange(int fd, std::uint32_t sequence, Resolver& resolver,
                  std::chrono::steady_clock::time_point until, SpfSandboxResult& result,
                  std::vector<RecordFetch>& fetched) {
  for (int exchanges = 0; exchanges < 4 * kMaxSpfLookups; ++exchanges) {
    std::string payload;
    if (!recvFrame(fd, payload, until)) return Exchange::kFailed;
    Reader r(payload);
    std::uint8_t kind = 0;
    if (!r.u8(kind)) return Exchange::kFailed;
    if (kind == kQuery) {
      std::uint16_t type = 0;
      std::string name;
      if (!r.u16(type) || !r.str(name, 255) || !r.done()) return Exchange::kFailed;
      const DnsAnswer answer = resolver.query(name, type);
      Writer w;
      w.u8(kAnswer);
      w.u8(static_cast<std::uint8_t>(answer.status));
      w.u8(static_cast<std::uint8_t>(answer.dnssec));
      w.u32(static_cast<std::uint32_t>(answer.rcode));
      const std::size_t count = std::min(answer.rdata.size(), kMaxRdata);
      w.u32(static_cast<std::uint32_t>(count));
      for (std::size_t i = 0; i < count; ++i) w.str(answer.rdata[i].substr(0, 65535));
      if (!sendAll(fd, w.frame(), until)) return Exchange::kFailed;
      continue;
    }
    std::uint32_t answered = 0;
    if (!r.u32(answered) || answered != sequence) return Exchange::kFailed;
    if (kind == kNoVerdict) return r.done() ? Exchange::kVerdict : Exchange::kFailed;
    if (kind != kVerdict) return Exchange::kFailed;
    SpfVerdict v;
    std::uint8_t res = 0, err = 0, identity = 0;
    std::uint32_t count = 0;
    if (!r.u8(res) || !r.u8(err) || !r.u8(identity) || !r.str(v.domain, 255) || !r.u32(count) ||
        count > kMaxRecords || !inRange<SpfResult>(res) || !inRange<SpfError>(err) ||
        !inRange<SpfIdentity>(identity)) {
      return Exchange::kFailed;
    }
    for (std::uint32_t i = 0; i < count; ++i) {
      std::uint8_t record = 0, dnssec = 0;
      if (!r.u8(record) || !r.u8(dnssec) || !inRange<AuthRecord>(record) ||
          !inRange<Dnssec>(dnssec)) {
        return Exchange::kFailed;
      }
      fetched.push_back({static_cast<AuthRecord>(record), static_cast<Dnssec>(dnssec)});
    }
    if (!r.done() || (!v.domain.empty() && !plausibleDomain(v.domain))) return Exchange::kFailed;
    v.result = static_cast<SpfResult>(res);
    v.error = static_cast<SpfError>(err);
    v.identity = static_cast<SpfIdentity>(identity);
    result.verdict = std::move(v);
    return Exchange::kVerdict;
  }
  return Exchange::kFailed;
}

}  // namespace

SpfSandbox::SpfSandbox(SpfCheck check, SpfSandboxOptions options)
    : check_(std::move(check)), options_(options) {}

SpfSandbox::~SpfSandbox() { retire(/*gracefully=*/true); }

bool SpfSandbox::spawn() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return false;
  const pid_t parent = ::getpid();
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
  if (child == 0) {
    ::close(fds[0]);
    runChild(fds[1], parent, check_);
  }
  ::close(fds[1]);
  child_ = child;
  fd_ = fds[0];
  checks_ = 0;
  has_cpu_clock_ = ::clock_getcpuclockid(child_, &cpu_clock_) == 0;
  cpu_after_last_ = std::chrono::nanoseconds(0);
  return true;
}

void SpfSandbox::retire(bool gracefully) {
  if (child_ <= 0) return;
  if (gracefully) {
    // A healthy child exits by itself when its socket closes (so tools such as callgrind see a
    // normal exit); one that does not within kSpfChildExitWait is killed.
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, child_, 0));
    ::close(fd_);
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      int ready = 0;
      do {
        ready = ::poll(&p, 1, static_cast<int>(kSpfChildExitWait.count()));
      } while (ready < 0 && errno == EINTR);
      ::close(pidfd);
      if (ready <= 0) ::kill(child_, SIGKILL);
    } else {
      ::kill(child_, SIGKILL);
    }
  } else {
    ::kill(child_, SIGKILL);
    ::close(fd_);
  }
  while (::waitpid(child_, nullptr, 0) < 0 && errno == EINTR) {
  }
  child_ = 0;
  fd_ = -1;
  checks_ = 0;
  has_cpu_clock_ = false;
}

std::chrono::nanoseconds SpfSandbox::childCpu() const {
  timespec ts{};
  if (!has_cpu_clock_ || ::clock_gettime(cpu_clock_, &ts) != 0) return {};
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

// Between checks the child must be blocked reading its socket: nothing to read (no unasked
// frame, no EOF), and next to no CPU since the last verdict.
bool SpfSandbox::childIdleAndHealthy() {
  pollfd p{fd_, POLLIN, 0};
  int ready = 0;
  do {
    ready = ::poll(&p, 1, 0);
  } while (ready < 0 && errno == EINTR);
  if (ready != 0) return false;
  return childCpu() - cpu_after_last_ <= kSpfChildIdleCpu;
}

SpfSandboxResult SpfSandbox::check(Resolver& resolver, const SpfRequest& request,
                                   std::vector<RecordFetch>& records) {
  SpfSandboxResult result;
  if (child_ > 0) {
    if (!childIdleAndHealthy()) {
      result.replaced_child = true;
      retire();
    } else if (checks_ >= options_.checks_per_child || childCpu() >= kSpfChildCpuRecycle) {
      retire(/*gracefully=*/true);
    }
  }
  if (child_ <= 0 && !spawn()) {
    result.verdict = failed(request);
    result.contained_failure = true;
    return result;
  }
  const std::uint32_t sequence = ++sequence_;
  const auto until = std::chrono::steady_clock::now() + options_.deadline;
  std::vector<RecordFetch> fetched;
  const bool ok = sendAll(fd_, requestFrame(sequence, request), until) &&
                  exchange(fd_, sequence, resolver, until, result, fetched) == Exchange::kVerdict;
  if (!ok) {
    retire();  // never reused after a failure
    result.verdict = failed(request);
    result.contained_failure = true;
    return result;
  }
  ++checks_;
  cpu_after_last_ = childCpu();
  records.insert(records.end(), fetched.begin(), fetched.end());
  return result;
}

SpfSandbox& threadSpfSandbox() {
  thread_local SpfSandbox sandbox;
  return sandbox;
}

SpfSandboxResult checkSpfContained(Resolver& resolver, const SpfRequest& request,
                                   std::vector<RecordFetch>& records) {
  return threadSpfSandbox().check(resolver, request, records);
}

SpfSandboxResult checkSpfContained(Resolver& resolver, const SpfRequest& request,
                                   std::vector<RecordFetch>& records, const SpfCheck& check,
                                   std::chrono::milliseconds deadline) {
  SpfSandbox sandbox(check, {.checks_per_child = 1, .deadline = deadline});
  return sandbox.check(resolver, request, records);
}

}  // namespace mailsec::core::auth
