// downgrade.h — when a session looks like a STARTTLS downgrade, and the per-peer TLS history
// that decision rests on.
//
// A peer is a "TLS peer" when, over the last window_days days (today included), it sent at
// least min_sessions sessions and at least min_tls_share of them over TLS; a cleartext session
// from a TLS peer is signal cleartext_from_tls_peer. A STARTTLS that reached the MTA masked
// (XXXXXXXX) or truncated is a signal whatever the history. Only identities from the trusted
// sources (config downgrade.identity_sources, default: the verified reverse name) build
// history or raise cleartext_from_tls_peer: a HELO name costs a spammer nothing.
//
// Input: session summaries from core; days are injected (no clock here). Thread-safety:
// assessSession is pure; PeerHistory is safe from any thread (one mutex, short critical
// sections, no I/O). Errors: none; a full PeerHistory stops tracking new peers and says so.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/observation.h"

namespace mailsec::core::peer {

struct DowngradeThresholds {
  std::uint32_t min_sessions = 20;
  double min_tls_share = 0.99;
  std::uint32_t window_days = 30;
  // Identity sources trusted for history (bit per PeerDomainSource).
  std::uint32_t trusted_sources = 1u << static_cast<unsigned>(PeerDomainSource::kReverseDns);

  bool trusts(PeerDomainSource source) const {
    return source != PeerDomainSource::kNone &&
           (trusted_sources & (1u << static_cast<unsigned>(source))) != 0;
  }
};

struct TlsHistory {
  std::uint64_t sessions = 0;
  std::uint64_t tls_sessions = 0;
};

bool isTlsPeer(const TlsHistory& history, const DowngradeThresholds& thresholds);

// The signals one closed session raises, given the peer's history before it.
std::vector<DowngradeSignal> assessSession(const SessionSummary& session, const TlsHistory& before,
                                           const DowngradeThresholds& thresholds);

// Days since the Unix epoch (UTC).
using Day = std::int32_t;
inline Day dayOf(std::int64_t unix_seconds) {
  return static_cast<Day>(unix_seconds >= 0 ? unix_seconds / 86400
                                            : (unix_seconds - 86399) / 86400);
}

// Per-peer session and TLS counts by day over a sliding window, in memory: seeded from the
// store at start-up, updated by every closed session.
class PeerHistory {
 public:
  PeerHistory(std::uint32_t window_days, std::size_t max_peers);

  // Adds counts for a peer and day (seeding from the store, or one session).
  // False when the peer is new and the history is full (the counts are not kept).
  bool add(const PeerIdentity& peer, Day day, std::uint64_t sessions, std::uint64_t tls_sessions);
  // Sums over the window ending with `today`.
  TlsHistory window(const PeerIdentity& peer, Day today) const;
  // Forgets days before the window ending with `today`, and peers left with none.
  void prune(Day today);
  std::size_t peers() const;

 private:
  struct DayCount {
    Day day;
    std::uint64_t sessions;
    std::uint64_t tls_sessions;
  };
  static std::string keyOf(const PeerIdentity& peer);

  const std::uint32_t window_days_;
  const std::size_t max_peers_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::vector<DayCount>> peers_;
};

}  // namespace mailsec::core::peer
