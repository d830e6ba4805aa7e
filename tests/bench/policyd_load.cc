// policyd_load — a load client for mailsec-policyd: N persistent policy connections, each
// sending M requests the way Postfix's smtpd does (one request outstanding per connection,
// the next sent when the answer arrived), from one epoll thread. Prints requests/s and the
// latency percentiles of request → complete answer. A figure, not a test (never run by ctest);
// tests/bench/policyd_load.py starts a policyd and runs this against it.
//
// Every request is a realistic Postfix 3.7 RCPT or END-OF-MESSAGE request (about 700 bytes);
// each connection moves to a new SMTP session (client_port) every kSessionLength requests, so
// the server's session accounting works as in production. Any answer other than
// "action=DUNNO\n\n", and any connection the server closes, is an error: exit status 1.
//
// usage: bench_policyd_load --port PORT [--host 127.0.0.1] [--connections N] [--requests M]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kAnswer = "action=DUNNO\n\n";
constexpr int kSessionLength = 4;  // requests per SMTP session: RCPT, RCPT, RCPT, END-OF-MESSAGE

std::string request(int connection, int number) {
  const int session = number / kSessionLength;
  const bool end = number % kSessionLength == kSessionLength - 1;
  std::string r;
  r.reserve(800);
  r += "request=smtpd_access_policy\nprotocol_state=";
  r += end ? "END-OF-MESSAGE" : "RCPT";
  r += "\nprotocol_name=ESMTP\nclient_address=192.0.2.";
  r += std::to_string(connection % 250 + 1);
  r += "\nclient_name=client.example\nclient_port=";
  r += std::to_string(1024 + (session * 997 + connection) % 60000);
  r += "\nreverse_client_name=client.example\nserver_address=198.51.100.1\nserver_port=25\n"
       "helo_name=client.example\nsender=sender@example.org\nrecipient=user@mailsec.test\n"
       "recipient_count=";
  r += end ? "1" : "0";
  r += "\nqueue_id=\ninstance=";
  r += std::to_string(connection) + "." + std::to_string(session);
  r += "\nsize=";
  r += end ? "2345" : "0";
  r += "\netrn_domain=\nstress=\nsasl_method=\nsasl_username=\nsasl_sender=\n"
       "ccert_subject=\nccert_issuer=\nccert_fingerprint=\nccert_pubkey_fingerprint=\n"
       "encryption_protocol=TLSv1.3\nencryption_cipher=TLS_AES_256_GCM_SHA384\n"
       "encryption_keysize=256\npolicy_context=\ncompatibility_level=3.6\n"
       "mail_version=3.7.11\n\n";
  return r;
}

struct Connection {
  int fd = -1;
  int sent = 0;  // requests sent
  std::string out;
  std::size_t out_done = 0;
  std::string in;
  Clock::time_point sent_at;
};

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "policyd_load: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

bool sendSome(Connection& c) {
  while (c.out_done < c.out.size()) {
    const ssize_t n =
        ::send(c.fd, c.out.data() + c.out_done, c.out.size() - c.out_done, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_done += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      return true;
    } else {
      return false;
    }
  }
  return true;
}

void startRequest(Connection& c, int id) {
  c.out = request(id, c.sent++);
  c.out_done = 0;
  c.sent_at = Clock::now();
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  int port = 0, connections = 50, requests = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view a = argv[i];
    if (a == "--host")
      host = argv[i + 1];
    else if (a == "--port")
      port = std::atoi(argv[i + 1]);
    else if (a == "--connections")
      connections = std::atoi(argv[i + 1]);
    else if (a == "--requests")
      requests = std::atoi(argv[i + 1]);
  }
  if (port <= 0 || connections <= 0 || requests <= 0) {
    std::fprintf(stderr, "usage: %s --port PORT [--host H] [--connections N] [--requests M]\n",
                 argv[0]);
    return 2;
  }

  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) fail("inet_pton");

  const int ep = ::epoll_create1(0);
  if (ep < 0) fail("epoll_create1");
  std::vector<Connection> conns(static_cast<std::size_t>(connections));
  for (int i = 0; i < connections; ++i) {
    Connection& c = conns[static_cast<std::size_t>(i)];
    c.fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (c.fd < 0) fail("socket");
    if (::connect(c.fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      fail("connect");
    }
    const int on = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<std::uint32_t>(i);
    if (::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev) != 0) fail("epoll_ctl");
  }

  std::vector<std::uint32_t> latencies_ns;
  latencies_ns.reserve(static_cast<std::size_t>(connections) * static_cast<std::size_t>(requests));
  std::size_t errors = 0;
  int open = connections;
  const auto start = Clock::now();
  for (int i = 0; i < connections; ++i) {
    Connection& c = conns[static_cast<std::size_t>(i)];
    startRequest(c, i);
    if (!sendSome(c)) fail("send");
  }
  std::vector<epoll_event> events(static_cast<std::size_t>(connections));
  char buf[4096];
  while (open > 0) {
    const int n = ::epoll_wait(ep, events.data(), connections, 10000);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::fprintf(stderr, "policyd_load: no answer for 10 s\n");
      return 1;
    }
    const auto now = Clock::now();
    for (int e = 0; e < n; ++e) {
      const auto id = static_cast<int>(events[static_cast<std::size_t>(e)].data.u32);
      Connection& c = conns[static_cast<std::size_t>(id)];
      const ssize_t got = ::recv(c.fd, buf, sizeof buf, 0);
      if (got <= 0) {
        if (got < 0 && errno == EAGAIN) continue;
        std::fprintf(stderr, "policyd_load: connection %d closed by the server\n", id);
        ++errors;
        ::close(c.fd);
        --open;
        continue;
      }
      c.in.append(buf, static_cast<std::size_t>(got));
      if (c.in.size() < kAnswer.size()) continue;
      if (c.in != kAnswer) ++errors;
      c.in.clear();
      latencies_ns.push_back(static_cast<std::uint32_t>(
          std::min<std::int64_t>(std::chrono::nanoseconds(now - c.sent_at).count(), UINT32_MAX)));
      if (c.sent < requests) {
        startRequest(c, id);
        if (!sendSome(c)) fail("send");
        continue;
      }
      ::close(c.fd);
      --open;
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(latencies_ns.begin(), latencies_ns.end());
  const auto pct = [&](double p) {
    if (latencies_ns.empty()) return 0.0;
    const auto i = static_cast<std::size_t>(p * static_cast<double>(latencies_ns.size() - 1));
    return static_cast<double>(latencies_ns[i]) / 1000.0;
  };
  std::printf(
      "connections=%d requests_per_connection=%d requests=%zu errors=%zu seconds=%.3f "
      "requests_per_second=%.0f latency_us_p50=%.1f p90=%.1f p99=%.1f p999=%.1f max=%.1f\n",
      connections, requests, latencies_ns.size(), errors, seconds,
      static_cast<double>(latencies_ns.size()) / seconds, pct(0.50), pct(0.90), pct(0.99),
      pct(0.999), pct(1.0));
  return errors == 0 ? 0 : 1;
}
