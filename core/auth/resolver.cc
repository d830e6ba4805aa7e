#include "core/auth/resolver.h"

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

}  // namespace mailsec::core::auth
