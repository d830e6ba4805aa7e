#include "metrics/store/store_reader.h"

#include <sqlite3.h>

#include <memory>

namespace mailsec::metrics::store {
namespace {

using Db = std::unique_ptr<sqlite3, decltype(&sqlite3_close_v2)>;
using Stmt = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;

StoreError failure(sqlite3* db, int rc, const std::string& path, const std::string& what) {
  return StoreError{classifySqliteError(rc),
                    "store " + path + ": " + what + ": " +
                        (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc))};
}

std::string text(sqlite3_stmt* s, int i) {
  const auto* p = sqlite3_column_text(s, i);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p));
}

std::uint64_t count(sqlite3_stmt* s, int i) {
  const auto v = sqlite3_column_int64(s, i);
  return v < 0 ? 0 : static_cast<std::uint64_t>(v);
}

// Runs `sql` over [first, last] (bound as ?1, ?2) and hands every row to `row`.
template <typename Row>
std::optional<StoreError> each(sqlite3* db, const std::string& path, const char* sql, Day first,
                               Day last, Row row) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
  Stmt stmt(raw, &sqlite3_finalize);
  if (rc != SQLITE_OK) return failure(db, rc, path, "prepare read");
  const std::string a = dayText(first);
  const std::string b = dayText(last);
  sqlite3_bind_text(raw, 1, a.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(raw, 2, b.c_str(), -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) row(raw);
  if (rc != SQLITE_DONE) return failure(db, rc, path, "read");
  return std::nullopt;
}

Day dayOf(sqlite3_stmt* s, int i) {
  Day d = 0;
  parseDay(text(s, i), d);
  return d;
}

}  // namespace

std::optional<StoreError> readRollups(const std::string& path, Day first, Day last, Rollups& out,
                                      int busy_timeout_ms) {
  {
    // The store's own open checks that this is a mailsec store of the schema we read.
    std::optional<StoreError> error;
    Store check = Store::open(path, Store::Mode::kReadOnly, busy_timeout_ms, &error);
    if (error) return error;
  }
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(raw, &sqlite3_close_v2);
  if (rc != SQLITE_OK) return failure(raw, rc, path, "cannot open");
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  // One read transaction: the three tables come from the same snapshot.
  if (const int b = sqlite3_exec(raw, "BEGIN", nullptr, nullptr, nullptr); b != SQLITE_OK) {
    return failure(raw, b, path, "begin");
  }
  auto error = each(raw, path,
                    "SELECT day, source, port_class, peer_domain, peer_source, tls, tls_version, "
                    "tls_class, client_cert, sessions FROM session_rollups "
                    "WHERE day BETWEEN ?1 AND ?2",
                    first, last, [&](sqlite3_stmt* s) {
                      SessionRollup r;
                      r.key.day = dayOf(s, 0);
                      r.key.source = text(s, 1);
                      r.key.port_class = text(s, 2);
                      r.key.peer_domain = text(s, 3);
                      r.key.peer_source = text(s, 4);
                      r.key.tls = sqlite3_column_int(s, 5) != 0;
                      r.key.tls_version = text(s, 6);
                      r.key.tls_class = text(s, 7);
                      r.key.client_cert = text(s, 8);
                      r.sessions = count(s, 9);
                      out.sessions.push_back(std::move(r));
                    });
  if (!error) {
    error = each(raw, path,
                 "SELECT day, source, port_class, peer_domain, peer_source, tls, path, spf, dkim, "
                 "dmarc, dmarc_policy, auth_method, messages FROM message_rollups "
                 "WHERE day BETWEEN ?1 AND ?2",
                 first, last, [&](sqlite3_stmt* s) {
                   MessageRollup r;
                   r.key.day = dayOf(s, 0);
                   r.key.source = text(s, 1);
                   r.key.port_class = text(s, 2);
                   r.key.peer_domain = text(s, 3);
                   r.key.peer_source = text(s, 4);
                   r.key.tls = sqlite3_column_int(s, 5) != 0;
                   r.key.path = text(s, 6);
                   r.key.spf = text(s, 7);
                   r.key.dkim = text(s, 8);
                   r.key.dmarc = text(s, 9);
                   r.key.dmarc_policy = text(s, 10);
                   r.key.auth_method = text(s, 11);
                   r.messages = count(s, 12);
                   out.messages.push_back(std::move(r));
                 });
  }
  if (!error) {
    error = each(raw, path,
                 "SELECT day, peer_domain, peer_source, signal, source, count, first_seen, "
                 "last_seen FROM downgrades WHERE day BETWEEN ?1 AND ?2",
                 first, last, [&](sqlite3_stmt* s) {
                   DowngradeRollup r;
                   r.key.day = dayOf(s, 0);
                   r.key.peer_domain = text(s, 1);
                   r.key.peer_source = text(s, 2);
                   r.key.signal = text(s, 3);
                   r.key.source = text(s, 4);
                   r.count.count = count(s, 5);
                   r.count.first_seen = sqlite3_column_int64(s, 6);
                   r.count.last_seen = sqlite3_column_int64(s, 7);
                   out.downgrades.push_back(std::move(r));
                 });
  }
  sqlite3_exec(raw, "COMMIT", nullptr, nullptr, nullptr);
  return error;
}

}  // namespace mailsec::metrics::store
