// fake_key_resolver.h — a Resolver for DKIM tests: serves TXT records from a table as real
// wire-format DNS replies (header, question, answers — what libopendkim's dkim_get_key_dns
// parses), or a chosen failure, and counts the queries it was asked.
//
// Trusts: the test. Thread-safety: query() may be called from many threads (a mutex).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/auth/resolver.h"

namespace mailsec::test {

class FakeKeyResolver : public core::auth::Resolver {
 public:
  struct Entry {
    core::auth::DnsStatus status = core::auth::DnsStatus::kAnswer;
    std::vector<std::string> txt;  // one string per TXT record (split into 255-byte strings)
    core::auth::Dnssec dnssec = core::auth::Dnssec::kUnknown;
    bool packet = true;  // false: answer without the wire packet (rdata only)
  };

  void set(std::string name, Entry entry) {
    std::lock_guard lock(mutex_);
    entries_[lower(std::move(name))] = std::move(entry);
  }
  void setTxt(std::string name, std::string record) {
    set(std::move(name), Entry{core::auth::DnsStatus::kAnswer, {std::move(record)}});
  }

  // Served for every name without an entry of its own (default: NXDOMAIN).
  void setDefault(Entry entry) {
    std::lock_guard lock(mutex_);
    default_ = std::move(entry);
  }

  int queries() const { return queries_.load(); }

  core::auth::DnsAnswer query(std::string_view name, std::uint16_t type) override {
    ++queries_;
    Entry entry;
    {
      std::lock_guard lock(mutex_);
      const auto it = entries_.find(lower(std::string(name)));
      if (it == entries_.end()) {
        entry = default_;
      } else {
        entry = it->second;
      }
    }
    core::auth::DnsAnswer answer;
    answer.status = entry.status;
    answer.dnssec = entry.dnssec;
    if (entry.status == core::auth::DnsStatus::kTimeout) return answer;
    answer.rcode = entry.status == core::auth::DnsStatus::kNxDomain   ? 3
                   : entry.status == core::auth::DnsStatus::kServFail ? 2
                                                                      : 0;
    if (entry.status == core::auth::DnsStatus::kAnswer) {
      for (const std::string& record : entry.txt) answer.rdata.push_back(txtRdata(record));
    }
    if (entry.packet) answer.packet = packet(name, type, answer);
    return answer;
  }

  // <length><bytes> character-strings of at most 255 bytes each.
  static std::string txtRdata(std::string_view text) {
    std::string rdata;
    do {
      const std::size_t n = std::min<std::size_t>(text.size(), 255);
      rdata.push_back(static_cast<char>(n));
      rdata.append(text.substr(0, n));
      text.remove_prefix(n);
    } while (!text.empty());
    return rdata;
  }

 private:
  static std::string lower(std::string s) {
    for (char& c : s) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }

  static void u16(std::string& out, unsigned v) {
    out.push_back(static_cast<char>((v >> 8) & 0xff));
    out.push_back(static_cast<char>(v & 0xff));
  }

  static std::string packet(std::string_view name, std::uint16_t type,
                            const core::auth::DnsAnswer& answer) {
    std::string p;
    u16(p, 0x1234);
    u16(p, 0x8180 | static_cast<unsigned>(answer.rcode));
    u16(p, 1);
    u16(p, static_cast<unsigned>(answer.rdata.size()));
    u16(p, 0);
    u16(p, 0);
    std::string_view rest = name;
    while (!rest.empty()) {
      const std::size_t dot = rest.find('.');
      const std::string_view label = rest.substr(0, dot);
      p.push_back(static_cast<char>(label.size()));
      p.append(label);
      rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    }
    p.push_back('\0');
    u16(p, type);
    u16(p, 1);
    for (const std::string& rdata : answer.rdata) {
      u16(p, 0xc00c);
      u16(p, type);
      u16(p, 1);
      u16(p, 0);
      u16(p, 3600);
      u16(p, static_cast<unsigned>(rdata.size()));
      p.append(rdata);
    }
    return p;
  }

  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  Entry default_{core::auth::DnsStatus::kNxDomain, {}};
  std::atomic<int> queries_{0};
};

}  // namespace mailsec::test
