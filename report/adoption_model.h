// adoption_model.h — the monthly adoption report as data: what a source (the history store or a
// Prometheus) knows about one month of traffic (MonthData), and the tables the report prints,
// each with its denominator, against the previous month (buildReport). Pure: no I/O.
//
// The tables reproduce the IMC 2015 study's on one site's traffic: inbound STARTTLS share by day
// (Figure 3), cipher suites (Table 2), TLS versions, client certificates, authentication methods
// (Table 18), SPF error classes (Table 19), DKIM failure reasons (Table 9), senders' DMARC
// policies (Table 22), DNSSEC of authentication records, Received paths, the top peer domains
// and their TLS share, suspected downgrades. A source that cannot give a table leaves it out of
// MonthData; the report then says so instead of printing an empty table.
//
// Input: counts from the sources (keys are closed-set spellings or PSL-reduced domains, printed
// as data by the renderers). Thread-safety: plain values and pure functions. Errors: none.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mailsec::report {

// Days since the Unix epoch (UTC), as the store counts them.
using DayNumber = std::int32_t;

// The distributions a month's data may hold, one table each.
enum class Dist : std::uint8_t {
  kTlsVersions,       // [version]
  kCipherSuites,      // [version, kex, cipher, mac, pfs, class]
  kCipherClasses,     // [class]
  kClientCerts,       // [client certificate]
  kAuthMethods,       // [method]
  kSpfResults,        // [result]
  kSpfErrors,         // [result, error]
  kDkimResults,       // [result]
  kDkimReasons,       // [result, reason]
  kDmarcResults,      // [result]
  kDmarcPolicies,     // [policy]
  kDnssec,            // [record, dnssec]
  kPaths,             // [path]
  kDowngradeSignals,  // [signal]
};

using Key = std::vector<std::string>;
using Counts = std::map<Key, std::uint64_t>;

struct Distribution {
  Counts counts;
  std::string denominator;  // what the counts count, e.g. "TLS sessions on MX ports"
};

struct DayCounts {
  DayNumber day = 0;
  std::uint64_t sessions = 0, tls_sessions = 0;  // inbound (MX) sessions
  std::uint64_t messages = 0, tls_messages = 0;  // inbound (MX) messages
};

struct PeerVolume {
  std::string domain;  // PSL-reduced organisation domain; "" when the peer was not identified
  std::uint64_t messages = 0, tls_messages = 0;
};

struct DowngradeEvent {
  std::string peer_domain, peer_source, signal, source;
  std::uint64_t count = 0;
  std::int64_t first_seen = 0, last_seen = 0;  // Unix seconds
};

// One month of one source's data.
struct MonthData {
  int year = 0;
  unsigned month = 0;
  std::string source;           // where it came from, for the report's heading (store path, URL)
  std::vector<DayCounts> days;  // any order; days not listed had no traffic
  std::map<Dist, Distribution> dists;
  std::map<Dist, std::string> unavailable;       // why a distribution is missing (the report says)
  std::optional<std::vector<PeerVolume>> peers;  // absent: the source has no per-domain data
  std::optional<std::vector<DowngradeEvent>> downgrades;  // absent: no per-peer events
};

// A table row: its key, this month's count and share of the denominator, last month's.
struct ShareRow {
  Key key;
  std::uint64_t count = 0;
  double share = 0;  // count / total (0 when total is 0)
  std::uint64_t previous_count = 0;
  std::optional<double> previous_share;  // absent: no previous total
};

struct ShareTable {
  Dist dist{};
  std::string id;                    // file-name spelling: "tls_versions"
  std::string title;                 // "TLS versions"
  std::string reference;             // "IMC 2015 Table 2", or ""
  std::vector<std::string> columns;  // the key's column names
  std::string denominator;
  std::uint64_t total = 0, previous_total = 0;
  std::vector<ShareRow> rows;  // by count, largest first; then by key
  bool available = false;      // false: the source cannot give it (note says why)
  std::string note;            // also set when every count is "unknown" (nothing recorded)
};

struct DailyRow {
  DayNumber day = 0;
  bool weekend = false;
  std::uint64_t sessions = 0, tls_sessions = 0, messages = 0, tls_messages = 0;
  std::optional<double> session_share, message_share;  // absent: no traffic that day
};

struct PeerRow {
  std::string domain;
  std::uint64_t messages = 0, tls_messages = 0;
  double share = 0;
  bool all_tls = false;
};

struct PeerTable {
  bool available = false;
  std::string note;
  std::size_t top_n = 0;
  std::size_t domains = 0;    // distinct identified peer domains this month
  std::vector<PeerRow> rows;  // the top N by messages
  std::size_t all_tls = 0;    // how many of the top N sent 100% over TLS
  std::size_t previous_all_tls = 0;
  std::size_t previous_rows = 0;  // how many rows last month's top N had
};

struct Totals {
  std::uint64_t sessions = 0, tls_sessions = 0, messages = 0, tls_messages = 0;
  std::optional<double> session_share, message_share;
};

struct Report {
  std::string month, previous_month;  // YYYY-MM
  std::string source;
  Totals totals, previous_totals;
  Totals weekdays, weekends;  // this month's totals split by the day's weekday (UTC)
  std::vector<DailyRow> daily, previous_daily;  // every day of each month
  std::vector<ShareTable> tables;               // in Dist order
  PeerTable peers;
  bool downgrade_events_available = false;
  std::vector<DowngradeEvent> downgrade_events;  // most sessions first

  // Nothing was recorded this month: no session, no message, no downgrade.
  bool empty() const;
};

struct ReportOptions {
  std::size_t top_n = 20;
};

// "YYYY-MM" → year and month; false unless it is one.
bool parseMonth(const std::string& text, int& year, unsigned& month);
std::string monthText(int year, unsigned month);
void previousMonth(int& year, unsigned& month);
// The first and last day of a month.
DayNumber firstDay(int year, unsigned month);
DayNumber lastDay(int year, unsigned month);
bool isWeekend(DayNumber day);
std::string dayText(DayNumber day);

Report buildReport(const MonthData& current, const MonthData& previous,
                   const ReportOptions& options);

}  // namespace mailsec::report
