#include "report/adoption_model.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "metrics/store/store_types.h"

namespace mailsec::report {
namespace {

struct TableSpec {
  Dist dist;
  const char* id;
  const char* title;
  const char* reference;
  std::vector<std::string> columns;
};

const std::vector<TableSpec>& specs() {
  static const std::vector<TableSpec> kSpecs = {
      {Dist::kTlsVersions, "tls_versions", "TLS versions", "", {"version"}},
      {Dist::kCipherSuites,
       "cipher_suites",
       "Cipher suites",
       "IMC 2015 Table 2",
       {"version", "key exchange", "cipher", "MAC", "forward secrecy", "class"}},
      {Dist::kCipherClasses, "cipher_classes", "Cipher classes", "", {"class"}},
      {Dist::kClientCerts, "client_certificates", "Client certificates", "", {"certificate"}},
      {Dist::kAuthMethods,
       "auth_methods",
       "Authentication methods",
       "IMC 2015 Table 18",
       {"method"}},
      {Dist::kSpfResults, "spf_results", "SPF results", "", {"result"}},
      {Dist::kSpfErrors,
       "spf_errors",
       "SPF error classes",
       "IMC 2015 Table 19",
       {"result", "error"}},
      {Dist::kDkimResults, "dkim_results", "DKIM results", "", {"result"}},
      {Dist::kDkimReasons,
       "dkim_reasons",
       "DKIM failure reasons",
       "IMC 2015 Table 9",
       {"result", "reason"}},
      {Dist::kDmarcResults, "dmarc_results", "DMARC results", "", {"result"}},
      {Dist::kDmarcPolicies,
       "dmarc_policies",
       "Senders' DMARC policies",
       "IMC 2015 Table 22",
       {"policy"}},
      {Dist::kDnssec, "dnssec", "DNSSEC of authentication records", "", {"record", "DNSSEC"}},
      {Dist::kPaths, "received_paths", "Received-path encryption", "", {"path"}},
      {Dist::kDowngradeSignals, "downgrades", "Suspected STARTTLS downgrades", "", {"signal"}},
  };
  return kSpecs;
}

std::optional<double> ratio(std::uint64_t part, std::uint64_t whole) {
  if (whole == 0) return std::nullopt;
  return static_cast<double>(part) / static_cast<double>(whole);
}

std::uint64_t sum(const Counts& counts) {
  std::uint64_t n = 0;
  for (const auto& [k, v] : counts) n += v;
  return n;
}

ShareTable shareTable(const TableSpec& spec, const MonthData& current, const MonthData& previous) {
  ShareTable t;
  t.dist = spec.dist;
  t.id = spec.id;
  t.title = spec.title;
  t.reference = spec.reference;
  t.columns = spec.columns;
  const auto cur = current.dists.find(spec.dist);
  if (cur == current.dists.end()) {
    const auto why = current.unavailable.find(spec.dist);
    t.note = why != current.unavailable.end()
                 ? why->second
                 : "not available from this source (" + current.source + ")";
    return t;
  }
  t.available = true;
  t.denominator = cur->second.denominator;
  t.total = sum(cur->second.counts);
  const Counts* prev = nullptr;
  if (const auto p = previous.dists.find(spec.dist); p != previous.dists.end()) {
    prev = &p->second.counts;
    t.previous_total = sum(*prev);
  }
  // Rows: every key of either month, so a value that vanished still shows as 0.
  Counts keys = cur->second.counts;
  if (prev != nullptr) {
    for (const auto& [k, v] : *prev) keys.try_emplace(k, 0);
  }
  for (const auto& [key, count] : keys) {
    ShareRow r;
    r.key = key;
    r.count = count;
    r.share = ratio(count, t.total).value_or(0.0);
    if (prev != nullptr) {
      const auto it = prev->find(key);
      r.previous_count = it == prev->end() ? 0 : it->second;
      r.previous_share = ratio(r.previous_count, t.previous_total);
    }
    t.rows.push_back(std::move(r));
  }
  std::stable_sort(t.rows.begin(), t.rows.end(), [](const ShareRow& a, const ShareRow& b) {
    if (a.count != b.count) return a.count > b.count;
    return a.previous_count > b.previous_count;
  });
  // Everything under "unknown": nothing was recorded for this dimension, which is not the
  // same as every peer failing it.
  const Counts& counts = cur->second.counts;
  if (t.total != 0 && counts.size() == 1 && counts.begin()->first == Key{"unknown"}) {
    t.note =
        "every one is unknown: nothing recorded this dimension (verification off, or "
        "a source that does not keep it)";
  }
  return t;
}

std::vector<DailyRow> daily(const MonthData& data) {
  std::map<DayNumber, DayCounts> by_day;
  for (const auto& d : data.days) {
    auto& c = by_day[d.day];
    c.sessions += d.sessions;
    c.tls_sessions += d.tls_sessions;
    c.messages += d.messages;
    c.tls_messages += d.tls_messages;
  }
  std::vector<DailyRow> out;
  for (DayNumber day = firstDay(data.year, data.month); day <= lastDay(data.year, data.month);
       ++day) {
    DailyRow r;
    r.day = day;
    r.weekend = isWeekend(day);
    if (const auto it = by_day.find(day); it != by_day.end()) {
      r.sessions = it->second.sessions;
      r.tls_sessions = it->second.tls_sessions;
      r.messages = it->second.messages;
      r.tls_messages = it->second.tls_messages;
    }
    r.session_share = ratio(r.tls_sessions, r.sessions);
    r.message_share = ratio(r.tls_messages, r.messages);
    out.push_back(r);
  }
  return out;
}

// `weekend`: only weekend days (true), only weekdays (false), every day (nullopt).
Totals totals(const std::vector<DailyRow>& days, std::optional<bool> weekend = std::nullopt) {
  Totals t;
  for (const auto& d : days) {
    if (weekend && d.weekend != *weekend) continue;
    t.sessions += d.sessions;
    t.tls_sessions += d.tls_sessions;
    t.messages += d.messages;
    t.tls_messages += d.tls_messages;
  }
  t.session_share = ratio(t.tls_sessions, t.sessions);
  t.message_share = ratio(t.tls_messages, t.messages);
  return t;
}

// The identified peers of a month, summed per domain, by messages (largest first).
std::vector<PeerRow> peerRows(const std::vector<PeerVolume>& peers) {
  std::map<std::string, PeerRow> by_domain;
  for (const auto& p : peers) {
    if (p.domain.empty()) continue;  // unidentified peers are no domain
    auto& r = by_domain[p.domain];
    r.domain = p.domain;
    r.messages += p.messages;
    r.tls_messages += p.tls_messages;
  }
  std::vector<PeerRow> out;
  for (auto& [domain, r] : by_domain) {
    if (r.messages == 0) continue;
    r.share = ratio(r.tls_messages, r.messages).value_or(0.0);
    r.all_tls = r.tls_messages == r.messages;
    out.push_back(r);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const PeerRow& a, const PeerRow& b) { return a.messages > b.messages; });
  return out;
}

PeerTable peerTable(const MonthData& current, const MonthData& previous, std::size_t top_n) {
  PeerTable t;
  t.top_n = top_n;
  if (!current.peers) {
    t.note = "not available from this source (" + current.source +
             "): per-domain counts are kept only in the history store";
    return t;
  }
  t.available = true;
  auto rows = peerRows(*current.peers);
  t.domains = rows.size();
  if (rows.size() > top_n) rows.resize(top_n);
  t.rows = std::move(rows);
  t.all_tls = static_cast<std::size_t>(
      std::count_if(t.rows.begin(), t.rows.end(), [](const PeerRow& r) { return r.all_tls; }));
  if (previous.peers) {
    auto prev = peerRows(*previous.peers);
    if (prev.size() > top_n) prev.resize(top_n);
    t.previous_rows = prev.size();
    t.previous_all_tls = static_cast<std::size_t>(
        std::count_if(prev.begin(), prev.end(), [](const PeerRow& r) { return r.all_tls; }));
  }
  return t;
}

}  // namespace

bool Report::empty() const {
  if (totals.sessions != 0 || totals.messages != 0) return false;
  for (const auto& t : tables) {
    if (t.total != 0) return false;
  }
  return downgrade_events.empty();
}

bool parseMonth(const std::string& text, int& year, unsigned& month) {
  int y = 0;
  unsigned m = 0;
  char tail = 0;
  if (text.size() != 7 || text[4] != '-' ||
      std::sscanf(text.c_str(), "%4d-%2u%c", &y, &m, &tail) != 2) {
    return false;
  }
  if (y < 1970 || y > 9999 || m < 1 || m > 12) return false;
  year = y;
  month = m;
  return true;
}

std::string monthText(int year, unsigned month) {
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u", year, month);
  return text;
}

void previousMonth(int& year, unsigned& month) {
  if (month == 1) {
    --year;
    month = 12;
  } else {
    --month;
  }
}

DayNumber firstDay(int year, unsigned month) {
  using namespace std::chrono;
  return static_cast<DayNumber>(
      sys_days{std::chrono::year{year} / std::chrono::month{month} / 1}.time_since_epoch().count());
}

DayNumber lastDay(int year, unsigned month) {
  using namespace std::chrono;
  return static_cast<DayNumber>(sys_days{std::chrono::year{year} / std::chrono::month{month} / last}
                                    .time_since_epoch()
                                    .count());
}

bool isWeekend(DayNumber day) {
  using namespace std::chrono;
  const weekday wd{sys_days{days{day}}};
  return wd == Saturday || wd == Sunday;
}

std::string dayText(DayNumber day) { return metrics::store::dayText(day); }

Report buildReport(const MonthData& current, const MonthData& previous,
                   const ReportOptions& options) {
  Report r;
  r.month = monthText(current.year, current.month);
  r.previous_month = monthText(previous.year, previous.month);
  r.source = current.source;
  r.daily = daily(current);
  r.previous_daily = daily(previous);
  r.totals = totals(r.daily);
  r.previous_totals = totals(r.previous_daily);
  r.weekdays = totals(r.daily, false);
  r.weekends = totals(r.daily, true);
  for (const auto& spec : specs()) r.tables.push_back(shareTable(spec, current, previous));
  r.peers = peerTable(current, previous, options.top_n);
  if (current.downgrades) {
    r.downgrade_events_available = true;
    r.downgrade_events = *current.downgrades;
    std::stable_sort(r.downgrade_events.begin(), r.downgrade_events.end(),
                     [](const DowngradeEvent& a, const DowngradeEvent& b) {
                       if (a.count != b.count) return a.count > b.count;
                       return a.last_seen > b.last_seen;
                     });
  }
  return r;
}

}  // namespace mailsec::report
