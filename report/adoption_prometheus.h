// adoption_prometheus.h — the monthly report's data from a Prometheus that scrapes a fleet of
// MTAs: each table is one PromQL query over mailsec's families (docs/metrics.md), summed over
// every instance, evaluated at the month's end (or now, for the running month); the daily
// STARTTLS share is one query per day. A window's count is increase() plus the first value of
// series born inside the window (increase() alone misses it). Prometheus keeps no per-domain
// counts and no per-peer events, so those tables say so. Counts are as exact as Prometheus's
// extrapolation (rounded to whole sessions) and its retention allow.
//
// Input: the operator's URL (plain http://); Prometheus's answers are untrusted JSON: parsed
// with jsoncpp, anything unexpected is an error, label values are kept as data. Thread-safety:
// one object per thread. Errors: load() returns false with a message (unreachable, HTTP
// error, an answer that is not a Prometheus API success, an instant vector missing).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "report/adoption_model.h"

namespace mailsec::report {

class PrometheusSource {
 public:
  // GET path+query (after the base URL) → body; false and `error` on failure. Tests inject it.
  using Fetch =
      std::function<bool(const std::string& path_and_query, std::string& body, std::string& error)>;
  using Clock = std::function<std::int64_t()>;  // Unix seconds

  PrometheusSource(std::string base_url, int timeout_s);
  PrometheusSource(std::string base_url, Fetch fetch, Clock clock);

  // Fills `current` and `previous` (year and month set); `source` empty: the busiest front-end.
  bool load(std::string& source, MonthData& current, MonthData& previous, std::string& error);

 private:
  bool instant(const std::string& expr, std::int64_t at, const std::vector<std::string>& by,
               Counts& out, std::string& error);
  bool month(const std::string& source, MonthData& data, std::string& error);

  std::string base_;
  Fetch fetch_;
  Clock clock_;
};

// The query-string encoding of a PromQL expression.
std::string urlEncode(const std::string& text);

}  // namespace mailsec::report
