#include "report/adoption_store.h"

#include <map>
#include <tuple>

namespace mailsec::report {
namespace {

constexpr const char* kMx = "mx";
constexpr const char* kTlsSessions = "TLS sessions on MX ports";
constexpr const char* kMessages = "messages received on MX ports";

bool inMonth(DayNumber day, const MonthData& m) {
  return day >= firstDay(m.year, m.month) && day <= lastDay(m.year, m.month);
}

}  // namespace

std::string busiestSource(const metrics::store::Rollups& rollups, DayNumber first, DayNumber last) {
  std::map<std::string, std::uint64_t> sessions;
  for (const auto& r : rollups.sessions) {
    if (r.key.day >= first && r.key.day <= last && r.key.port_class == kMx) {
      sessions[r.key.source] += r.sessions;
    }
  }
  std::string best = "milter";
  std::uint64_t most = 0;
  for (const auto& [source, n] : sessions) {
    if (n > most) {
      best = source;
      most = n;
    }
  }
  return best;
}

void monthFromRollups(const metrics::store::Rollups& rollups, const std::string& source,
                      MonthData& out) {
  std::map<DayNumber, DayCounts> days;
  auto& versions = out.dists[Dist::kTlsVersions];
  auto& classes = out.dists[Dist::kCipherClasses];
  auto& certs = out.dists[Dist::kClientCerts];
  versions.denominator = classes.denominator = certs.denominator = kTlsSessions;
  for (const auto& r : rollups.sessions) {
    const auto& k = r.key;
    if (!inMonth(k.day, out) || k.source != source || k.port_class != kMx) continue;
    auto& d = days[k.day];
    d.day = k.day;
    d.sessions += r.sessions;
    if (!k.tls) continue;
    d.tls_sessions += r.sessions;
    versions.counts[{k.tls_version}] += r.sessions;
    classes.counts[{k.tls_class}] += r.sessions;
    certs.counts[{k.client_cert}] += r.sessions;
  }

  const std::pair<Dist, std::string metrics::store::MessageKey::*> message_dims[] = {
      {Dist::kAuthMethods, &metrics::store::MessageKey::auth_method},
      {Dist::kSpfResults, &metrics::store::MessageKey::spf},
      {Dist::kDkimResults, &metrics::store::MessageKey::dkim},
      {Dist::kDmarcResults, &metrics::store::MessageKey::dmarc},
      {Dist::kDmarcPolicies, &metrics::store::MessageKey::dmarc_policy},
      {Dist::kPaths, &metrics::store::MessageKey::path},
  };
  for (const auto& [dist, field] : message_dims) out.dists[dist].denominator = kMessages;
  std::map<std::string, PeerVolume> peers;
  for (const auto& r : rollups.messages) {
    const auto& k = r.key;
    if (!inMonth(k.day, out) || k.source != source || k.port_class != kMx) continue;
    auto& d = days[k.day];
    d.day = k.day;
    d.messages += r.messages;
    if (k.tls) d.tls_messages += r.messages;
    for (const auto& [dist, field] : message_dims) out.dists[dist].counts[{k.*field}] += r.messages;
    if (!k.peer_domain.empty()) {
      auto& p = peers[k.peer_domain];
      p.domain = k.peer_domain;
      p.messages += r.messages;
      if (k.tls) p.tls_messages += r.messages;
    }
  }
  for (const auto& [day, d] : days) out.days.push_back(d);
  out.peers.emplace();
  for (const auto& [domain, p] : peers) out.peers->push_back(p);

  auto& signals = out.dists[Dist::kDowngradeSignals];
  signals.denominator = "suspected downgrade sessions (all ports)";
  using EventKey = std::tuple<std::string, std::string, std::string, std::string>;
  std::map<EventKey, DowngradeEvent> events;
  for (const auto& r : rollups.downgrades) {
    const auto& k = r.key;
    if (!inMonth(k.day, out) || k.source != source) continue;
    signals.counts[{k.signal}] += r.count.count;
    auto [it, inserted] =
        events.try_emplace(EventKey{k.peer_domain, k.peer_source, k.signal, k.source});
    auto& e = it->second;
    if (inserted) {
      e = DowngradeEvent{k.peer_domain,      k.peer_source,    k.signal, k.source, 0,
                         r.count.first_seen, r.count.last_seen};
    }
    e.count += r.count.count;
    e.first_seen = std::min(e.first_seen, r.count.first_seen);
    e.last_seen = std::max(e.last_seen, r.count.last_seen);
  }
  out.downgrades.emplace();
  for (const auto& [key, e] : events) out.downgrades->push_back(e);

  const std::string prometheus_only =
      "not in the history store, which keeps %s; mailsec-report --prometheus URL builds it "
      "from the Prometheus families";
  const auto why = [&](const char* kept) {
    std::string s = prometheus_only;
    s.replace(s.find("%s"), 2, kept);
    return s;
  };
  out.unavailable[Dist::kCipherSuites] =
      why("the TLS version and cipher class of each session, not its suite");
  out.unavailable[Dist::kSpfErrors] = why("each message's SPF result, not the error class");
  out.unavailable[Dist::kDkimReasons] = why("each message's DKIM result, not the reason");
  out.unavailable[Dist::kDnssec] = why("no DNS records");
}

bool loadStoreMonths(const std::string& path, std::string& source, MonthData& current,
                     MonthData& previous, std::string& error) {
  metrics::store::Rollups rollups;
  const auto failed = metrics::store::readRollups(path, firstDay(previous.year, previous.month),
                                                  lastDay(current.year, current.month), rollups);
  if (failed) {
    error = failed->message;
    return false;
  }
  if (source.empty()) {
    source = busiestSource(rollups, firstDay(current.year, current.month),
                           lastDay(current.year, current.month));
  }
  current.source = previous.source = "history store " + path + ", source " + source;
  monthFromRollups(rollups, source, current);
  monthFromRollups(rollups, source, previous);
  return true;
}

}  // namespace mailsec::report
