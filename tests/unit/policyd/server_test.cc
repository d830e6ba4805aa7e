// Tests of the policy server over real loopback and unix sockets: persistent and pipelined
// requests answered DUNNO, and every degraded mode (garbage, floods, too many connections,
// slow clients, a client closing mid-request) with its log line's counter.
#include "policyd/server.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include <prometheus/registry.h>

#include "fakes/recording_recorder.h"

namespace mailsec::policyd {
namespace {

using namespace std::chrono_literals;
using testing::RecordingRecorder;

constexpr std::string_view kRequest =
    "request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.1\n"
    "client_port=4000\nserver_address=127.0.0.1\nserver_port=25\nhelo_name=c.example\n"
    "instance=a1\nencryption_protocol=TLSv1.3\nencryption_cipher=TLS_AES_128_GCM_SHA256\n\n";

// A blocking client socket with a receive timeout.
class Client {
 public:
  explicit Client(std::uint16_t port, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    setTimeout();
  }
  explicit Client(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path.data(), path.size());
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    setTimeout();
  }
  ~Client() { close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  void shutdownWrite() { ::shutdown(fd_, SHUT_WR); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Sends everything; false when the server closed the connection.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  // Reads exactly `size` bytes (less when the server closes or the timeout hits).
  std::string read(std::size_t size) {
    std::string out;
    char buf[4096];
    while (out.size() < size) {
      const ssize_t n = ::recv(fd_, buf, std::min(sizeof buf, size - out.size()), 0);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  // True when the server closed the connection (EOF or reset) within the timeout.
  bool closedByServer() {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

 private:
  void setTimeout() {
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  int fd_ = -1;
  bool connected_ = false;
};

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() : catalogue_(registry_) { rules_.mx_ports = {25}; }
  ~ServerTest() override { stop(); }

  void start(ServerOptions options) {
    server_ = std::make_unique<Server>(std::move(options), rules_, recorder_, catalogue_);
    ASSERT_EQ(server_->listen(), "");
    thread_ = std::thread([this] { status_ = server_->run(); });
  }
  // Stops the server; afterwards the recorder may be read.
  void stop() {
    if (!thread_.joinable()) return;
    server_->stop();
    thread_.join();
  }
  static std::string answers(std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += Server::kAnswer;
    return out;
  }
  std::size_t invalidRequests() const {
    std::size_t n = 0;
    for (const auto& [source, kind] : recorder_.input_errors) {
      if (source == core::Source::kPolicyd && kind == core::InputErrorKind::kPolicyRequestInvalid) {
        ++n;
      }
    }
    return n;
  }

  prometheus::Registry registry_;
  metrics::Catalogue catalogue_;
  core::PortClassRules rules_;
  RecordingRecorder recorder_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  int status_ = -1;
};

ServerOptions loopback() {
  ServerOptions o;
  o.socket = "inet:0@127.0.0.1";
  return o;
}

TEST_F(ServerTest, AnswersPersistentAndPipelinedRequestsWithDunno) {
  start(loopback());
  Client c(server_->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(kRequest));
  EXPECT_EQ(c.read(Server::kAnswer.size()), Server::kAnswer);
  // Three at once, the last one split across writes.
  std::string three = std::string(kRequest) + std::string(kRequest) + std::string(kRequest);
  ASSERT_TRUE(c.send(three.substr(0, three.size() - 5)));
  ASSERT_TRUE(c.send(three.substr(three.size() - 5)));
  EXPECT_EQ(c.read(3 * Server::kAnswer.size()), answers(3));
  c.close();
  stop();
  EXPECT_EQ(status_, 0);
  EXPECT_EQ(catalogue_.policyd_requests.value(core::SmtpStage::kRcpt), 4.0);
  ASSERT_EQ(recorder_.sessions.size(), 1u);
  EXPECT_TRUE(recorder_.sessions[0].tls);
  EXPECT_EQ(recorder_.sessions[0].source, core::Source::kPolicyd);
  EXPECT_EQ(invalidRequests(), 0u);
}

TEST_F(ServerTest, InvalidRequestsAreAnsweredDunnoAndCounted) {
  start(loopback());
  Client c(server_->port());
  const std::string bad[] = {
      "protocol_state=RCPT\n\n",                          // no request=
      "request=other\n\n",                                // not smtpd_access_policy
      "request=smtpd_access_policy\nno equals sign\n\n",  // malformed
      std::string("\x01\x02\xff\xfe binary\n\n"),         // garbage
      "request=smtpd_access_policy\nhelo_name=" + std::string(20000, 'x') + "\n\n",  // long
  };
  for (const auto& request : bad) {
    ASSERT_TRUE(c.send(request));
    EXPECT_EQ(c.read(Server::kAnswer.size()), Server::kAnswer);
  }
  ASSERT_TRUE(c.send(kRequest));  // the connection still works
  EXPECT_EQ(c.read(Server::kAnswer.size()), Server::kAnswer);
  c.close();
  stop();
  EXPECT_EQ(invalidRequests(), 5u);
  EXPECT_EQ(catalogue_.policyd_requests.value(core::SmtpStage::kRcpt), 1.0);
}

TEST_F(ServerTest, AFloodClosesTheConnection) {
  start(loopback());
  Client c(server_->port());
  const std::string garbage(64 * 1024, 'g');
  bool sent = true;
  for (int i = 0; i < 40 && sent; ++i) sent = c.send(garbage);  // 2.5 MB, no line ends
  EXPECT_TRUE(c.closedByServer());
  Client other(server_->port());  // the server itself is unaffected
  ASSERT_TRUE(other.send(kRequest));
  EXPECT_EQ(other.read(Server::kAnswer.size()), Server::kAnswer);
  stop();
  EXPECT_EQ(catalogue_.policyd_connections_dropped.value(core::ConnectionDrop::kInputFlood), 1.0);
  EXPECT_EQ(invalidRequests(), 1u);
}

TEST_F(ServerTest, ConnectionsOverTheMaximumAreClosedAtOnce) {
  ServerOptions o = loopback();
  o.max_connections = 2;
  start(std::move(o));
  Client a(server_->port()), b(server_->port());
  ASSERT_TRUE(a.send(kRequest));  // make sure both are accepted before the third
  EXPECT_EQ(a.read(Server::kAnswer.size()), Server::kAnswer);
  ASSERT_TRUE(b.send(kRequest));
  EXPECT_EQ(b.read(Server::kAnswer.size()), Server::kAnswer);
  Client c(server_->port());
  EXPECT_TRUE(c.closedByServer());
  stop();
  EXPECT_EQ(catalogue_.policyd_connections_dropped.value(core::ConnectionDrop::kTooManyConnections),
            1.0);
}

TEST_F(ServerTest, ASlowIncompleteRequestTimesOut) {
  ServerOptions o = loopback();
  o.request_timeout = 1s;
  start(std::move(o));
  Client c(server_->port());
  ASSERT_TRUE(c.send("request=smtpd_access_policy\nprotocol_state=RC"));
  EXPECT_TRUE(c.closedByServer());
  stop();
  EXPECT_EQ(catalogue_.policyd_connections_dropped.value(core::ConnectionDrop::kRequestTimeout),
            1.0);
}

TEST_F(ServerTest, AConnectionThatNeverSendsARequestTimesOutLikeASlowOne) {
  ServerOptions o = loopback();
  o.request_timeout = 1s;
  start(std::move(o));
  Client silent(server_->port());
  Client active(server_->port());  // one that answered requests is only subject to idling
  ASSERT_TRUE(active.send(kRequest));
  EXPECT_EQ(active.read(Server::kAnswer.size()), Server::kAnswer);
  EXPECT_TRUE(silent.closedByServer());
  ASSERT_TRUE(active.send(kRequest));
  EXPECT_EQ(active.read(Server::kAnswer.size()), Server::kAnswer);
  stop();
  EXPECT_EQ(catalogue_.policyd_connections_dropped.value(core::ConnectionDrop::kRequestTimeout),
            1.0);
}

TEST_F(ServerTest, AClientClosingMidRequestIsCounted) {
  start(loopback());
  {
    Client c(server_->port());
    ASSERT_TRUE(c.send(kRequest));
    EXPECT_EQ(c.read(Server::kAnswer.size()), Server::kAnswer);
    ASSERT_TRUE(c.send("request=smtpd_access_policy\nprotocol_st"));
  }
  // The server sees the close asynchronously: a second connection's answer orders it after.
  std::this_thread::sleep_for(200ms);
  stop();
  EXPECT_EQ(invalidRequests(), 1u);
  EXPECT_EQ(recorder_.sessions.size(), 1u);
}

TEST_F(ServerTest, APeerThatShutsDownItsSideStillGetsItsAnswers) {
  start(loopback());
  // Pipelined requests, then the end of the client's stream; the client reads only later,
  // through a small receive buffer. (On loopback the kernel's buffers usually absorb every
  // answer before the server reads the end; the server also keeps the connection open until
  // answers it still holds are written.)
  Client c(server_->port(), /*receive_buffer=*/4096);
  constexpr std::size_t kMany = 3000;
  std::string many;
  for (std::size_t i = 0; i < kMany; ++i) many += kRequest;
  std::thread writer([&] {
    c.send(many);
    c.shutdownWrite();
  });
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(c.read((kMany + 1) * Server::kAnswer.size()), answers(kMany));  // then EOF
  writer.join();
  stop();
  EXPECT_EQ(catalogue_.policyd_requests.value(core::SmtpStage::kRcpt), double{kMany});
  EXPECT_EQ(invalidRequests(), 0u);
}

TEST_F(ServerTest, ServesAUnixSocketAndRemovesItAtTheEnd) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("mailsec-policyd-test-" + std::to_string(::getpid()) + ".sock"))
                               .string();
  ServerOptions o;
  o.socket = "unix:" + path;
  start(std::move(o));
  {
    Client c(path);
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send(kRequest));
    EXPECT_EQ(c.read(Server::kAnswer.size()), Server::kAnswer);
  }
  stop();
  server_.reset();
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(ServerTest, AReaderThatNeverReadsCannotGrowTheServer) {
  start(loopback());
  Client c(server_->port());
  // Tens of thousands of requests without reading an answer: the server stops reading this
  // peer once kMaxPendingOutput answers wait, and the kernel buffers fill; send() then blocks,
  // so send from a thread with a bounded amount and check the server still serves others.
  std::string many;
  for (int i = 0; i < 20000; ++i) many += kRequest;
  std::thread writer([&] { c.send(many); });
  std::this_thread::sleep_for(300ms);
  Client other(server_->port());
  ASSERT_TRUE(other.send(kRequest));
  EXPECT_EQ(other.read(Server::kAnswer.size()), Server::kAnswer);
  // Now read everything: every request gets its answer, in order.
  EXPECT_EQ(c.read(20000 * Server::kAnswer.size()), answers(20000));
  writer.join();
  c.close();
  stop();
  EXPECT_EQ(catalogue_.policyd_requests.value(core::SmtpStage::kRcpt), 20001.0);
}

TEST(ListenSpecTest, ParsesTheSocketSyntax) {
  std::string problem;
  auto s = parseListenSpec("inet:10040@127.0.0.1", problem);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->family, ListenSpec::Family::kInet);
  EXPECT_EQ(s->port, 10040);
  EXPECT_EQ(s->host, "127.0.0.1");
  s = parseListenSpec("inet6:10040@[::1]", problem);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->family, ListenSpec::Family::kInet6);
  EXPECT_EQ(s->host, "::1");
  s = parseListenSpec("unix:/run/mailsec/policyd.sock", problem);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->path, "/run/mailsec/policyd.sock");
  for (const char* bad :
       {"10040", "inet:x@h", "inet:10040@", "unix:relative", "tcp:1@h", "inet:70000@127.0.0.1"}) {
    EXPECT_FALSE(parseListenSpec(bad, problem)) << bad;
    EXPECT_NE(problem, "") << bad;
  }
}

}  // namespace
}  // namespace mailsec::policyd
