#include "core/auth/resolver.h"

#include <arpa/inet.h>

#include <cstdlib>

namespace mailsec::core::auth {

std::vector<std::string> txtRecords(const DnsAnswer& answer) {
  std::vector<std::string> records;
  for (const std::string& rdata : answer.rdata) {
    // rdata is a sequence of <length><bytes> character-strings; a length past the end makes
    // the record malformed, and it is skipped whole.
    std::string text;
    std::size_t i = 0;
    bool ok = true;
    while (i < rdata.size()) {
      const std::size_t length = static_cast<unsigned char>(rdata[i]);
      if (i + 1 + length > rdata.size()) {
        ok = false;
        break;
      }
      text.append(rdata, i + 1, length);
      i += 1 + length;
    }
    if (ok) records.push_back(std::move(text));
  }
  return records;
}

std::string validateForwarder(std::string_view forwarder) {
  const std::string text(forwarder);
  const auto at = text.find('@');
  const std::string ip = text.substr(0, at);
  unsigned char buffer[16];
  if (inet_pton(AF_INET, ip.c_str(), buffer) != 1 && inet_pton(AF_INET6, ip.c_str(), buffer) != 1) {
    return "forwarder \"" + text + "\" must be an IP address, optionally @PORT";
  }
  if (at != std::string::npos) {
    const std::string port = text.substr(at + 1);
    char* end = nullptr;
    const long value = port.empty() ? 0 : std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || value < 1 || value > 65535) {
      return "forwarder \"" + text + "\": the port after @ must be 1-65535";
    }
  }
  return "";
}

}  // namespace mailsec::core::auth
