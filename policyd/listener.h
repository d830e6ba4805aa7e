// listener.h — the policy server's listening socket from a spec in the milter's syntax:
// unix:/path (or local:/path), inet:PORT[@HOST], inet6:PORT[@HOST].
//
// Input: the operator's configuration (trusted, validated here). A unix socket replaces a
// stale socket file at the path (never any other kind of file) and is made mode 0666: access
// is controlled by the directory it is in, as with Postfix's own private/ sockets.
// Thread-safety: plain functions. Errors: returned as text, never thrown.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mailsec::policyd {

struct ListenSpec {
  enum class Family { kUnix, kInet, kInet6 };
  Family family = Family::kInet;
  std::string path;        // kUnix
  std::string host;        // kInet, kInet6: empty for every address
  std::uint16_t port = 0;  // 0 asks the kernel for a free port (tests)
};

// Parses a socket spec; on failure returns nullopt and sets `problem`.
std::optional<ListenSpec> parseListenSpec(std::string_view spec, std::string& problem);

class Listener {
 public:
  Listener() = default;
  ~Listener();  // closes the socket and removes a unix socket file it created
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds and listens (non-blocking, close-on-exec). Returns a problem or "".
  std::string open(const ListenSpec& spec);
  void close();

  int fd() const { return fd_; }
  bool isInet() const { return inet_; }
  std::uint16_t port() const { return port_; }  // the bound port (inet)

 private:
  int fd_ = -1;
  bool inet_ = false;
  std::uint16_t port_ = 0;
  std::string unix_path_;
};

}  // namespace mailsec::policyd
