// smtp_load — an SMTP load client for the end-to-end benchmark (tests/bench/
// postfix_peers_throughput.py): N concurrent sessions deliver M messages in all, one message
// per SMTP connection like smtp-source, every k-th over STARTTLS, each message one of the
// given prepared files with its own envelope sender. Prints one JSON object: messages/s, the
// client-side latency percentiles (connect → the 250 after the final "."), how many went over
// TLS and the TLS versions negotiated. A figure, not a test (never run by ctest).
//
// What smtp-source cannot do and this does: STARTTLS (OpenSSL, the server's certificate is
// not verified: a benchmark on loopback), a per-message envelope sender (SPF and DMARC
// alignment of signed messages), a chosen source address (--bind: an address SPF authorizes,
// since mailsec does not evaluate SPF for loopback clients). It must not retry or hide a
// failure: any unexpected reply counts as failed and the exit status is 1.
//
// usage: bench_smtp_load --connect HOST:PORT [--bind ADDR] [--sessions 20] [--messages 10000]
//        [--tls-every 2] [--helo NAME] [--rcpt ADDR] --message FILE=SENDER [--message ...]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Message {
  std::string sender;
  std::string data;  // CRLF lines, dot-stuffed, ending in CRLF "." CRLF
};

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string bind_address;
  int sessions = 20;
  long messages = 10000;
  long tls_every = 2;  // 0: never; 1: always; k: messages 0, k, 2k, … over STARTTLS
  std::string helo = "load.mailsec.test";
  std::string rcpt = "user@mailsec.test";
  std::vector<Message> bodies;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "bench_smtp_load: %s\nusage: bench_smtp_load --connect HOST:PORT [--bind ADDR] "
               "[--sessions N] [--messages M] [--tls-every K] [--helo NAME] [--rcpt ADDR] "
               "--message FILE=SENDER...\n",
               why);
  std::exit(2);
}

// The file as SMTP DATA: LF or CRLF lines become CRLF, a leading "." is doubled.
std::string asSmtpData(const std::string& text) {
  std::string out;
  out.reserve(text.size() + text.size() / 40 + 8);
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty() && line.front() == '.') out += '.';
    out.append(line);
    out += "\r\n";
    start = end + 1;
  }
  out += ".\r\n";
  return out;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) usage(("missing value after " + arg).c_str());
    const std::string value = argv[++i];
    if (arg == "--connect") {
      const auto colon = value.rfind(':');
      if (colon == std::string::npos) usage("--connect wants HOST:PORT");
      o.host = value.substr(0, colon);
      o.port = std::atoi(value.c_str() + colon + 1);
    } else if (arg == "--bind") {
      o.bind_address = value;
    } else if (arg == "--sessions") {
      o.sessions = std::atoi(value.c_str());
    } else if (arg == "--messages") {
      o.messages = std::atol(value.c_str());
    } else if (arg == "--tls-every") {
      o.tls_every = std::atol(value.c_str());
    } else if (arg == "--helo") {
      o.helo = value;
    } else if (arg == "--rcpt") {
      o.rcpt = value;
    } else if (arg == "--message") {
      const auto eq = value.rfind('=');
      if (eq == std::string::npos) usage("--message wants FILE=SENDER");
      std::ifstream in(value.substr(0, eq), std::ios::binary);
      if (!in) usage(("cannot read " + value.substr(0, eq)).c_str());
      std::stringstream text;
      text << in.rdbuf();
      o.bodies.push_back({value.substr(eq + 1), asSmtpData(text.str())});
    } else {
      usage(("unknown option " + arg).c_str());
    }
  }
  if (o.port <= 0 || o.sessions <= 0 || o.messages <= 0 || o.tls_every < 0 || o.bodies.empty())
    usage("--connect, a positive --sessions and --messages, and a --message are required");
  return o;
}

// One SMTP connection: plain, then optionally TLS after STARTTLS. Replies are read whole
// (multi-line ones to their last line) and judged by their code.
class Connection {
 public:
  Connection(const Options& o, SSL_CTX* ctx) : ctx_(ctx) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return;
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!o.bind_address.empty()) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      ::inet_pton(AF_INET, o.bind_address.c_str(), &local.sin_addr);
      if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
        close();
        return;
      }
    }
    sockaddr_in peer{};
    peer.sin_family = AF_INET;
    peer.sin_port = htons(static_cast<uint16_t>(o.port));
    ::inet_pton(AF_INET, o.host.c_str(), &peer.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&peer), sizeof peer) != 0) close();
  }
  ~Connection() { close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool open() const { return fd_ >= 0; }

  // The code of the next complete reply, or 0 on a closed or broken connection.
  int reply() {
    for (;;) {
      std::size_t eol;
      while ((eol = buffer_.find("\r\n")) != std::string::npos) {
        const std::string line = buffer_.substr(0, eol);
        buffer_.erase(0, eol + 2);
        if (line.size() < 3) return 0;
        if (line.size() == 3 || line[3] == ' ') return std::atoi(line.substr(0, 3).c_str());
      }
      char chunk[4096];
      const long n = ssl_ ? SSL_read(ssl_, chunk, sizeof chunk) : ::read(fd_, chunk, sizeof chunk);
      if (n <= 0) return 0;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  bool send(std::string_view text) {
    while (!text.empty()) {
      const long n = ssl_ ? SSL_write(ssl_, text.data(), static_cast<int>(text.size()))
                          : ::write(fd_, text.data(), text.size());
      if (n <= 0) return false;
      text.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  int command(std::string_view line) { return send(std::string(line) + "\r\n") ? reply() : 0; }

  bool startTls() {
    if (!buffer_.empty()) return false;  // nothing may precede the handshake
    ssl_ = SSL_new(ctx_);
    if (!ssl_ || SSL_set_fd(ssl_, fd_) != 1) return false;
    return SSL_connect(ssl_) == 1;
  }

  std::string tlsVersion() const { return ssl_ ? SSL_get_version(ssl_) : "none"; }

 private:
  void close() {
    if (ssl_) {
      SSL_free(ssl_);
      ssl_ = nullptr;
    }
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  SSL_CTX* ctx_;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  std::string buffer_;
};

struct Outcome {
  bool delivered = false;
  const char* failed_at = "";  // the step that failed: connect, banner, ehlo, starttls, ...
  std::string tls_version;     // "none" over cleartext
  double seconds = 0;
};

Outcome deliver(const Options& o, SSL_CTX* ctx, const Message& m, bool tls) {
  Outcome out;
  const auto fail = [&out](const char* step) {
    out.failed_at = step;
    return out;
  };
  const auto start = Clock::now();
  Connection c(o, ctx);
  if (!c.open()) return fail("connect");
  if (c.reply() != 220) return fail("banner");
  const std::string ehlo = "EHLO " + o.helo;
  if (c.command(ehlo) != 250) return fail("ehlo");
  if (tls && (c.command("STARTTLS") != 220 || !c.startTls() || c.command(ehlo) != 250))
    return fail("starttls");
  if (c.command("MAIL FROM:<" + m.sender + ">") != 250) return fail("mail");
  if (c.command("RCPT TO:<" + o.rcpt + ">") != 250) return fail("rcpt");
  if (c.command("DATA") != 354) return fail("data");
  if (!c.send(m.data) || c.reply() != 250) return fail("end_of_data");
  out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  out.delivered = true;
  out.tls_version = c.tlsVersion();
  c.command("QUIT");
  return out;
}

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto i = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) usage("cannot create an OpenSSL context");
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);

  std::atomic<long> next{0};
  std::mutex lock;
  std::vector<double> latencies;
  std::map<std::string, long> versions;
  std::map<std::string, long> failures;  // by the step that failed
  long failed = 0;
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int s = 0; s < o.sessions; ++s) {
    threads.emplace_back([&] {
      std::vector<double> mine;
      std::map<std::string, long> my_versions;
      std::map<std::string, long> my_failures;
      long my_failed = 0;
      for (long k; (k = next.fetch_add(1)) < o.messages;) {
        const bool tls = o.tls_every > 0 && k % o.tls_every == 0;
        // Variants rotate independently of the TLS choice.
        const auto& m =
            o.bodies[static_cast<std::size_t>(k / std::max(o.tls_every, 1L)) % o.bodies.size()];
        const Outcome r = deliver(o, ctx, m, tls);
        if (!r.delivered) {
          ++my_failed;
          ++my_failures[r.failed_at];
          continue;
        }
        mine.push_back(r.seconds);
        ++my_versions[r.tls_version];
      }
      std::lock_guard<std::mutex> g(lock);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
      for (const auto& [v, n] : my_versions) versions[v] += n;
      for (const auto& [step, n] : my_failures) failures[step] += n;
      failed += my_failed;
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  SSL_CTX_free(ctx);

  std::sort(latencies.begin(), latencies.end());
  std::printf("{\"messages\": %zu, \"failed\": %ld, \"seconds\": %.3f, \"per_second\": %.1f, ",
              latencies.size(), failed, elapsed, static_cast<double>(latencies.size()) / elapsed);
  std::printf("\"latency_ms\": {\"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, \"max\": %.3f}, ",
              percentile(latencies, 0.5) * 1000, percentile(latencies, 0.9) * 1000,
              percentile(latencies, 0.99) * 1000, latencies.empty() ? 0 : latencies.back() * 1000);
  const auto print_counts = [](const char* name, const std::map<std::string, long>& counts) {
    std::printf("\"%s\": {", name);
    const char* sep = "";
    for (const auto& [key, n] : counts) {
      std::printf("%s\"%s\": %ld", sep, key.c_str(), n);
      sep = ", ";
    }
    std::printf("}");
  };
  print_counts("tls_versions", versions);
  std::printf(", ");
  print_counts("failed_at", failures);
  std::printf("}\n");
  return failed == 0 ? 0 : 1;
}
