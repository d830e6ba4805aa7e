#include "core/peer/downgrade.h"

#include <algorithm>

#include "core/closed_set.h"

namespace mailsec::core::peer {

bool isTlsPeer(const TlsHistory& history, const DowngradeThresholds& thresholds) {
  if (history.sessions == 0 || history.sessions < thresholds.min_sessions) return false;
  return static_cast<double>(history.tls_sessions) >=
         thresholds.min_tls_share * static_cast<double>(history.sessions);
}

std::vector<DowngradeSignal> assessSession(const SessionSummary& session, const TlsHistory& before,
                                           const DowngradeThresholds& thresholds) {
  std::vector<DowngradeSignal> signals;
  if (!session.tls && thresholds.trusts(session.identity.source) && isTlsPeer(before, thresholds)) {
    signals.push_back(DowngradeSignal::kCleartextFromTlsPeer);
  }
  if (session.starttls_masked > 0) signals.push_back(DowngradeSignal::kStarttlsMasked);
  if (session.starttls_truncated > 0) signals.push_back(DowngradeSignal::kStarttlsTruncated);
  return signals;
}

PeerHistory::PeerHistory(std::uint32_t window_days, std::size_t max_peers)
    : window_days_(std::max<std::uint32_t>(window_days, 1)), max_peers_(max_peers) {}

std::string PeerHistory::keyOf(const PeerIdentity& peer) {
  std::string key(toLabel(peer.source));
  key.push_back(' ');
  key += peer.domain;
  return key;
}

bool PeerHistory::add(const PeerIdentity& peer, Day day, std::uint64_t sessions,
                      std::uint64_t tls_sessions) {
  const std::string key = keyOf(peer);
  std::lock_guard lock(mutex_);
  auto it = peers_.find(key);
  if (it == peers_.end()) {
    if (peers_.size() >= max_peers_) return false;
    it = peers_.emplace(key, std::vector<DayCount>{}).first;
  }
  auto& days = it->second;
  const auto found =
      std::find_if(days.begin(), days.end(), [day](const DayCount& d) { return d.day == day; });
  if (found != days.end()) {
    found->sessions += sessions;
    found->tls_sessions += tls_sessions;
  } else {
    days.push_back(DayCount{day, sessions, tls_sessions});
  }
  return true;
}

TlsHistory PeerHistory::window(const PeerIdentity& peer, Day today) const {
  const Day first = today - static_cast<Day>(window_days_) + 1;
  TlsHistory sum;
  std::lock_guard lock(mutex_);
  const auto it = peers_.find(keyOf(peer));
  if (it == peers_.end()) return sum;
  for (const auto& d : it->second) {
    if (d.day < first || d.day > today) continue;
    sum.sessions += d.sessions;
    sum.tls_sessions += d.tls_sessions;
  }
  return sum;
}

void PeerHistory::prune(Day today) {
  const Day first = today - static_cast<Day>(window_days_) + 1;
  std::lock_guard lock(mutex_);
  for (auto it = peers_.begin(); it != peers_.end();) {
    auto& days = it->second;
    std::erase_if(days, [first](const DayCount& d) { return d.day < first; });
    it = days.empty() ? peers_.erase(it) : std::next(it);
  }
}

std::size_t PeerHistory::peers() const {
  std::lock_guard lock(mutex_);
  return peers_.size();
}

}  // namespace mailsec::core::peer
