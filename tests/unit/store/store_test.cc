#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include "core/peer/peer_analyser.h"
#include "metrics/store/store.h"
#include "metrics/store/store_recorder.h"
#include "metrics/store/store_writer.h"

namespace mailsec::metrics::store {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr Day kToday = 20000;  // 2024-10-04
constexpr std::int64_t kNow = kToday * kDay + 12 * 3600;

class CountingHealth final : public StoreHealth {
 public:
  void flushed() override { ++flushes; }
  void failed(StoreErrorKind kind, std::uint64_t count) override {
    std::lock_guard lock(mutex);
    errors[kind] += count;
  }
  std::uint64_t errorsOf(StoreErrorKind kind) {
    std::lock_guard lock(mutex);
    return errors[kind];
  }
  std::atomic<int> flushes{0};
  std::mutex mutex;
  std::map<StoreErrorKind, std::uint64_t> errors;
};

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mailsec-store-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "history.sqlite").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  WriterOptions options() const {
    WriterOptions o;
    o.path = path_;
    o.flush_interval = std::chrono::milliseconds(50);
    o.busy_timeout_ms = 100;
    return o;
  }

  static StoreEvent session(const std::string& domain, bool tls, Day day = kToday) {
    StoreEvent e;
    e.kind = StoreEvent::Kind::kSession;
    e.session.day = day;
    e.session.source = "milter";
    e.session.port_class = "mx";
    e.session.peer_domain = domain;
    e.session.peer_source = "rdns";
    e.session.tls = tls;
    e.session.tls_version = tls ? "TLSv1.3" : "none";
    e.session.tls_class = tls ? "recommended" : "none";
    e.session.client_cert = "none";
    return e;
  }

  // Sums sessions for a domain across all rows (what a report would do).
  std::uint64_t sessionsOf(const std::string& domain) {
    std::optional<StoreError> error;
    Store s = Store::open(path_, Store::Mode::kReadOnly, 1000, &error);
    EXPECT_FALSE(error) << error->message;
    std::vector<HistoryRow> rows;
    EXPECT_FALSE(s.history("milter", kToday - 1000, rows));
    std::uint64_t n = 0;
    for (const auto& r : rows) {
      if (r.peer_domain == domain) n += r.sessions;
    }
    return n;
  }

  std::filesystem::path dir_;
  std::string path_;
  CountingHealth health_;
  std::function<std::int64_t()> clock_ = [] { return kNow; };
};

TEST(StoreDays, TextRoundTrip) {
  EXPECT_EQ(dayText(0), "1970-01-01");
  EXPECT_EQ(dayText(kToday), "2024-10-04");
  Day d = 0;
  ASSERT_TRUE(parseDay("2024-10-04", d));
  EXPECT_EQ(d, kToday);
  EXPECT_FALSE(parseDay("2024-02-30", d));
  EXPECT_FALSE(parseDay("2024-10-4", d));
  EXPECT_FALSE(parseDay("2024-10-04x", d));
}

TEST(StoreErrors, SqliteCodesByKind) {
  EXPECT_EQ(classifySqliteError(SQLITE_BUSY), StoreErrorKind::kLocked);
  EXPECT_EQ(classifySqliteError(SQLITE_LOCKED), StoreErrorKind::kLocked);
  EXPECT_EQ(classifySqliteError(SQLITE_READONLY_DBMOVED), StoreErrorKind::kReadonly);
  EXPECT_EQ(classifySqliteError(SQLITE_FULL), StoreErrorKind::kFull);
  EXPECT_EQ(classifySqliteError(SQLITE_CORRUPT), StoreErrorKind::kCorrupt);
  EXPECT_EQ(classifySqliteError(SQLITE_NOTADB), StoreErrorKind::kCorrupt);
  EXPECT_EQ(classifySqliteError(SQLITE_IOERR_WRITE), StoreErrorKind::kIo);
  EXPECT_EQ(classifySqliteError(SQLITE_CANTOPEN), StoreErrorKind::kOpen);
  EXPECT_EQ(classifySqliteError(SQLITE_MISMATCH), StoreErrorKind::kOther);
}

TEST_F(StoreTest, FlushesAddUpAcrossWritersAndRestarts) {
  {
    StoreWriter w(options(), health_, clock_);
    ASSERT_FALSE(w.open());
    for (int i = 0; i < 5; ++i) w.enqueue(session("example.com", true));
    w.enqueue(session("example.com", false));
    w.flushNow();
    // A second process on the same file (the policyd next to the milter).
    StoreWriter other(options(), health_, clock_);
    ASSERT_FALSE(other.open());
    other.enqueue(session("example.com", true));
    other.flushNow();
    w.enqueue(session("example.com", true));
  }  // stop() flushes what is queued
  EXPECT_EQ(sessionsOf("example.com"), 8u);
  {
    StoreWriter w(options(), health_, clock_);
    ASSERT_FALSE(w.open());
    std::vector<HistoryRow> rows;
    ASSERT_FALSE(w.history("milter", kToday - 30, rows));
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].sessions, 8u);
    EXPECT_EQ(rows[0].tls_sessions, 7u);
    EXPECT_EQ(rows[0].day, kToday);
    EXPECT_EQ(rows[0].peer_source, "rdns");
  }
  EXPECT_EQ(health_.errors.size(), 0u);
  EXPECT_GE(health_.flushes.load(), 3);
}

TEST_F(StoreTest, WriterThreadFlushesEveryInterval) {
  StoreWriter w(options(), health_, clock_);
  ASSERT_FALSE(w.open());
  w.start();
  w.enqueue(session("example.org", true));
  for (int i = 0; i < 100 && health_.flushes.load() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(sessionsOf("example.org"), 1u) << "flushed without a stop";
  w.stop();
}

TEST_F(StoreTest, FullQueueDropsAndCounts) {
  auto o = options();
  o.queue_capacity = 3;
  StoreWriter w(o, health_, clock_);
  ASSERT_FALSE(w.open());
  for (int i = 0; i < 5; ++i) w.enqueue(session("example.com", true));
  w.flushNow();
  EXPECT_EQ(health_.errorsOf(StoreErrorKind::kQueueFull), 2u);
  EXPECT_EQ(sessionsOf("example.com"), 3u);
}

TEST_F(StoreTest, LockedStoreIsRetriedWithoutLoss) {
  StoreWriter w(options(), health_, clock_);
  ASSERT_FALSE(w.open());
  sqlite3* locker = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &locker), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(locker, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  w.enqueue(session("example.com", true));
  w.flushNow();
  EXPECT_EQ(health_.errorsOf(StoreErrorKind::kLocked), 1u);
  EXPECT_EQ(health_.flushes.load(), 0);
  ASSERT_EQ(sqlite3_exec(locker, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(locker);
  w.enqueue(session("example.com", true));
  w.flushNow();
  EXPECT_EQ(health_.flushes.load(), 1);
  EXPECT_EQ(sessionsOf("example.com"), 2u) << "the failed batch was kept and retried";
}

TEST_F(StoreTest, CorruptStoreIsReportedAndReplacedFileIsUsed) {
  {
    std::ofstream garbage(path_, std::ios::binary);
    garbage << std::string(8192, 'x');
  }
  StoreWriter w(options(), health_, clock_);
  const auto error = w.open();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind, StoreErrorKind::kCorrupt) << error->message;
  EXPECT_NE(error->message.find(path_), std::string::npos) << error->message;
  w.enqueue(session("example.com", true));
  w.flushNow();
  EXPECT_EQ(health_.errorsOf(StoreErrorKind::kCorrupt), 2u) << "reported at every retry";
  // The operator moves the damaged file away; the next flush creates a new one.
  std::filesystem::remove(path_);
  w.enqueue(session("example.com", true));
  w.flushNow();
  EXPECT_EQ(sessionsOf("example.com"), 2u);
}

TEST_F(StoreTest, UnopenablePathIsReported) {
  auto o = options();
  o.path = (dir_ / "missing-dir" / "history.sqlite").string();
  StoreWriter w(o, health_, clock_);
  const auto error = w.open();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind, StoreErrorKind::kOpen) << error->message;
}

TEST_F(StoreTest, PendingRowsAreBounded) {
  auto o = options();
  o.path = (dir_ / "missing-dir" / "history.sqlite").string();
  o.max_pending_rows = 2;
  StoreWriter w(o, health_, clock_);
  w.enqueue(session("a.com", true));
  w.enqueue(session("b.com", true));
  w.enqueue(session("c.com", true));
  w.flushNow();
  EXPECT_EQ(health_.errorsOf(StoreErrorKind::kQueueFull), 3u);
}

TEST_F(StoreTest, RetentionDeletesOldDays) {
  auto o = options();
  o.retention_days = 10;
  StoreWriter w(o, health_, clock_);
  ASSERT_FALSE(w.open());
  w.enqueue(session("old.com", true, kToday - 10));
  w.enqueue(session("kept.com", true, kToday - 9));
  w.flushNow();
  EXPECT_EQ(sessionsOf("old.com"), 0u);
  EXPECT_EQ(sessionsOf("kept.com"), 1u);
}

TEST_F(StoreTest, RecorderRowsAndDowngrades) {
  StoreWriter w(options(), health_, clock_);
  ASSERT_FALSE(w.open());
  StoreRecorder r(w, clock_);
  core::SessionSummary s;
  s.port_class = core::PortClass::kMx;
  s.tls = true;
  s.tls_profile = core::tls::analyse("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256");
  s.client_certificate = core::ClientCertificate::kVerified;
  s.identity = {"example.com", core::PeerDomainSource::kReverseDns};
  const auto key = StoreRecorder::sessionKey(s, kToday);
  EXPECT_EQ(key.tls_version, "TLSv1.2");
  EXPECT_EQ(key.tls_class, "recommended");
  EXPECT_EQ(key.client_cert, "verified");
  EXPECT_EQ(key.peer_source, "rdns");
  r.sessionClosed(s);
  core::MessageSummary m;
  m.identity = {"example.net", core::PeerDomainSource::kHelo};
  r.messageReceived(m);
  EXPECT_EQ(StoreRecorder::messageKey(m, kToday).spf, kNotFed);
  r.downgradeSuspected({core::Source::kMilter,
                        core::DowngradeSignal::kCleartextFromTlsPeer,
                        {"example.com", core::PeerDomainSource::kReverseDns}});
  r.downgradeSuspected({core::Source::kMilter,
                        core::DowngradeSignal::kCleartextFromTlsPeer,
                        {"example.com", core::PeerDomainSource::kReverseDns}});
  w.flushNow();
  std::optional<StoreError> error;
  Store read = Store::open(path_, Store::Mode::kReadOnly, 1000, &error);
  ASSERT_FALSE(error);
  std::vector<DowngradeRow> rows;
  ASSERT_FALSE(read.downgrades(kToday, rows));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].peer_domain, "example.com");
  EXPECT_EQ(rows[0].signal, "cleartext_from_tls_peer");
  EXPECT_EQ(rows[0].count, 2u);
  EXPECT_EQ(rows[0].first_seen, kNow);
  rows.clear();
  ASSERT_FALSE(read.downgrades(kToday + 1, rows));
  EXPECT_TRUE(rows.empty()) << "--since after the day";
}

TEST_F(StoreTest, VerdictsAndPathsArePerDayRollups) {
  StoreWriter w(options(), health_, clock_);
  ASSERT_FALSE(w.open());
  StoreRecorder r(w, clock_);
  core::auth::AuthVerdicts v;
  v.spf = core::auth::SpfVerdict{core::auth::SpfResult::kPass, core::auth::SpfError::kNone,
                                 core::auth::SpfIdentity::kMailFrom, "example.com"};
  v.dkim.push_back({core::auth::DkimResult::kFail, core::auth::DkimReason::kBodyHashMismatch,
                    core::auth::DkimAlgorithm::kRsaSha256, "example.com", 2048});
  v.dkim.push_back({core::auth::DkimResult::kPass, core::auth::DkimReason::kNone,
                    core::auth::DkimAlgorithm::kRsaSha256, "example.com", 2048});
  const auto key = StoreRecorder::authKey(core::Source::kMilter, v, kToday);
  EXPECT_EQ(key.dkim, "pass") << "any signature that passed";
  EXPECT_EQ(key.spf, "pass");
  EXPECT_EQ(key.dmarc, "none");
  EXPECT_EQ(key.dmarc_policy, "absent");
  EXPECT_EQ(key.auth_method, "dkim_and_spf");
  core::MessageSummary m;
  m.verdicts_follow = true;
  r.messageVerified(m, v);
  r.messageVerified(m, v);
  core::received::ChainObservation chain;
  chain.path = core::received::PathClass::kCleartextHop;
  r.receivedChain(chain);
  w.flushNow();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  const auto number = [db](const char* sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &s, nullptr), SQLITE_OK) << sql;
    const auto n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return n;
  };
  EXPECT_EQ(number("SELECT sum(messages) FROM auth_rollups WHERE auth_method='dkim_and_spf' "
                   "AND day='2024-10-04'"),
            2);
  EXPECT_EQ(number("SELECT sum(messages) FROM path_rollups WHERE path='cleartext_hop'"), 1);
  sqlite3_close(db);
}

// Issue 7's per-peer dimensions: two peers' messages, through PeerAnalyser as in a daemon,
// each counted once in message_rollups with its peer, path and verdicts.
TEST_F(StoreTest, MessageRowsCarryTheirPeersPathAndVerdicts) {
  StoreWriter w(options(), health_, clock_);
  ASSERT_FALSE(w.open());
  StoreRecorder r(w, clock_);
  const auto psl = core::peer::PublicSuffixList::parse("com\nnet\n");
  core::peer::PeerHistory history(30, 1000);
  core::peer::PeerAnalyser analyser(psl, core::peer::DowngradeThresholds{}, history, r, clock_);

  // alpha.com (verified reverse name), TLS, all-TLS path: verified twice.
  core::MessageSummary alpha;
  alpha.port_class = core::PortClass::kMx;
  alpha.tls = true;
  alpha.path = core::received::PathClass::kAllTls;
  alpha.verdicts_follow = true;
  alpha.peer.client_name = "mx1.alpha.com";
  alpha.peer.helo = "mx1.alpha.com";
  alpha.peer.sender_domain = "alpha.com";
  core::auth::AuthVerdicts pass;
  pass.spf = core::auth::SpfVerdict{core::auth::SpfResult::kPass, core::auth::SpfError::kNone,
                                    core::auth::SpfIdentity::kMailFrom, "alpha.com"};
  pass.dkim.push_back({core::auth::DkimResult::kPass, core::auth::DkimReason::kNone,
                       core::auth::DkimAlgorithm::kRsaSha256, "alpha.com", 2048});
  pass.dmarc = core::auth::DmarcVerdict{core::auth::DmarcResult::kPass,
                                        core::auth::DmarcPolicy::kReject,
                                        false,
                                        true,
                                        true,
                                        "alpha.com"};
  core::auth::AuthVerdicts fail;
  fail.spf = core::auth::SpfVerdict{core::auth::SpfResult::kFail, core::auth::SpfError::kNone,
                                    core::auth::SpfIdentity::kMailFrom, "alpha.com"};
  analyser.messageReceived(alpha);
  analyser.messageReceived(alpha);
  analyser.messageVerified(alpha, pass);
  analyser.messageVerified(alpha, fail);

  // beta.net (HELO), cleartext hop: one verification dropped, one message not verified.
  core::MessageSummary beta;
  beta.port_class = core::PortClass::kMx;
  beta.path = core::received::PathClass::kCleartextHop;
  beta.verdicts_follow = true;
  beta.peer.client_name = "unknown";
  beta.peer.helo = "relay.beta.net";
  analyser.messageReceived(beta);
  analyser.verificationDropped(beta);
  beta.verdicts_follow = false;
  analyser.messageReceived(beta);
  w.flushNow();

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT day||' '||source||' '||port_class||' '||peer_domain||' '||"
                               "peer_source||' '||tls||' '||path||' '||spf||' '||dkim||' '||"
                               "dmarc||' '||dmarc_policy||' '||auth_method||' '||messages "
                               "FROM message_rollups ORDER BY peer_domain, spf",
                               -1, &st, nullptr),
            SQLITE_OK);
  std::vector<std::string> rows;
  while (sqlite3_step(st) == SQLITE_ROW) {
    rows.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  }
  sqlite3_finalize(st);
  const std::vector<std::string> want = {
      "2024-10-04 milter mx alpha.com rdns 1 all_tls fail none none absent none 1",
      "2024-10-04 milter mx alpha.com rdns 1 all_tls pass pass pass reject dkim_and_spf 1",
      "2024-10-04 milter mx beta.net helo 0 cleartext_hop unknown unknown unknown unknown "
      "unknown 2",
  };
  EXPECT_EQ(rows, want) << "every message once, under its peer";
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT sum(messages) FROM auth_rollups", -1, &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(st, 0), 2) << "the per-day verdict totals: verified only";
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_F(StoreTest, ReadOnlyOpenOfAForeignFileFails) {
  { std::ofstream empty(path_); }
  std::optional<StoreError> error;
  Store s = Store::open(path_, Store::Mode::kReadOnly, 100, &error);
  EXPECT_FALSE(s.isOpen());
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind, StoreErrorKind::kOpen) << error->message;
}

}  // namespace
}  // namespace mailsec::metrics::store
