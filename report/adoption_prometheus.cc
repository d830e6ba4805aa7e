#include "report/adoption_prometheus.h"

#include <curl/curl.h>
#include <json/json.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <memory>
#include <sstream>

namespace mailsec::report {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::size_t kMaxBody = 16 * 1024 * 1024;

size_t collect(char* data, size_t size, size_t n, void* user) {
  auto* body = static_cast<std::string*>(user);
  if (body->size() + size * n > kMaxBody) return 0;  // aborts the transfer
  body->append(data, size * n);
  return size * n;
}

PrometheusSource::Fetch curlFetch(const std::string& base, int timeout_s) {
  return [base, timeout_s](const std::string& path, std::string& body, std::string& error) {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
    if (!curl) {
      error = "cannot initialise libcurl";
      return false;
    }
    const std::string url = base + path;
    char message[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, static_cast<long>(timeout_s));
    curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &collect);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, message);
    const CURLcode rc = curl_easy_perform(curl.get());
    if (rc != CURLE_OK) {
      error = "cannot reach Prometheus at " + base + ": " +
              (message[0] != '\0' ? std::string(message) : curl_easy_strerror(rc));
      return false;
    }
    long status = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
      error = "Prometheus at " + base + " answered HTTP " + std::to_string(status) + " to " +
              path.substr(0, path.find('?'));
      return false;
    }
    return true;
  };
}

std::int64_t systemNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The "data.result" array of a successful API answer.
bool apiResult(const std::string& body, Json::Value& result, std::string& error) {
  Json::CharReaderBuilder builder;
  Json::Value root;
  std::string parse_error;
  std::istringstream in(body);
  if (!Json::parseFromStream(builder, in, &root, &parse_error) || !root.isObject()) {
    error = "Prometheus answered something that is not JSON";
    return false;
  }
  if (root["status"].asString() != "success") {
    error = "Prometheus query failed: " + root["error"].asString();
    return false;
  }
  result = root["data"]["result"];
  if (!result.isArray()) {
    error = "Prometheus answer has no result";
    return false;
  }
  return true;
}

std::uint64_t counted(const Json::Value& sample) {
  if (!sample.isArray() || sample.size() != 2 || !sample[1].isString()) return 0;
  const double v = std::strtod(sample[1].asCString(), nullptr);
  if (!std::isfinite(v) || v <= 0) return 0;
  return static_cast<std::uint64_t>(std::llround(v));
}

std::string sel(const std::string& source, const std::string& extra = "") {
  std::string s = "{";
  if (!source.empty()) s += "source=\"" + source + "\"";
  if (!extra.empty()) s += (source.empty() ? "" : ",") + extra;
  return s + "}";
}

// What a counter counted in the `seconds` before the evaluation time, summed by `by`.
// increase() alone misses what a series held at its first sample, so a series born inside the
// window (a label combination first seen then, a daemon started then) adds that first value.
std::string windowCount(const std::string& by, const std::string& selector, std::int64_t seconds) {
  const std::string d = std::to_string(seconds) + "s";
  const std::string increase = "increase(" + selector + "[" + d + "])";
  return "sum by (" + by + ") (" + increase + " + (min_over_time(" + selector + "[" + d +
         "]) unless " + selector + " offset " + d + ") or " + increase + ")";
}

}  // namespace

std::string urlEncode(const std::string& text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

PrometheusSource::PrometheusSource(std::string base_url, int timeout_s)
    : base_(std::move(base_url)), fetch_(), clock_(&systemNow) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
  fetch_ = curlFetch(base_, timeout_s);
}

PrometheusSource::PrometheusSource(std::string base_url, Fetch fetch, Clock clock)
    : base_(std::move(base_url)), fetch_(std::move(fetch)), clock_(std::move(clock)) {}

bool PrometheusSource::instant(const std::string& expr, std::int64_t at,
                               const std::vector<std::string>& by, Counts& out,
                               std::string& error) {
  std::string body;
  if (!fetch_("/api/v1/query?query=" + urlEncode(expr) + "&time=" + std::to_string(at), body,
              error)) {
    return false;
  }
  Json::Value result;
  if (!apiResult(body, result, error)) return false;
  for (const auto& series : result) {
    const std::uint64_t n = counted(series["value"]);
    if (n == 0) continue;
    Key key;
    for (const auto& label : by) key.push_back(series["metric"][label].asString());
    out[key] += n;
  }
  return true;
}

bool PrometheusSource::month(const std::string& source, MonthData& data, std::string& error) {
  const std::int64_t start = static_cast<std::int64_t>(firstDay(data.year, data.month)) * kDay;
  const std::int64_t end =
      std::min<std::int64_t>((lastDay(data.year, data.month) + 1) * kDay, clock_());
  data.source = "Prometheus " + base_ + ", source " + source + ", summed over every instance";
  if (end <= start) return true;  // a month that has not begun: nothing

  // Daily inbound shares: one instant query per day and family (increase over that day).
  for (DayNumber day = firstDay(data.year, data.month); day <= lastDay(data.year, data.month);
       ++day) {
    const std::int64_t day_end = (static_cast<std::int64_t>(day) + 1) * kDay;
    if (day_end > end + kDay) break;
    const std::int64_t at = std::min(day_end, end);
    DayCounts d;
    d.day = day;
    for (const bool sessions : {true, false}) {
      Counts c;
      const std::string family = sessions ? "mailsec_sessions_total" : "mailsec_messages_total";
      if (!instant(windowCount("tls", family + sel(source, "port_class=\"mx\""),
                               at - static_cast<std::int64_t>(day) * kDay),
                   at, {"tls"}, c, error)) {
        return false;
      }
      const std::uint64_t tls = c[{"true"}];
      const std::uint64_t all = tls + c[{"false"}];
      (sessions ? d.sessions : d.messages) = all;
      (sessions ? d.tls_sessions : d.tls_messages) = tls;
    }
    if (d.sessions != 0 || d.messages != 0) data.days.push_back(d);
  }

  struct Query {
    Dist dist;
    std::string family, extra;
    std::vector<std::string> by;
    std::string denominator;
    bool by_source;  // the family has a source label
  };
  const std::vector<Query> queries = {
      {Dist::kTlsVersions,
       "mailsec_tls_sessions_total",
       "",
       {"version"},
       "TLS sessions (all ports)",
       true},
      {Dist::kCipherSuites,
       "mailsec_tls_sessions_total",
       "",
       {"version", "kex", "cipher", "mac", "pfs", "class"},
       "TLS sessions (all ports)",
       true},
      {Dist::kCipherClasses,
       "mailsec_tls_sessions_total",
       "",
       {"class"},
       "TLS sessions (all ports)",
       true},
      {Dist::kClientCerts,
       "mailsec_client_certificates_total",
       "",
       {"verified"},
       "sessions in which the client presented a certificate (all ports); true: verified",
       true},
      {Dist::kAuthMethods,
       "mailsec_auth_methods_total",
       "",
       {"method"},
       "messages verified (all ports)",
       false},
      {Dist::kSpfResults, "mailsec_spf_results_total", "", {"result"}, "SPF checks", false},
      {Dist::kSpfErrors,
       "mailsec_spf_results_total",
       "result=~\"temperror|permerror\"",
       {"result", "error"},
       "SPF checks that ended in temperror or permerror",
       false},
      {Dist::kDkimResults,
       "mailsec_dkim_signatures_total",
       "",
       {"result"},
       "DKIM signatures examined",
       false},
      {Dist::kDkimReasons,
       "mailsec_dkim_signatures_total",
       "result!=\"pass\"",
       {"result", "reason"},
       "DKIM signatures that did not verify",
       false},
      {Dist::kDmarcResults,
       "mailsec_dmarc_results_total",
       "",
       {"result"},
       "DMARC evaluations of From domains",
       false},
      {Dist::kDmarcPolicies,
       "mailsec_dmarc_results_total",
       "",
       {"policy"},
       "DMARC evaluations of From domains",
       false},
      {Dist::kDnssec,
       "mailsec_auth_records_total",
       "",
       {"record", "dnssec"},
       "DNS records fetched for verification",
       false},
      {Dist::kPaths,
       "mailsec_message_paths_total",
       "",
       {"path"},
       "messages whose Received chain was read (all ports)",
       false},
      {Dist::kDowngradeSignals,
       "mailsec_downgrade_suspected_total",
       "",
       {"signal"},
       "suspected downgrade sessions (all ports)",
       true},
  };
  for (const auto& q : queries) {
    std::string by;
    for (const auto& b : q.by) by += (by.empty() ? "" : ", ") + b;
    auto& dist = data.dists[q.dist];
    dist.denominator = q.denominator;
    if (!instant(windowCount(by, q.family + sel(q.by_source ? source : "", q.extra), end - start),
                 end, q.by, dist.counts, error)) {
      return false;
    }
  }
  return true;
}

bool PrometheusSource::load(std::string& source, MonthData& current, MonthData& previous,
                            std::string& error) {
  if (source.empty()) {
    Counts by_source;
    const std::int64_t start =
        static_cast<std::int64_t>(firstDay(current.year, current.month)) * kDay;
    const std::int64_t end =
        std::min<std::int64_t>((lastDay(current.year, current.month) + 1) * kDay, clock_());
    if (end > start &&
        !instant(windowCount("source", "mailsec_sessions_total{port_class=\"mx\"}", end - start),
                 end, {"source"}, by_source, error)) {
      return false;
    }
    source = "milter";
    std::uint64_t most = 0;
    for (const auto& [key, n] : by_source) {
      if (n > most && (key[0] == "milter" || key[0] == "policyd")) {
        most = n;
        source = key[0];
      }
    }
  }
  return month(source, current, error) && month(source, previous, error);
}

}  // namespace mailsec::report
