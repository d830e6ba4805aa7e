// fake_dns_server.h — a tiny authoritative UDP DNS server on 127.0.0.1 for resolver tests:
// answers A, TXT and PTR records from a map, NXDOMAIN for unknown names, NODATA for known
// names without the asked type, and can be told to go silent (an outage) and come back.
//
// Trusts: queries come from the resolver under test. Thread-safety: configure before start(),
// setSilent() from any thread. Errors: start() throws std::runtime_error if it cannot bind.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace mailsec::testing {

class FakeDnsServer {
 public:
  FakeDnsServer() = default;
  ~FakeDnsServer() {
    thread_ = {};
    if (fd_ >= 0) ::close(fd_);
  }

  // Adds one record; `rdata` is wire format (use txt() for TXT).
  void add(const std::string& name, std::uint16_t type, std::string rdata) {
    records_[lower(name)].emplace_back(type, std::move(rdata));
  }
  static std::string txt(const std::string& text) {
    if (text.empty()) return std::string(1, '\0');
    std::string out;
    for (std::size_t i = 0; i < text.size(); i += 255) {
      const std::string chunk = text.substr(i, 255);
      out += static_cast<char>(chunk.size());
      out += chunk;
    }
    return out;
  }

  void start() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      throw std::runtime_error("fake DNS server: cannot bind");
    }
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::jthread([this](std::stop_token stop) { serve(stop); });
  }

  std::uint16_t port() const { return port_; }
  std::string forwarder() const { return "127.0.0.1@" + std::to_string(port_); }
  void setSilent(bool silent) { silent_ = silent; }
  int queries() const { return queries_; }

 private:
  static std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }

  void serve(const std::stop_token& stop) {
    while (!stop.stop_requested()) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      unsigned char buffer[4096];
      sockaddr_in peer{};
      socklen_t length = sizeof peer;
      const auto n =
          ::recvfrom(fd_, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&peer), &length);
      if (n < 12) continue;
      ++queries_;
      if (silent_) continue;
      const std::string reply =
          answer(std::string(reinterpret_cast<char*>(buffer), static_cast<std::size_t>(n)));
      if (!reply.empty()) {
        ::sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&peer), length);
      }
    }
  }

  std::string answer(const std::string& query) const {
    std::size_t i = 12;
    std::string name;
    while (i < query.size() && query[i] != 0) {
      const auto label = static_cast<unsigned char>(query[i]);
      if (label > 63 || i + 1 + label > query.size()) return "";
      if (!name.empty()) name += '.';
      name.append(query, i + 1, label);
      i += 1 + label;
    }
    if (i + 5 > query.size()) return "";
    const std::size_t question_end = i + 5;
    const auto type = static_cast<std::uint16_t>((static_cast<unsigned char>(query[i + 1]) << 8) |
                                                 static_cast<unsigned char>(query[i + 2]));
    std::string reply = query.substr(0, question_end);
    reply[2] = static_cast<char>(0x84 | (query[2] & 0x01));  // QR, AA, RD copied
    reply[3] = 0;
    reply[6] = reply[7] = reply[8] = reply[9] = reply[10] = reply[11] = 0;
    const auto found = records_.find(lower(name));
    if (found == records_.end()) {
      reply[3] = 3;  // NXDOMAIN
      return reply;
    }
    int count = 0;
    for (const auto& [rr_type, rdata] : found->second) {
      if (rr_type != type) continue;
      ++count;
      reply += "\xc0\x0c";
      reply += static_cast<char>(type >> 8);
      reply += static_cast<char>(type & 0xff);
      reply += std::string("\x00\x01\x00\x00\x00\x3c", 6);  // IN, TTL 60
      reply += static_cast<char>(rdata.size() >> 8);
      reply += static_cast<char>(rdata.size() & 0xff);
      reply += rdata;
    }
    reply[7] = static_cast<char>(count);
    return reply;
  }

  std::map<std::string, std::vector<std::pair<std::uint16_t, std::string>>> records_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> silent_{false};
  std::atomic<int> queries_{0};
  std::jthread thread_;
};

}  // namespace mailsec::testing
