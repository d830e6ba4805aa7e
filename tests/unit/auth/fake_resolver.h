// fake_resolver.h — a Resolver for SPF and DMARC tests: answers from a table keyed by
// (name, type), NXDOMAIN for unknown names, NODATA for known names without the type, or a
// chosen failure per name; counts the queries.
//
// Trusts: the test. Thread-safety: query() takes a mutex.
#pragma once

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/auth/resolver.h"

namespace mailsec::testing {

class FakeResolver final : public core::auth::Resolver {
 public:
  using DnsAnswer = core::auth::DnsAnswer;
  using DnsStatus = core::auth::DnsStatus;

  // One TXT record per string (split into 255-byte character-strings).
  void txt(const std::string& name, std::vector<std::string> records,
           core::auth::Dnssec dnssec = core::auth::Dnssec::kInsecure) {
    DnsAnswer answer = answerOf(dnssec);
    for (const auto& record : records) {
      std::string rdata;
      for (std::size_t i = 0; i < record.size() || i == 0; i += 255) {
        const std::string chunk = record.substr(i, 255);
        rdata += static_cast<char>(chunk.size());
        rdata += chunk;
        if (record.empty()) break;
      }
      answer.rdata.push_back(std::move(rdata));
    }
    set(name, core::auth::rrtype::kTxt, std::move(answer));
  }
  void a(const std::string& name, std::vector<std::array<unsigned char, 4>> addresses) {
    DnsAnswer answer = answerOf(core::auth::Dnssec::kInsecure);
    for (const auto& address : addresses) {
      answer.rdata.emplace_back(reinterpret_cast<const char*>(address.data()), 4);
    }
    set(name, core::auth::rrtype::kA, std::move(answer));
  }
  // Every query for `name` (any type) fails with `status`.
  void fail(const std::string& name, DnsStatus status,
            core::auth::Dnssec dnssec = core::auth::Dnssec::kUnknown) {
    std::lock_guard lock(mutex_);
    failures_[lower(name)] = {status, dnssec};
  }
  void set(const std::string& name, std::uint16_t type, DnsAnswer answer) {
    std::lock_guard lock(mutex_);
    names_.insert(lower(name));
    answers_[{lower(name), type}] = std::move(answer);
  }

  DnsAnswer query(std::string_view name, std::uint16_t type) override {
    std::lock_guard lock(mutex_);
    ++queries_;
    asked_.emplace_back(std::string(name), type);
    const std::string key = lower(std::string(name));
    if (const auto f = failures_.find(key); f != failures_.end()) {
      DnsAnswer answer;
      answer.status = f->second.first;
      answer.dnssec = f->second.second;
      return answer;
    }
    if (const auto it = answers_.find({key, type}); it != answers_.end()) return it->second;
    DnsAnswer answer = answerOf(core::auth::Dnssec::kInsecure);
    answer.status = names_.count(key) != 0 ? DnsStatus::kNoData : DnsStatus::kNxDomain;
    answer.rcode = answer.status == DnsStatus::kNxDomain ? 3 : 0;
    return answer;
  }

  int queries() {
    std::lock_guard lock(mutex_);
    return queries_;
  }
  std::vector<std::pair<std::string, std::uint16_t>> asked() {
    std::lock_guard lock(mutex_);
    return asked_;
  }

 private:
  static DnsAnswer answerOf(core::auth::Dnssec dnssec) {
    DnsAnswer answer;
    answer.status = DnsStatus::kAnswer;
    answer.rcode = 0;
    answer.dnssec = dnssec;
    return answer;
  }
  static std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }

  std::mutex mutex_;
  std::map<std::pair<std::string, std::uint16_t>, DnsAnswer> answers_;
  std::set<std::string> names_;
  std::map<std::string, std::pair<DnsStatus, core::auth::Dnssec>> failures_;
  std::vector<std::pair<std::string, std::uint16_t>> asked_;
  int queries_ = 0;
};

}  // namespace mailsec::testing
