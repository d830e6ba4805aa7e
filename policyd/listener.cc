#include "policyd/listener.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/peer_text.h"

namespace mailsec::policyd {
namespace {

std::string errnoText(const std::string& what, int error) {
  return what + ": " + std::strerror(error);
}

}  // namespace

std::optional<ListenSpec> parseListenSpec(std::string_view spec, std::string& problem) {
  const auto fail = [&](const std::string& why) -> std::optional<ListenSpec> {
    problem = "policyd socket \"" + std::string(spec) + "\": " + why;
    return std::nullopt;
  };
  const auto colon = spec.find(':');
  if (colon == std::string_view::npos) {
    return fail("must start with unix:, local:, inet: or inet6:");
  }
  const std::string_view kind = spec.substr(0, colon);
  const std::string_view rest = spec.substr(colon + 1);
  ListenSpec out;
  if (kind == "unix" || kind == "local") {
    if (rest.empty() || rest.front() != '/') return fail("the path must be absolute");
    if (rest.size() >= sizeof(sockaddr_un{}.sun_path)) return fail("the path is too long");
    out.family = ListenSpec::Family::kUnix;
    out.path = std::string(rest);
    return out;
  }
  if (kind != "inet" && kind != "inet6") {
    return fail("must start with unix:, local:, inet: or inet6:");
  }
  out.family = kind == "inet" ? ListenSpec::Family::kInet : ListenSpec::Family::kInet6;
  const auto at = rest.find('@');
  const auto port = core::parsePort(rest.substr(0, at));
  if (!port) return fail("expected " + std::string(kind) + ":PORT@HOST");
  out.port = *port;
  if (at != std::string_view::npos) {
    std::string_view host = rest.substr(at + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    if (host.empty()) return fail("empty host after @");
    out.host = std::string(host);
  }
  return out;
}

Listener::~Listener() { close(); }

void Listener::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
  unix_path_.clear();
}

std::string Listener::open(const ListenSpec& spec) {
  close();
  if (spec.family == ListenSpec::Family::kUnix) {
    struct stat st {};
    if (::lstat(spec.path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) return spec.path + " exists and is not a socket";
      ::unlink(spec.path.c_str());  // a stale socket of an earlier run
    }
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, spec.path.data(), spec.path.size());
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return errnoText("socket", errno);
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      const int error = errno;
      close();
      return errnoText("cannot bind " + spec.path, error);
    }
    unix_path_ = spec.path;
    if (::chmod(spec.path.c_str(), 0666) != 0) {
      const int error = errno;
      close();
      return errnoText("chmod " + spec.path, error);
    }
  } else {
    addrinfo hints{};
    hints.ai_family = spec.family == ListenSpec::Family::kInet ? AF_INET : AF_INET6;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(spec.port);
    const int rc = ::getaddrinfo(spec.host.empty() ? nullptr : spec.host.c_str(), port.c_str(),
                                 &hints, &found);
    if (rc != 0 || found == nullptr) {
      return "cannot resolve \"" + spec.host + "\": " + ::gai_strerror(rc);
    }
    fd_ = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      const int error = errno;
      ::freeaddrinfo(found);
      return errnoText("socket", error);
    }
    const int on = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (found->ai_family == AF_INET6) ::setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    const int bound = ::bind(fd_, found->ai_addr, found->ai_addrlen);
    const int error = errno;
    ::freeaddrinfo(found);
    if (bound != 0) {
      close();
      return errnoText("cannot bind port " + port + (spec.host.empty() ? "" : " on " + spec.host),
                       error);
    }
    sockaddr_storage local{};
    socklen_t length = sizeof local;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length) == 0) {
      port_ = ntohs(local.ss_family == AF_INET6
                        ? reinterpret_cast<const sockaddr_in6*>(&local)->sin6_port
                        : reinterpret_cast<const sockaddr_in*>(&local)->sin_port);
    }
    inet_ = true;
  }
  if (::listen(fd_, SOMAXCONN) != 0) {
    const int error = errno;
    close();
    return errnoText("listen", error);
  }
  return "";
}

}  // namespace mailsec::policyd
