// store.h — mailsec's history store: one SQLite file (WAL mode) of daily rollups per peer
// organisation domain and of suspected STARTTLS downgrades. Several processes (the milter,
// policyd, mailsec-report) may open one file; each writes through one connection on one thread.
//
// Schema (user_version 1): session_rollups, message_rollups, downgrades, auth_rollups,
// path_rollups — see store.cc. Counts are added with upserts inside one transaction per flush,
// so a flush is all or nothing.
//
// message_rollups counts each message once, per day × source × port × peer organisation
// domain × TLS × path class × SPF × DKIM × DMARC × DMARC policy × auth method. Verdicts come
// from the verification pool after end of message, so a verified message is rolled up when
// they arrive, from the summary the milter handed to verification with it (StoreRecorder); a
// message whose verification is dropped (queue full, shutdown, internal failure) is rolled up
// then with verdicts "unknown", as is every message not handed to verification (auth off,
// policyd). The verification pool bounds the wait (DNS deadlines, queue capacity, drain at
// stop). A message is filed under the day its verdicts arrive (seconds after end of message).
// auth_rollups and path_rollups keep the per-day totals (and the SPF error class).
//
// Input: a trusted path (configuration); the file itself is not trusted (it may be corrupt,
// locked, read-only or on a full disk): every failure is a StoreError, never an exception or a
// crash. Thread-safety: one Store per thread; not shareable. Errors: returned as StoreError.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "metrics/store/store_types.h"

struct sqlite3;

namespace mailsec::metrics::store {

struct StoreError {
  StoreErrorKind kind = StoreErrorKind::kOther;
  std::string message;  // for the log: what failed, SQLite's words, the path
};

class Store {
 public:
  enum class Mode { kReadWrite, kReadOnly };

  Store() = default;  // a closed store
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  Store(Store&& other) noexcept;
  Store& operator=(Store&& other) noexcept;

  // Opens (kReadWrite: creating the file and schema when absent) with the given busy timeout.
  static Store open(const std::string& path, Mode mode, int busy_timeout_ms,
                    std::optional<StoreError>* error);

  bool isOpen() const { return db_ != nullptr; }
  const std::string& path() const { return path_; }

  // Adds a batch's counts in one transaction.
  std::optional<StoreError> write(const Batch& batch);
  // Deletes rows of days before `first_kept`.
  std::optional<StoreError> prune(Day first_kept);
  // Per (peer, day) session and TLS counts since `since` for one source (milter/policyd).
  std::optional<StoreError> history(const std::string& source, Day since,
                                    std::vector<HistoryRow>& out);
  // Suspected downgrades since `since`, summed per peer, signal and source, newest first.
  std::optional<StoreError> downgrades(Day since, std::vector<DowngradeRow>& out);

 private:
  StoreError fail(int rc, const std::string& what) const;
  std::optional<StoreError> exec(const char* sql);

  sqlite3* db_ = nullptr;
  std::string path_;
};

// The StoreErrorKind of an SQLite result code.
StoreErrorKind classifySqliteError(int rc);

}  // namespace mailsec::metrics::store
