#include "core/auth/spf_sandbox.h"

#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace mailsec::core::auth {
namespace {

constexpr std::uint32_t kMaxFrame = 1 << 20;
constexpr std::size_t kMaxRdata = 64;
constexpr std::size_t kMaxRecords = 256;
constexpr uid_t kNobody = 65534;

// Frames: u32 length (host order; both ends are this process image) + payload, whose first
// byte says what it is.
enum Kind : char { kQuery = 'Q', kAnswer = 'A', kVerdict = 'V', kNoVerdict = 'N' };

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

bool sendAll(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
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
    DnsAnswer failed;
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

void dropPrivileges() {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::geteuid() == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) {
      _exit(4);  // never run libspf2 as root
    }
  }
  ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  const rlimit cpu{15, 15};
  ::setrlimit(RLIMIT_CPU, &cpu);
  const rlimit core_dumps{0, 0};
  ::setrlimit(RLIMIT_CORE, &core_dumps);
}

[[noreturn]] void runChild(int fd, Resolver& /*unused*/, const SpfRequest& request,
                           const SpfCheck& check) {
  // Nothing the milter holds (MTA connections, resolver sockets, the store) stays reachable.
  if (fd > 3) ::close_range(3, static_cast<unsigned>(fd - 1), 0);
  ::close_range(static_cast<unsigned>(fd + 1), ~0U, 0);
  dropPrivileges();
  ProxyResolver proxy(fd);
  std::vector<RecordFetch> records;
  const std::optional<SpfVerdict> verdict = check(proxy, request, records);
  Writer w;
  if (!verdict) {
    w.u8(kNoVerdict);
  } else {
    w.u8(kVerdict);
    w.u8(static_cast<std::uint8_t>(verdict->result));
    w.u8(static_cast<std::uint8_t>(verdict->error));
    w.u8(static_cast<std::uint8_t>(verdict->identity));
    w.str(verdict->domain.substr(0, 255));
    w.u32(static_cast<std::uint32_t>(std::min(records.size(), kMaxRecords)));
    for (std::size_t i = 0; i < records.size() && i < kMaxRecords; ++i) {
      w.u8(static_cast<std::uint8_t>(records[i].record));
      w.u8(static_cast<std::uint8_t>(records[i].dnssec));
    }
  }
  _exit(sendAll(fd, w.frame()) ? 0 : 3);
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

}  // namespace

SpfSandboxResult checkSpfContained(Resolver& resolver, const SpfRequest& request,
                                   std::vector<RecordFetch>& records, const SpfCheck& check,
                                   std::chrono::milliseconds deadline) {
  SpfSandboxResult result;
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    result.verdict = failed(request);
    result.contained_failure = true;
    return result;
  }
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    result.verdict = failed(request);
    result.contained_failure = true;
    return result;
  }
  if (child == 0) {
    ::close(fds[0]);
    runChild(fds[1], resolver, request, check);
  }
  ::close(fds[1]);
  const int fd = fds[0];
  const auto until = std::chrono::steady_clock::now() + deadline;
  bool ok = false;
  std::vector<RecordFetch> fetched;
  for (int exchanges = 0; exchanges < 4 * kMaxSpfLookups; ++exchanges) {
    std::string payload;
    if (!recvFrame(fd, payload, until)) break;
    Reader r(payload);
    std::uint8_t kind = 0;
    if (!r.u8(kind)) break;
    if (kind == kQuery) {
      std::uint16_t type = 0;
      std::string name;
      if (!r.u16(type) || !r.str(name, 255) || !r.done()) break;
      const DnsAnswer answer = resolver.query(name, type);
      Writer w;
      w.u8(kAnswer);
      w.u8(static_cast<std::uint8_t>(answer.status));
      w.u8(static_cast<std::uint8_t>(answer.dnssec));
      w.u32(static_cast<std::uint32_t>(answer.rcode));
      const std::size_t count = std::min(answer.rdata.size(), kMaxRdata);
      w.u32(static_cast<std::uint32_t>(count));
      for (std::size_t i = 0; i < count; ++i) w.str(answer.rdata[i].substr(0, 65535));
      if (!sendAll(fd, w.frame())) break;
      continue;
    }
    if (kind == kNoVerdict && r.done()) {
      ok = true;
      break;
    }
    if (kind != kVerdict) break;
    SpfVerdict v;
    std::uint8_t res = 0, err = 0, identity = 0;
    std::uint32_t count = 0;
    if (!r.u8(res) || !r.u8(err) || !r.u8(identity) || !r.str(v.domain, 255) || !r.u32(count) ||
        count > kMaxRecords || !inRange<SpfResult>(res) || !inRange<SpfError>(err) ||
        !inRange<SpfIdentity>(identity)) {
      break;
    }
    bool records_ok = true;
    for (std::uint32_t i = 0; i < count && records_ok; ++i) {
      std::uint8_t record = 0, dnssec = 0;
      records_ok =
          r.u8(record) && r.u8(dnssec) && inRange<AuthRecord>(record) && inRange<Dnssec>(dnssec);
      if (records_ok) {
        fetched.push_back({static_cast<AuthRecord>(record), static_cast<Dnssec>(dnssec)});
      }
    }
    if (!records_ok || !r.done() || (!v.domain.empty() && !plausibleDomain(v.domain))) break;
    v.result = static_cast<SpfResult>(res);
    v.error = static_cast<SpfError>(err);
    v.identity = static_cast<SpfIdentity>(identity);
    result.verdict = std::move(v);
    ok = true;
    break;
  }
  ::close(fd);
  int status = 0;
  if (!ok) ::kill(child, SIGKILL);
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (ok && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) ok = false;
  if (!ok) {
    result.verdict = failed(request);
    result.contained_failure = true;
    return result;
  }
  records.insert(records.end(), fetched.begin(), fetched.end());
  return result;
}

}  // namespace mailsec::core::auth
