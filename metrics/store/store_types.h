// store_types.h — the rows of mailsec's history store (daily rollups per peer organisation
// domain, suspected downgrades) and the closed set of store failures, without SQLite: the
// catalogue, the recorder sink and mailsec-report share these.
//
// Values are plain; every text column holds a closed-set spelling except the peer domain
// (PSL-reduced, validated host-name bytes). Thread-safety: plain values. Errors: none.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "core/closed_set.h"

namespace mailsec::metrics::store {

// What went wrong with the store (mailsec_store_errors_total{kind}).
enum class StoreErrorKind : std::uint8_t {
  kLocked,     // SQLITE_BUSY / SQLITE_LOCKED past the busy timeout
  kReadonly,   // SQLITE_READONLY, SQLITE_PERM: the file or its directory is not writable
  kFull,       // SQLITE_FULL: disk or quota full
  kCorrupt,    // SQLITE_CORRUPT, SQLITE_NOTADB
  kIo,         // SQLITE_IOERR
  kOpen,       // SQLITE_CANTOPEN, or the schema could not be created
  kQueueFull,  // observations dropped: the writer fell behind (one per observation)
  kOther
};

// Days since the Unix epoch (UTC), and their YYYY-MM-DD spelling (the store's day column).
using Day = std::int32_t;
std::string dayText(Day day);
// Parses YYYY-MM-DD; false when it is not a valid date.
bool parseDay(const std::string& text, Day& out);

// The value written into a dimension column nothing reported for the row: the verdict columns
// of a message not verified (verification off or dropped, policyd), the path of a message
// whose headers the front-end does not see (policyd).
inline constexpr const char* kNotFed = "unknown";

// One row of session_rollups, minus its count.
struct SessionKey {
  Day day = 0;
  std::string source, port_class, peer_domain, peer_source;
  bool tls = false;
  std::string tls_version, tls_class, client_cert;

  auto tie() const {
    return std::tie(day, source, port_class, peer_domain, peer_source, tls, tls_version, tls_class,
                    client_cert);
  }
  bool operator<(const SessionKey& o) const { return tie() < o.tie(); }
};

// One row of message_rollups, minus its count.
struct MessageKey {
  Day day = 0;
  std::string source, port_class, peer_domain, peer_source;
  bool tls = false;
  std::string path = kNotFed, spf = kNotFed, dkim = kNotFed, dmarc = kNotFed,
              dmarc_policy = kNotFed, auth_method = kNotFed;

  auto tie() const {
    return std::tie(day, source, port_class, peer_domain, peer_source, tls, path, spf, dkim, dmarc,
                    dmarc_policy, auth_method);
  }
  bool operator<(const MessageKey& o) const { return tie() < o.tie(); }
};

// One row of downgrades, minus its counts.
struct DowngradeKey {
  Day day = 0;
  std::string peer_domain, peer_source, signal, source;

  auto tie() const { return std::tie(day, peer_domain, peer_source, signal, source); }
  bool operator<(const DowngradeKey& o) const { return tie() < o.tie(); }
};

// One row of auth_rollups (messages by their verdicts, per day, with the SPF error class and
// where the verdicts came from; the per-peer verdicts are message_rollups' columns).
struct AuthKey {
  Day day = 0;
  std::string source, verdict_source, spf, spf_error, dkim, dmarc, dmarc_policy, auth_method;

  auto tie() const {
    return std::tie(day, source, verdict_source, spf, spf_error, dkim, dmarc, dmarc_policy,
                    auth_method);
  }
  bool operator<(const AuthKey& o) const { return tie() < o.tie(); }
};

// One row of path_rollups (messages by the protection of their Received path, per day).
struct PathKey {
  Day day = 0;
  std::string source, path;

  auto tie() const { return std::tie(day, source, path); }
  bool operator<(const PathKey& o) const { return tie() < o.tie(); }
};

struct DowngradeCount {
  std::uint64_t count = 0;
  std::int64_t first_seen = 0;  // Unix seconds
  std::int64_t last_seen = 0;
};

// What one flush writes: counts to add to the rows.
struct Batch {
  std::map<SessionKey, std::uint64_t> sessions;
  std::map<MessageKey, std::uint64_t> messages;
  std::map<DowngradeKey, DowngradeCount> downgrades;
  std::map<AuthKey, std::uint64_t> auth;
  std::map<PathKey, std::uint64_t> paths;

  bool empty() const { return rows() == 0; }
  std::size_t rows() const {
    return sessions.size() + messages.size() + downgrades.size() + auth.size() + paths.size();
  }
  void merge(const Batch& other);
};

// A peer's TLS history as the store sums it (to seed core::peer::PeerHistory).
struct HistoryRow {
  std::string peer_domain, peer_source;
  Day day = 0;
  std::uint64_t sessions = 0;
  std::uint64_t tls_sessions = 0;
};

// A suspected downgrade as mailsec-report lists it (summed over days).
struct DowngradeRow {
  std::string peer_domain, peer_source, signal, source;
  std::uint64_t count = 0;
  std::int64_t first_seen = 0;
  std::int64_t last_seen = 0;
};

}  // namespace mailsec::metrics::store

MAILSEC_CLOSED_SET(mailsec::metrics::store::StoreErrorKind, "locked", "readonly", "full", "corrupt",
                   "io", "open", "queue_full", "other");
