// Unit tests of the monthly adoption report: each table's arithmetic (adoption_model), the
// store source over a real SQLite store, the Prometheus source over canned API answers, the
// renderers' escaping and numbers, and the --month command line.
#include <gtest/gtest.h>
#include <json/json.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "metrics/store/store.h"
#include "report/adoption_model.h"
#include "report/adoption_prometheus.h"
#include "report/adoption_render.h"
#include "report/adoption_store.h"
#include "report/report_cli.h"

namespace mailsec::report {
namespace {

// November 2026 (Sunday the 1st) and October 2026.
DayNumber nov(unsigned d) { return firstDay(2026, 11) + static_cast<DayNumber>(d) - 1; }
DayNumber oct(unsigned d) { return firstDay(2026, 10) + static_cast<DayNumber>(d) - 1; }

MonthData month(int year, unsigned m) {
  MonthData data;
  data.year = year;
  data.month = m;
  data.source = "test";
  return data;
}

const ShareTable& table(const Report& r, Dist d) {
  for (const auto& t : r.tables) {
    if (t.dist == d) return t;
  }
  throw std::runtime_error("no table");
}

TEST(AdoptionCalendar, MonthsDaysAndWeekends) {
  int y = 0;
  unsigned m = 0;
  ASSERT_TRUE(parseMonth("2026-11", y, m));
  EXPECT_EQ(y, 2026);
  EXPECT_EQ(m, 11u);
  for (const char* bad : {"2026-13", "2026-00", "2026-1", "26-11", "2026-11x", "2026/11", ""}) {
    EXPECT_FALSE(parseMonth(bad, y, m)) << bad;
  }
  y = 2026;
  m = 1;
  previousMonth(y, m);
  EXPECT_EQ(monthText(y, m), "2025-12");
  EXPECT_EQ(dayText(firstDay(2026, 11)), "2026-11-01");
  EXPECT_EQ(dayText(lastDay(2026, 11)), "2026-11-30");
  EXPECT_EQ(lastDay(2024, 2) - firstDay(2024, 2), 28);  // leap year: 29 days
  EXPECT_TRUE(isWeekend(nov(1)));                       // Sunday
  EXPECT_FALSE(isWeekend(nov(2)));                      // Monday
  EXPECT_TRUE(isWeekend(nov(7)));                       // Saturday
}

TEST(AdoptionModel, DailySharesMarkWeekendsAndSumToTotals) {
  auto cur = month(2026, 11);
  cur.days = {{nov(1), 10, 9, 8, 6}, {nov(2), 30, 15, 20, 10}, {nov(2), 10, 5, 0, 0}};
  auto prev = month(2026, 10);
  prev.days = {{oct(31), 4, 1, 4, 1}};
  const Report r = buildReport(cur, prev, {});
  EXPECT_EQ(r.month, "2026-11");
  EXPECT_EQ(r.previous_month, "2026-10");
  ASSERT_EQ(r.daily.size(), 30u);
  ASSERT_EQ(r.previous_daily.size(), 31u);
  EXPECT_TRUE(r.daily[0].weekend);
  EXPECT_DOUBLE_EQ(*r.daily[0].session_share, 0.9);
  EXPECT_DOUBLE_EQ(*r.daily[0].message_share, 0.75);
  // Two rows of one day are summed.
  EXPECT_EQ(r.daily[1].sessions, 40u);
  EXPECT_DOUBLE_EQ(*r.daily[1].session_share, 0.5);
  EXPECT_DOUBLE_EQ(*r.daily[1].message_share, 0.5);
  EXPECT_FALSE(r.daily[2].session_share);  // no traffic: no share, not 0%
  EXPECT_EQ(r.totals.sessions, 50u);
  EXPECT_EQ(r.totals.tls_sessions, 29u);
  EXPECT_DOUBLE_EQ(*r.totals.session_share, 29.0 / 50.0);
  EXPECT_DOUBLE_EQ(*r.totals.message_share, 16.0 / 28.0);
  EXPECT_DOUBLE_EQ(*r.previous_totals.session_share, 0.25);
  // Sunday the 1st against Monday the 2nd.
  EXPECT_EQ(r.weekends.sessions, 10u);
  EXPECT_DOUBLE_EQ(*r.weekends.session_share, 0.9);
  EXPECT_EQ(r.weekdays.sessions, 40u);
  EXPECT_DOUBLE_EQ(*r.weekdays.session_share, 0.5);
  EXPECT_DOUBLE_EQ(*r.weekdays.message_share, 0.5);
  EXPECT_FALSE(r.empty());
}

TEST(AdoptionModel, ShareTableAgainstPreviousMonth) {
  auto cur = month(2026, 11);
  cur.dists[Dist::kTlsVersions] = {{{{"TLSv1.3"}, 6}, {{"TLSv1.2"}, 2}}, "TLS sessions"};
  auto prev = month(2026, 10);
  prev.dists[Dist::kTlsVersions] = {{{{"TLSv1.2"}, 3}, {{"TLSv1"}, 1}}, "TLS sessions"};
  const Report r = buildReport(cur, prev, {});
  const auto& t = table(r, Dist::kTlsVersions);
  ASSERT_TRUE(t.available);
  EXPECT_EQ(t.id, "tls_versions");
  EXPECT_EQ(t.denominator, "TLS sessions");
  EXPECT_EQ(t.total, 8u);
  EXPECT_EQ(t.previous_total, 4u);
  ASSERT_EQ(t.rows.size(), 3u);  // TLSv1 vanished but is still listed
  EXPECT_EQ(t.rows[0].key, Key{"TLSv1.3"});
  EXPECT_DOUBLE_EQ(t.rows[0].share, 0.75);
  EXPECT_EQ(t.rows[0].previous_count, 0u);
  EXPECT_DOUBLE_EQ(*t.rows[0].previous_share, 0.0);
  EXPECT_EQ(t.rows[1].key, Key{"TLSv1.2"});
  EXPECT_DOUBLE_EQ(t.rows[1].share, 0.25);
  EXPECT_DOUBLE_EQ(*t.rows[1].previous_share, 0.75);
  EXPECT_EQ(t.rows[2].key, Key{"TLSv1"});
  EXPECT_EQ(t.rows[2].count, 0u);
  EXPECT_DOUBLE_EQ(*t.rows[2].previous_share, 0.25);
  EXPECT_EQ(delta(t.rows[1].share, t.rows[1].previous_share), "−50.0 pp");
}

TEST(AdoptionModel, EveryStudyTableHasItsReferenceAndColumns) {
  auto cur = month(2026, 11);
  cur.dists[Dist::kCipherSuites] = {
      {{{"TLSv1.2", "ECDHE", "AES-128-GCM", "AEAD", "true", "recommended"}, 3},
       {{"TLSv1.2", "RSA", "AES-256-GCM", "AEAD", "false", "secure"}, 1}},
      "TLS sessions"};
  cur.dists[Dist::kAuthMethods] = {{{{"dkim_and_spf"}, 5}, {{"spf_only"}, 3}, {{"none"}, 2}},
                                   "messages"};
  cur.dists[Dist::kSpfErrors] = {{{{"temperror", "dns_timeout"}, 1}}, "SPF temp/permerrors"};
  cur.dists[Dist::kDkimReasons] = {{{{"fail", "body_hash_mismatch"}, 2}}, "DKIM failures"};
  cur.dists[Dist::kDmarcPolicies] = {{{{"reject"}, 1}, {{"absent"}, 3}}, "DMARC evaluations"};
  const Report r = buildReport(cur, month(2026, 10), {});
  const auto& suites = table(r, Dist::kCipherSuites);
  EXPECT_EQ(suites.reference, "IMC 2015 Table 2");
  EXPECT_EQ(suites.columns.size(), 6u);
  EXPECT_DOUBLE_EQ(suites.rows[0].share, 0.75);
  EXPECT_FALSE(suites.rows[0].previous_share);  // nothing last month: no previous share
  const auto& methods = table(r, Dist::kAuthMethods);
  EXPECT_EQ(methods.reference, "IMC 2015 Table 18");
  EXPECT_EQ(methods.total, 10u);
  EXPECT_DOUBLE_EQ(methods.rows[0].share, 0.5);
  EXPECT_DOUBLE_EQ(methods.rows[1].share, 0.3);
  EXPECT_DOUBLE_EQ(methods.rows[2].share, 0.2);
  EXPECT_EQ(table(r, Dist::kSpfErrors).reference, "IMC 2015 Table 19");
  EXPECT_EQ(table(r, Dist::kDkimReasons).reference, "IMC 2015 Table 9");
  const auto& policies = table(r, Dist::kDmarcPolicies);
  EXPECT_EQ(policies.reference, "IMC 2015 Table 22");
  EXPECT_EQ(policies.rows[0].key, Key{"absent"});
  EXPECT_DOUBLE_EQ(policies.rows[0].share, 0.75);
  // A table the source does not have says so.
  const auto& dnssec = table(r, Dist::kDnssec);
  EXPECT_FALSE(dnssec.available);
  EXPECT_EQ(dnssec.note, "not available from this source (test)");
}

TEST(AdoptionModel, TopPeersAndHowManySendEverythingOverTls) {
  auto cur = month(2026, 11);
  cur.peers = std::vector<PeerVolume>{{"big.example", 100, 100},
                                      {"mid.example", 50, 49},
                                      {"small.example", 10, 10},
                                      {"tiny.example", 1, 0},
                                      {"", 500, 0},  // unidentified: no domain
                                      {"big.example", 20, 20}};
  auto prev = month(2026, 10);
  prev.peers = std::vector<PeerVolume>{{"big.example", 5, 4}, {"mid.example", 3, 3}};
  const Report r = buildReport(cur, prev, ReportOptions{3});
  const auto& p = r.peers;
  ASSERT_TRUE(p.available);
  EXPECT_EQ(p.domains, 4u);
  ASSERT_EQ(p.rows.size(), 3u);
  EXPECT_EQ(p.rows[0].domain, "big.example");
  EXPECT_EQ(p.rows[0].messages, 120u);
  EXPECT_TRUE(p.rows[0].all_tls);
  EXPECT_EQ(p.rows[1].domain, "mid.example");
  EXPECT_DOUBLE_EQ(p.rows[1].share, 0.98);
  EXPECT_FALSE(p.rows[1].all_tls);
  EXPECT_EQ(p.rows[2].domain, "small.example");
  EXPECT_EQ(p.all_tls, 2u);
  EXPECT_EQ(p.previous_rows, 2u);
  EXPECT_EQ(p.previous_all_tls, 1u);
  EXPECT_FALSE(buildReport(month(2026, 11), month(2026, 10), {}).peers.available);
}

TEST(AdoptionModel, DowngradeEventsMostFirstAndEmptyMonth) {
  auto cur = month(2026, 11);
  cur.downgrades = std::vector<DowngradeEvent>{
      {"a.example", "rdns", "starttls_masked", "milter", 1, 10, 20},
      {"b.example", "helo", "cleartext_from_tls_peer", "milter", 4, 5, 30}};
  const Report r = buildReport(cur, month(2026, 10), {});
  ASSERT_TRUE(r.downgrade_events_available);
  EXPECT_EQ(r.downgrade_events[0].peer_domain, "b.example");
  EXPECT_FALSE(r.empty());  // a downgrade alone is something to report
  EXPECT_TRUE(buildReport(month(2026, 11), month(2026, 10), {}).empty());
}

class AdoptionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mailsec-adoption-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "h.sqlite").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static metrics::store::SessionKey session(DayNumber day, const std::string& source,
                                            const std::string& port, bool tls,
                                            const std::string& version, const std::string& cls,
                                            const std::string& cert) {
    metrics::store::SessionKey k;
    k.day = day;
    k.source = source;
    k.port_class = port;
    k.peer_domain = "peer.example";
    k.peer_source = "rdns";
    k.tls = tls;
    k.tls_version = version;
    k.tls_class = cls;
    k.client_cert = cert;
    return k;
  }
  static metrics::store::MessageKey message(DayNumber day, const std::string& domain, bool tls,
                                            const std::string& method = "unknown") {
    metrics::store::MessageKey k;
    k.day = day;
    k.source = "milter";
    k.port_class = "mx";
    k.peer_domain = domain;
    k.peer_source = "rdns";
    k.tls = tls;
    k.auth_method = method;
    return k;
  }

  void seed() {
    std::optional<metrics::store::StoreError> error;
    auto store =
        metrics::store::Store::open(path_, metrics::store::Store::Mode::kReadWrite, 100, &error);
    ASSERT_FALSE(error);
    metrics::store::Batch b;
    b.sessions[session(nov(3), "milter", "mx", true, "TLSv1.3", "recommended", "none")] = 6;
    b.sessions[session(nov(3), "milter", "mx", true, "TLSv1.2", "secure", "verified")] = 2;
    b.sessions[session(nov(3), "milter", "mx", false, "none", "none", "none")] = 2;
    b.sessions[session(nov(3), "milter", "submission", true, "TLSv1.3", "recommended",
                       "none")] = 50;                                                 // not inbound
    b.sessions[session(nov(3), "policyd", "mx", false, "none", "none", "none")] = 7;  // other
    b.sessions[session(oct(30), "milter", "mx", false, "none", "none", "none")] = 4;  // previous
    b.sessions[session(firstDay(2026, 12), "milter", "mx", false, "none", "none", "none")] = 99;
    b.messages[message(nov(3), "peer.example", true, "dkim_and_spf")] = 5;
    b.messages[message(nov(3), "peer.example", false, "none")] = 1;
    b.messages[message(nov(4), "other.example", true, "spf_only")] = 2;
    b.downgrades[{nov(4), "peer.example", "rdns", "cleartext_from_tls_peer", "milter"}] = {1, 100,
                                                                                           200};
    ASSERT_FALSE(store.write(b));
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(AdoptionStoreTest, StoreRowsBecomeTheMonthsTables) {
  seed();
  MonthData cur = month(2026, 11), prev = month(2026, 10);
  std::string source, error;
  ASSERT_TRUE(loadStoreMonths(path_, source, cur, prev, error)) << error;
  EXPECT_EQ(source, "milter");  // 10 inbound sessions against policyd's 7
  const Report r = buildReport(cur, prev, {});
  EXPECT_EQ(r.totals.sessions, 10u);
  EXPECT_EQ(r.totals.tls_sessions, 8u);
  EXPECT_EQ(r.totals.messages, 8u);
  EXPECT_EQ(r.totals.tls_messages, 7u);
  EXPECT_EQ(r.daily[2].sessions, 10u);  // 2026-11-03
  EXPECT_DOUBLE_EQ(*r.daily[2].session_share, 0.8);
  EXPECT_EQ(r.previous_totals.sessions, 4u);
  EXPECT_DOUBLE_EQ(*r.previous_totals.session_share, 0.0);
  const auto& versions = table(r, Dist::kTlsVersions);
  EXPECT_EQ(versions.denominator, "TLS sessions on MX ports");
  EXPECT_EQ(versions.total, 8u);
  EXPECT_EQ(versions.rows[0].key, Key{"TLSv1.3"});
  EXPECT_EQ(versions.rows[0].count, 6u);
  const auto& certs = table(r, Dist::kClientCerts);
  EXPECT_EQ(certs.rows[1].key, Key{"verified"});
  EXPECT_DOUBLE_EQ(certs.rows[1].share, 0.25);
  const auto& methods = table(r, Dist::kAuthMethods);
  EXPECT_EQ(methods.total, 8u);
  EXPECT_EQ(methods.rows[0].key, Key{"dkim_and_spf"});
  EXPECT_DOUBLE_EQ(methods.rows[0].share, 5.0 / 8.0);
  EXPECT_FALSE(table(r, Dist::kCipherSuites).available);
  EXPECT_NE(table(r, Dist::kCipherSuites).note.find("--prometheus"), std::string::npos);
  // Nothing fed the SPF column: one "unknown" row, and a note that says so.
  const auto& spf = table(r, Dist::kSpfResults);
  ASSERT_EQ(spf.rows.size(), 1u);
  EXPECT_EQ(spf.rows[0].key, Key{"unknown"});
  EXPECT_EQ(spf.rows[0].count, 8u);
  EXPECT_EQ(spf.note.rfind("every one is unknown", 0), 0u);
  EXPECT_TRUE(methods.note.empty());
  ASSERT_EQ(r.peers.rows.size(), 2u);
  EXPECT_EQ(r.peers.rows[0].domain, "peer.example");
  EXPECT_EQ(r.peers.rows[0].messages, 6u);
  EXPECT_EQ(r.peers.all_tls, 1u);  // other.example
  ASSERT_EQ(r.downgrade_events.size(), 1u);
  EXPECT_EQ(table(r, Dist::kDowngradeSignals).total, 1u);

  std::string policyd = "policyd";
  MonthData cur2 = month(2026, 11), prev2 = month(2026, 10);
  ASSERT_TRUE(loadStoreMonths(path_, policyd, cur2, prev2, error));
  EXPECT_EQ(buildReport(cur2, prev2, {}).totals.sessions, 7u);
}

TEST_F(AdoptionStoreTest, MissingOrForeignStoreIsAnError) {
  MonthData cur = month(2026, 11), prev = month(2026, 10);
  std::string source, error;
  EXPECT_FALSE(loadStoreMonths((dir_ / "nope.sqlite").string(), source, cur, prev, error));
  EXPECT_NE(error.find("nope.sqlite"), std::string::npos);
  std::ofstream(dir_ / "junk.sqlite") << "this is not a database, just some text that is long "
                                         "enough to be mistaken for nothing";
  error.clear();
  EXPECT_FALSE(loadStoreMonths((dir_ / "junk.sqlite").string(), source, cur, prev, error));
  EXPECT_FALSE(error.empty());
}

TEST_F(AdoptionStoreTest, CommandWritesEveryFormatOrFailsClearly) {
  seed();
  std::ostringstream out, err;
  const auto now = [] { return std::int64_t{0}; };
  const std::vector<std::string> args = {"--month", "2026-11", "--store",
                                         path_,     "--out",   dir_.string()};
  ASSERT_EQ(runReport(args, out, err, now), 0) << err.str();
  for (const char* f :
       {"mailsec-adoption-2026-11.html", "mailsec-adoption-2026-11.md",
        "mailsec-adoption-2026-11.json", "mailsec-adoption-2026-11-daily.csv",
        "mailsec-adoption-2026-11-tls_versions.csv", "mailsec-adoption-2026-11-peers.csv"}) {
    EXPECT_TRUE(std::filesystem::exists(dir_ / f)) << f;
    EXPECT_NE(out.str().find(f), std::string::npos) << f;
  }
  std::ifstream json(dir_ / "mailsec-adoption-2026-11.json");
  Json::Value root;
  json >> root;
  EXPECT_EQ(root["totals"]["sessions"].asUInt64(), 10u);
  EXPECT_EQ(root["tables"]["tls_versions"]["rows"][0]["count"].asUInt64(), 6u);
  EXPECT_FALSE(root["tables"]["cipher_suites"]["available"].asBool());

  // An empty month: a message and exit 1, no file.
  std::ostringstream out2, err2;
  const auto empty_dir = dir_ / "empty";
  const std::vector<std::string> empty = {"--month", "2026-08", "--store",
                                          path_,     "--out",   empty_dir.string()};
  EXPECT_EQ(runReport(empty, out2, err2, now), 1);
  EXPECT_NE(err2.str().find("no traffic recorded for 2026-08"), std::string::npos) << err2.str();
  EXPECT_FALSE(std::filesystem::exists(empty_dir));

  // --month last: the month before the clock's (2026-12-01 → 2026-11).
  std::ostringstream out4, err4;
  const auto december = [] { return std::int64_t{firstDay(2026, 12)} * 86400 + 60; };
  const auto last_dir = dir_ / "last";
  ASSERT_EQ(runReport(std::vector<std::string>{"--month", "last", "--store", path_, "--out",
                                               last_dir.string(), "--format", "json"},
                      out4, err4, december),
            0)
      << err4.str();
  EXPECT_EQ(out4.str(), (last_dir / "mailsec-adoption-2026-11.json").string() + "\n");

  std::ostringstream out3, err3;
  EXPECT_EQ(runReport(std::vector<std::string>{"--month", "2026-11", "--store",
                                               (dir_ / "missing.sqlite").string()},
                      out3, err3, now),
            1);
  EXPECT_NE(err3.str().find("does not exist"), std::string::npos);
  for (const auto& bad : std::vector<std::vector<std::string>>{
           {"--month", "2026-13", "--store", path_},
           {"--month", "2026-11", "--format", "pdf", "--store", path_},
           {"--month", "2026-11", "--top", "0", "--store", path_},
           {"--month", "2026-11", "--store", path_, "--prometheus", "http://x"},
           {"--downgrades", "--month", "2026-11", "--store", path_},
           {"--downgrades", "--out", "x", "--store", path_}}) {
    std::ostringstream o, e;
    EXPECT_EQ(runReport(bad, o, e, now), 2) << bad[1] << ' ' << bad[2];
  }
}

// --- Prometheus source over canned answers ----------------------------------------------------

std::string vectorAnswer(const std::string& label,
                         const std::vector<std::pair<std::string, std::string>>& rows) {
  std::string s = R"({"status":"success","data":{"resultType":"vector","result":[)";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i != 0) s += ',';
    s += R"({"metric":{")" + label + R"(":")" + rows[i].first + R"("},"value":[1,")" +
         rows[i].second + R"("]})";
  }
  return s + "]}}";
}

TEST(AdoptionPrometheus, QueriesBecomeTablesAndErrorsAreReported) {
  std::vector<std::string> asked;
  const std::int64_t now = (static_cast<std::int64_t>(nov(3)) * 86400) + 3600;
  PrometheusSource::Fetch fetch = [&](const std::string& path, std::string& body,
                                      std::string& error) {
    asked.push_back(path);
    if (path.find(urlEncode("by (tls)")) != std::string::npos &&
        path.find("mailsec_sessions_total") != std::string::npos) {
      body = vectorAnswer("tls", {{"true", "9.0000001"}, {"false", "1"}});
    } else if (path.find(urlEncode("by (version)")) != std::string::npos) {
      body = vectorAnswer("version", {{"TLSv1.3", "7"}, {"TLSv1.2", "2"}, {"TLSv1", "0"}});
    } else if (path.find(urlEncode("by (source)")) != std::string::npos) {
      body = vectorAnswer("source", {{"policyd", "3"}, {"milter", "11"}});
    } else if (path.find("broken") != std::string::npos) {
      error = "cannot reach Prometheus at http://p: Connection refused";
      return false;
    } else {
      body = vectorAnswer("x", {});
    }
    return true;
  };
  PrometheusSource prom("http://p", fetch, [&] { return now; });
  MonthData cur = month(2026, 11), prev = month(2026, 10);
  std::string source, error;
  ASSERT_TRUE(prom.load(source, cur, prev, error)) << error;
  EXPECT_EQ(source, "milter");
  const Report r = buildReport(cur, prev, {});
  // Three days of November have begun: each has 10 sessions, 9 over TLS.
  EXPECT_EQ(r.totals.sessions, 30u);
  EXPECT_EQ(r.totals.tls_sessions, 27u);
  EXPECT_EQ(r.daily[3].sessions, 0u);  // the future is not asked for
  const auto& versions = table(r, Dist::kTlsVersions);
  EXPECT_EQ(versions.total, 9u);
  EXPECT_EQ(versions.rows.size(), 2u);  // zero counts are no rows
  EXPECT_EQ(versions.denominator, "TLS sessions (all ports)");
  EXPECT_TRUE(table(r, Dist::kCipherSuites).available);
  EXPECT_FALSE(r.peers.available);
  EXPECT_FALSE(r.downgrade_events_available);
  // The month's totals are asked at "now", over the month so far.
  const std::string month_range = urlEncode("[" + std::to_string(now - nov(1) * 86400LL) + "s]");
  bool asked_month = false;
  for (const auto& a : asked) asked_month |= a.find(month_range) != std::string::npos;
  EXPECT_TRUE(asked_month);

  PrometheusSource down(
      "http://broken",
      [](const std::string&, std::string&, std::string& e) {
        e = "cannot reach Prometheus at http://broken: Connection refused";
        return false;
      },
      [&] { return now; });
  MonthData c2 = month(2026, 11), p2 = month(2026, 10);
  std::string s2;
  EXPECT_FALSE(down.load(s2, c2, p2, error));
  EXPECT_EQ(error, "cannot reach Prometheus at http://broken: Connection refused");

  PrometheusSource failing(
      "http://p",
      [](const std::string&, std::string& body, std::string&) {
        body = R"({"status":"error","errorType":"bad_data","error":"parse error"})";
        return true;
      },
      [&] { return now; });
  MonthData c3 = month(2026, 11), p3 = month(2026, 10);
  std::string s3 = "milter";
  EXPECT_FALSE(failing.load(s3, c3, p3, error));
  EXPECT_EQ(error, "Prometheus query failed: parse error");

  PrometheusSource garbage(
      "http://p",
      [](const std::string&, std::string& body, std::string&) {
        body = "<html>not prometheus</html>";
        return true;
      },
      [&] { return now; });
  EXPECT_FALSE(garbage.load(s3, c3, p3, error));
  EXPECT_EQ(error, "Prometheus answered something that is not JSON");
}

TEST(AdoptionPrometheus, UnreachableUrlThroughLibcurl) {
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  PrometheusSource prom("http://127.0.0.1:1", 5);
  MonthData cur = month(2026, 11), prev = month(2026, 10);
  std::string source, error;
  EXPECT_FALSE(prom.load(source, cur, prev, error));
  EXPECT_EQ(error.rfind("cannot reach Prometheus at http://127.0.0.1:1: ", 0), 0u) << error;
}

// --- renderers ---------------------------------------------------------------------------------

TEST(AdoptionRender, NumbersAndEscaping) {
  EXPECT_EQ(percent(0.875), "87.5%");
  EXPECT_EQ(percent(std::nullopt), "—");
  EXPECT_EQ(delta(0.5, 0.25), "+25.0 pp");
  EXPECT_EQ(delta(0.5, std::nullopt), "");
  EXPECT_EQ(delta(0.5, 0.5), "±0.0 pp");
  EXPECT_EQ(csvField("a,b"), "\"a,b\"");
  EXPECT_EQ(csvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csvField("=cmd()"), "'=cmd()");
  EXPECT_EQ(htmlEscape("<b a=\"x\">&'"), "&lt;b a=&quot;x&quot;&gt;&amp;&#39;");

  auto cur = month(2026, 11);
  cur.days = {{nov(2), 4, 3, 4, 3}};
  cur.peers = std::vector<PeerVolume>{{"<script>x</script>.example", 4, 3}};
  cur.dists[Dist::kPaths] = {{{{"all_tls"}, 3}, {{"cleartext_hop"}, 1}}, "messages | all"};
  const Report r = buildReport(cur, month(2026, 10), {});
  const std::string html = renderHtml(r);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;x&lt;/script&gt;.example"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // no asset
  EXPECT_NE(html.find("@media print"), std::string::npos);
  EXPECT_NE(html.find("Denominator: messages | all — 4 in 2026-11"), std::string::npos);
  EXPECT_NE(html.find(">75.0%<"), std::string::npos);
  const std::string md = renderMarkdown(r);
  EXPECT_NE(md.find("| Inbound sessions over TLS | 75.0% (3 of 4) |"), std::string::npos);
  EXPECT_NE(md.find("| Inbound sessions over TLS, weekdays | 75.0% (3 of 4) |"), std::string::npos);
  EXPECT_NE(md.find("| Inbound sessions over TLS, weekends | — (0 of 0) |"), std::string::npos);
  EXPECT_NE(md.find("| all\\_tls | 3 | 75.0% |"), std::string::npos);
  const auto csv = renderCsv(r);
  ASSERT_TRUE(csv.contains("received_paths.csv"));
  EXPECT_EQ(csv.at("received_paths.csv"),
            "path,count,share,previous_count,previous_share,total,previous_total,denominator\r\n"
            "all_tls,3,0.750000,0,,4,0,messages | all\r\n"
            "cleartext_hop,1,0.250000,0,,4,0,messages | all\r\n");
  EXPECT_NE(csv.at("daily.csv").find("2026-11-02,false,4,3,0.750000,4,3,0.750000\r\n"),
            std::string::npos);
  EXPECT_NE(csv.at("daily.csv").find("2026-11-01,true,0,0,,0,0,\r\n"), std::string::npos);
  Json::Value root;
  std::istringstream in(renderJson(r));
  in >> root;
  EXPECT_DOUBLE_EQ(root["tables"]["received_paths"]["rows"][0]["share"].asDouble(), 0.75);
  EXPECT_TRUE(root["tables"]["received_paths"]["rows"][0]["previous_share"].isNull());
  EXPECT_EQ(root["peers"]["rows"][0]["domain"].asString(), "<script>x</script>.example");
  EXPECT_EQ(root["daily"].size(), 30u);
}

}  // namespace
}  // namespace mailsec::report
