// spf_records.cc — libFuzzer target: arbitrary SPF records (and envelope local parts and
// HELO names) through mailsec's libspf2 DNS layer into libspf2's parser, interpreter and
// macro expander, where CVE-2021-20314 and the 2023 integer underflow lived.
//
// Input: lines. Line 0 is the MAIL FROM local part, line 1 the HELO name, every further
// line a TXT record; a name's TXT answer is the line chosen by a hash of the name (so
// include:, redirect= and exp= targets get records too), and A, AAAA, MX and PTR answers are
// derived from the name, with some NXDOMAIN, timeouts and SERVFAIL.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/auth/spf_verifier.h"

namespace {

using mailsec::core::auth::DnsAnswer;
using mailsec::core::auth::DnsStatus;

class FuzzResolver final : public mailsec::core::auth::Resolver {
 public:
  explicit FuzzResolver(std::vector<std::string> records) : records_(std::move(records)) {}

  DnsAnswer query(std::string_view name, std::uint16_t type) override {
    const std::size_t h = std::hash<std::string_view>{}(name) ^ type;
    DnsAnswer answer;
    answer.rcode = 0;
    switch (h % 16) {
      case 0:
        answer.status = DnsStatus::kNxDomain;
        return answer;
      case 1:
        answer.status = DnsStatus::kTimeout;
        return answer;
      case 2:
        answer.status = DnsStatus::kServFail;
        return answer;
      default:
        break;
    }
    answer.status = DnsStatus::kAnswer;
    switch (type) {
      case 16: {
        if (records_.empty()) {
          answer.status = DnsStatus::kNoData;
          break;
        }
        const std::string& text = records_[(h / 16) % records_.size()];
        std::string rdata;
        for (std::size_t i = 0; i < text.size() || i == 0; i += 255) {
          const std::string chunk = text.substr(i, 255);
          rdata += static_cast<char>(chunk.size());
          rdata += chunk;
          if (text.empty()) break;
        }
        answer.rdata.push_back(rdata);
        if (h % 5 == 0) answer.rdata.push_back("\x0bv=spf1 -all");
        break;
      }
      case 1:
        answer.rdata.push_back(std::string("\xc0\x00\x02", 3) + static_cast<char>(h % 8));
        break;
      case 28:
        answer.rdata.push_back(std::string("\x20\x01\x0d\xb8", 4) + std::string(11, '\0') +
                               static_cast<char>(h % 8));
        break;
      case 15:
        answer.rdata.push_back(
            std::string("\x00\x0a\x02mx\x07"
                        "example\x03org\x00",
                        18));
        answer.rdata.push_back(
            std::string("\x00\x14\x03"
                        "bad",
                        6));  // truncated name
        break;
      case 12:
        answer.rdata.push_back(
            std::string("\x04mail\x07"
                        "example\x03org\x00",
                        18));
        break;
      default:
        answer.status = DnsStatus::kNoData;
        break;
    }
    return answer;
  }

 private:
  std::vector<std::string> records_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 8192) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= input.size() && lines.size() < 34) {
    const auto end = input.find('\n', start);
    lines.emplace_back(input.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  const std::string local = lines.empty() ? "user" : lines[0];
  const std::string helo = lines.size() > 1 ? lines[1] : "mail.example.net";
  std::vector<std::string> records;
  for (std::size_t i = 2; i < lines.size(); ++i) records.push_back(lines[i]);
  FuzzResolver resolver(records);
  std::vector<mailsec::core::auth::RecordFetch> fetched;
  for (const char* client : {"192.0.2.7", "2001:db8::7"}) {
    mailsec::core::auth::checkSpf(resolver, {client, helo, local + "@example.org"}, fetched);
  }
  mailsec::core::auth::checkSpf(resolver, {"192.0.2.3", helo, ""}, fetched);
  return 0;
}
