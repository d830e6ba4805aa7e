#include "metrics/store/store.h"

#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <utility>

namespace mailsec::metrics::store {
namespace {

constexpr int kSchemaVersion = 1;

// Rows are keyed by every dimension; counts are added with upserts. Text dimensions hold
// closed-set spellings (or kNotFed); peer_domain is a PSL-reduced host name or "".
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS session_rollups (
  day TEXT NOT NULL, source TEXT NOT NULL, port_class TEXT NOT NULL,
  peer_domain TEXT NOT NULL, peer_source TEXT NOT NULL,
  tls INTEGER NOT NULL, tls_version TEXT NOT NULL, tls_class TEXT NOT NULL,
  client_cert TEXT NOT NULL,
  sessions INTEGER NOT NULL,
  PRIMARY KEY (day, source, port_class, peer_domain, peer_source, tls, tls_version, tls_class,
               client_cert)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS message_rollups (
  day TEXT NOT NULL, source TEXT NOT NULL, port_class TEXT NOT NULL,
  peer_domain TEXT NOT NULL, peer_source TEXT NOT NULL,
  tls INTEGER NOT NULL, path TEXT NOT NULL, spf TEXT NOT NULL, dkim TEXT NOT NULL,
  dmarc TEXT NOT NULL, dmarc_policy TEXT NOT NULL, auth_method TEXT NOT NULL,
  messages INTEGER NOT NULL,
  PRIMARY KEY (day, source, port_class, peer_domain, peer_source, tls, path, spf, dkim, dmarc,
               dmarc_policy, auth_method)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS downgrades (
  day TEXT NOT NULL, peer_domain TEXT NOT NULL, peer_source TEXT NOT NULL,
  signal TEXT NOT NULL, source TEXT NOT NULL,
  count INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
  PRIMARY KEY (day, peer_domain, peer_source, signal, source)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS session_rollups_peer ON session_rollups (peer_domain, day);
CREATE TABLE IF NOT EXISTS auth_rollups (
  day TEXT NOT NULL, source TEXT NOT NULL, verdict_source TEXT NOT NULL,
  spf TEXT NOT NULL, spf_error TEXT NOT NULL, dkim TEXT NOT NULL, dmarc TEXT NOT NULL,
  dmarc_policy TEXT NOT NULL, auth_method TEXT NOT NULL,
  messages INTEGER NOT NULL,
  PRIMARY KEY (day, source, verdict_source, spf, spf_error, dkim, dmarc, dmarc_policy,
               auth_method)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS path_rollups (
  day TEXT NOT NULL, source TEXT NOT NULL, path TEXT NOT NULL,
  messages INTEGER NOT NULL,
  PRIMARY KEY (day, source, path)
) WITHOUT ROWID;
)sql";

// A prepared statement, finalised on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  int prepared() const { return rc_; }
  sqlite3_stmt* get() { return stmt_; }
  void text(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void integer(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  // Runs a statement that returns no rows, then resets it for the next bindings.
  int run() {
    const int rc = sqlite3_step(stmt_);
    sqlite3_reset(stmt_);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
  }
  std::string column(int i) {
    const auto* p = sqlite3_column_text(stmt_, i);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p));
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

}  // namespace

std::string dayText(Day day) {
  using namespace std::chrono;
  const year_month_day ymd{sys_days{days{day}}};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return text;
}

bool parseDay(const std::string& text, Day& out) {
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  char tail = 0;
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3) {
    return false;
  }
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{m}, day{d}};
  if (!ymd.ok()) return false;
  out = static_cast<Day>(sys_days{ymd}.time_since_epoch().count());
  return true;
}

void Batch::merge(const Batch& other) {
  for (const auto& [k, v] : other.sessions) sessions[k] += v;
  for (const auto& [k, v] : other.messages) messages[k] += v;
  for (const auto& [k, v] : other.auth) auth[k] += v;
  for (const auto& [k, v] : other.paths) paths[k] += v;
  for (const auto& [k, v] : other.downgrades) {
    auto [it, inserted] = downgrades.try_emplace(k, v);
    if (inserted) continue;
    it->second.count += v.count;
    it->second.first_seen = std::min(it->second.first_seen, v.first_seen);
    it->second.last_seen = std::max(it->second.last_seen, v.last_seen);
  }
}

StoreErrorKind classifySqliteError(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return StoreErrorKind::kLocked;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return StoreErrorKind::kReadonly;
    case SQLITE_FULL:
      return StoreErrorKind::kFull;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return StoreErrorKind::kCorrupt;
    case SQLITE_IOERR:
      return StoreErrorKind::kIo;
    case SQLITE_CANTOPEN:
      return StoreErrorKind::kOpen;
    default:
      return StoreErrorKind::kOther;
  }
}

Store::~Store() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Store::Store(Store&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}

Store& Store::operator=(Store&& other) noexcept {
  if (this != &other) {
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

StoreError Store::fail(int rc, const std::string& what) const {
  std::string message = "store " + path_ + ": " + what + ": ";
  message += db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  return StoreError{classifySqliteError(rc), std::move(message)};
}

std::optional<StoreError> Store::exec(const char* sql) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return fail(rc, sql);
  return std::nullopt;
}

Store Store::open(const std::string& path, Mode mode, int busy_timeout_ms,
                  std::optional<StoreError>* error) {
  Store store;
  store.path_ = path;
  const int flags =
      mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  const int rc = sqlite3_open_v2(path.c_str(), &store.db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  const auto failed = [&](StoreError e) {
    if (error != nullptr) *error = std::move(e);
    if (store.db_ != nullptr) sqlite3_close_v2(store.db_);
    store.db_ = nullptr;
    return std::move(store);
  };
  if (rc != SQLITE_OK) {
    StoreError e = store.fail(rc, "cannot open");
    if (e.kind == StoreErrorKind::kOther) e.kind = StoreErrorKind::kOpen;
    return failed(std::move(e));
  }
  sqlite3_extended_result_codes(store.db_, 1);
  sqlite3_busy_timeout(store.db_, busy_timeout_ms);
  // Reading the schema version is the first read: a file that is not a database fails here.
  int user_version = 0;
  {
    Statement version(store.db_, "PRAGMA user_version");
    const int prepared = version.prepared();
    if (prepared != SQLITE_OK) return failed(store.fail(prepared, "read schema"));
    const int step = sqlite3_step(version.get());
    if (step != SQLITE_ROW) return failed(store.fail(step, "read schema"));
    user_version = sqlite3_column_int(version.get(), 0);
  }  // finalised: no read transaction left open
  if (mode == Mode::kReadOnly) {
    if (user_version != kSchemaVersion) {
      return failed(StoreError{StoreErrorKind::kOpen, "store " + path +
                                                          ": not a mailsec store (schema version " +
                                                          std::to_string(user_version) + ")"});
    }
    return store;
  }
  // WAL lets readers (mailsec-report, the other daemon) run while one process writes;
  // synchronous=NORMAL is durable at each checkpoint and never corrupts on power loss.
  if (auto e = store.exec("PRAGMA journal_mode=WAL")) return failed(std::move(*e));
  if (auto e = store.exec("PRAGMA synchronous=NORMAL")) return failed(std::move(*e));
  // Every CREATE is IF NOT EXISTS: a version-1 file from before auth_rollups and path_rollups
  // gets them too.
  if (user_version == 0 || user_version == kSchemaVersion) {
    if (auto e = store.exec("BEGIN IMMEDIATE")) return failed(std::move(*e));
    if (auto e = store.exec(kSchema)) {
      store.exec("ROLLBACK");
      return failed(std::move(*e));
    }
    const std::string set_version = "PRAGMA user_version=" + std::to_string(kSchemaVersion);
    if (auto e = store.exec(set_version.c_str())) return failed(std::move(*e));
    if (auto e = store.exec("COMMIT")) {
      store.exec("ROLLBACK");
      return failed(std::move(*e));
    }
  } else {
    return failed(StoreError{StoreErrorKind::kOpen, "store " + path + ": unknown schema version " +
                                                        std::to_string(user_version) +
                                                        " (newer mailsec?)"});
  }
  return store;
}

std::optional<StoreError> Store::write(const Batch& batch) {
  if (db_ == nullptr) return StoreError{StoreErrorKind::kOpen, "store " + path_ + ": not open"};
  if (batch.empty()) return std::nullopt;
  if (auto e = exec("BEGIN IMMEDIATE")) return e;
  const auto abort = [this](StoreError e) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return std::optional<StoreError>(std::move(e));
  };
  {
    Statement s(db_,
                "INSERT INTO session_rollups VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE "
                "SET sessions = sessions + excluded.sessions");
    if (s.prepared() != SQLITE_OK) return abort(fail(s.prepared(), "prepare session upsert"));
    for (const auto& [k, n] : batch.sessions) {
      s.text(1, dayText(k.day));
      s.text(2, k.source);
      s.text(3, k.port_class);
      s.text(4, k.peer_domain);
      s.text(5, k.peer_source);
      s.integer(6, k.tls ? 1 : 0);
      s.text(7, k.tls_version);
      s.text(8, k.tls_class);
      s.text(9, k.client_cert);
      s.integer(10, static_cast<std::int64_t>(n));
      if (const int rc = s.run(); rc != SQLITE_OK) return abort(fail(rc, "write sessions"));
    }
  }
  {
    Statement s(db_,
                "INSERT INTO message_rollups VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO "
                "UPDATE SET messages = messages + excluded.messages");
    if (s.prepared() != SQLITE_OK) return abort(fail(s.prepared(), "prepare message upsert"));
    for (const auto& [k, n] : batch.messages) {
      s.text(1, dayText(k.day));
      s.text(2, k.source);
      s.text(3, k.port_class);
      s.text(4, k.peer_domain);
      s.text(5, k.peer_source);
      s.integer(6, k.tls ? 1 : 0);
      s.text(7, k.path);
      s.text(8, k.spf);
      s.text(9, k.dkim);
      s.text(10, k.dmarc);
      s.text(11, k.dmarc_policy);
      s.text(12, k.auth_method);
      s.integer(13, static_cast<std::int64_t>(n));
      if (const int rc = s.run(); rc != SQLITE_OK) return abort(fail(rc, "write messages"));
    }
  }
  {
    Statement s(db_,
                "INSERT INTO downgrades VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET "
                "count = count + excluded.count, first_seen = min(first_seen, "
                "excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)");
    if (s.prepared() != SQLITE_OK) return abort(fail(s.prepared(), "prepare downgrade upsert"));
    for (const auto& [k, v] : batch.downgrades) {
      s.text(1, dayText(k.day));
      s.text(2, k.peer_domain);
      s.text(3, k.peer_source);
      s.text(4, k.signal);
      s.text(5, k.source);
      s.integer(6, static_cast<std::int64_t>(v.count));
      s.integer(7, v.first_seen);
      s.integer(8, v.last_seen);
      if (const int rc = s.run(); rc != SQLITE_OK) return abort(fail(rc, "write downgrades"));
    }
  }
  {
    Statement s(db_,
                "INSERT INTO auth_rollups VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE "
                "SET messages = messages + excluded.messages");
    if (s.prepared() != SQLITE_OK) return abort(fail(s.prepared(), "prepare auth upsert"));
    for (const auto& [k, n] : batch.auth) {
      s.text(1, dayText(k.day));
      s.text(2, k.source);
      s.text(3, k.verdict_source);
      s.text(4, k.spf);
      s.text(5, k.spf_error);
      s.text(6, k.dkim);
      s.text(7, k.dmarc);
      s.text(8, k.dmarc_policy);
      s.text(9, k.auth_method);
      s.integer(10, static_cast<std::int64_t>(n));
      if (const int rc = s.run(); rc != SQLITE_OK) return abort(fail(rc, "write auth"));
    }
  }
  {
    Statement s(db_,
                "INSERT INTO path_rollups VALUES (?,?,?,?) ON CONFLICT DO UPDATE SET messages = "
                "messages + excluded.messages");
    if (s.prepared() != SQLITE_OK) return abort(fail(s.prepared(), "prepare path upsert"));
    for (const auto& [k, n] : batch.paths) {
      s.text(1, dayText(k.day));
      s.text(2, k.source);
      s.text(3, k.path);
      s.integer(4, static_cast<std::int64_t>(n));
      if (const int rc = s.run(); rc != SQLITE_OK) return abort(fail(rc, "write paths"));
    }
  }
  if (const int rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr); rc != SQLITE_OK) {
    return abort(fail(rc, "commit"));
  }
  return std::nullopt;
}

std::optional<StoreError> Store::prune(Day first_kept) {
  if (db_ == nullptr) return StoreError{StoreErrorKind::kOpen, "store " + path_ + ": not open"};
  const std::string day = dayText(first_kept);
  for (const char* sql :
       {"DELETE FROM session_rollups WHERE day < ?", "DELETE FROM message_rollups WHERE day < ?",
        "DELETE FROM downgrades WHERE day < ?", "DELETE FROM auth_rollups WHERE day < ?",
        "DELETE FROM path_rollups WHERE day < ?"}) {
    Statement s(db_, sql);
    if (s.prepared() != SQLITE_OK) return fail(s.prepared(), "prepare prune");
    s.text(1, day);
    if (const int rc = s.run(); rc != SQLITE_OK) return fail(rc, "prune");
  }
  return std::nullopt;
}

std::optional<StoreError> Store::history(const std::string& source, Day since,
                                         std::vector<HistoryRow>& out) {
  if (db_ == nullptr) return StoreError{StoreErrorKind::kOpen, "store " + path_ + ": not open"};
  Statement s(db_,
              "SELECT peer_domain, peer_source, day, sum(sessions), sum(CASE WHEN tls THEN "
              "sessions ELSE 0 END) FROM session_rollups WHERE source = ? AND day >= ? AND "
              "peer_domain != '' GROUP BY peer_domain, peer_source, day");
  if (s.prepared() != SQLITE_OK) return fail(s.prepared(), "prepare history");
  s.text(1, source);
  s.text(2, dayText(since));
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    HistoryRow row;
    row.peer_domain = s.column(0);
    row.peer_source = s.column(1);
    if (!parseDay(s.column(2), row.day)) continue;
    row.sessions = static_cast<std::uint64_t>(sqlite3_column_int64(s.get(), 3));
    row.tls_sessions = static_cast<std::uint64_t>(sqlite3_column_int64(s.get(), 4));
    out.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return fail(rc, "read history");
  return std::nullopt;
}

std::optional<StoreError> Store::downgrades(Day since, std::vector<DowngradeRow>& out) {
  if (db_ == nullptr) return StoreError{StoreErrorKind::kOpen, "store " + path_ + ": not open"};
  Statement s(db_,
              "SELECT peer_domain, peer_source, signal, source, sum(count), min(first_seen), "
              "max(last_seen) FROM downgrades WHERE day >= ? GROUP BY peer_domain, peer_source, "
              "signal, source ORDER BY max(last_seen) DESC, peer_domain");
  if (s.prepared() != SQLITE_OK) return fail(s.prepared(), "prepare downgrades");
  s.text(1, dayText(since));
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    DowngradeRow row;
    row.peer_domain = s.column(0);
    row.peer_source = s.column(1);
    row.signal = s.column(2);
    row.source = s.column(3);
    row.count = static_cast<std::uint64_t>(sqlite3_column_int64(s.get(), 4));
    row.first_seen = sqlite3_column_int64(s.get(), 5);
    row.last_seen = sqlite3_column_int64(s.get(), 6);
    out.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return fail(rc, "read downgrades");
  return std::nullopt;
}

}  // namespace mailsec::metrics::store
