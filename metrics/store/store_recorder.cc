#include "metrics/store/store_recorder.h"

#include "core/closed_set.h"
#include "core/peer/downgrade.h"

namespace mailsec::metrics::store {

using core::toLabel;

Day StoreRecorder::today(std::int64_t now) const { return core::peer::dayOf(now); }

SessionKey StoreRecorder::sessionKey(const core::SessionSummary& s, Day day) {
  SessionKey k;
  k.day = day;
  k.source = toLabel(s.source);
  k.port_class = toLabel(s.port_class);
  k.peer_domain = s.identity.domain;
  k.peer_source = toLabel(s.identity.source);
  k.tls = s.tls;
  k.tls_version = s.tls ? std::string(toLabel(s.tls_profile.version)) : "none";
  k.tls_class = s.tls ? std::string(toLabel(s.tls_profile.grade)) : "none";
  k.client_cert = toLabel(s.client_certificate);
  return k;
}

MessageKey StoreRecorder::messageKey(const core::MessageSummary& m, Day day) {
  MessageKey k;
  k.day = day;
  k.source = toLabel(m.source);
  k.port_class = toLabel(m.port_class);
  k.peer_domain = m.identity.domain;
  k.peer_source = toLabel(m.identity.source);
  k.tls = m.tls;
  k.path = toLabel(m.path);
  // spf, dkim, dmarc, dmarc_policy and auth_method stay kNotFed: no verdicts (not verified,
  // or dropped); verifiedMessageKey() fills them.
  return k;
}

MessageKey StoreRecorder::verifiedMessageKey(const core::MessageSummary& m,
                                             const core::auth::AuthVerdicts& v, Day day) {
  MessageKey k = messageKey(m, day);
  AuthKey a = authKey(m.source, v, day);
  k.spf = std::move(a.spf);
  k.dkim = std::move(a.dkim);
  k.dmarc = std::move(a.dmarc);
  k.dmarc_policy = std::move(a.dmarc_policy);
  k.auth_method = std::move(a.auth_method);
  return k;
}

AuthKey StoreRecorder::authKey(core::Source source, const core::auth::AuthVerdicts& v, Day day) {
  AuthKey k;
  k.day = day;
  k.source = toLabel(source);
  k.verdict_source = toLabel(v.source);
  k.spf = v.spf ? std::string(toLabel(v.spf->result)) : "none";
  k.spf_error = v.spf ? std::string(toLabel(v.spf->error)) : "none";
  k.dkim = "none";
  for (const auto& d : v.dkim) {
    if (d.result == core::auth::DkimResult::kPass) {
      k.dkim = toLabel(d.result);
      break;
    }
    if (k.dkim == "none") k.dkim = toLabel(d.result);
  }
  k.dmarc = v.dmarc ? std::string(toLabel(v.dmarc->result)) : "none";
  k.dmarc_policy = v.dmarc ? std::string(toLabel(v.dmarc->policy)) : "absent";
  k.auth_method = toLabel(core::auth::authMethod(v));
  return k;
}

void StoreRecorder::messageVerified(const core::MessageSummary& message,
                                    const core::auth::AuthVerdicts& verdicts) {
  StoreEvent e;
  e.kind = StoreEvent::Kind::kVerified;
  const Day day = today(clock_());
  e.auth = authKey(message.source, verdicts, day);
  e.message = verifiedMessageKey(message, verdicts, day);
  writer_.enqueue(std::move(e));
}

void StoreRecorder::verificationDropped(const core::MessageSummary& message) {
  StoreEvent e;
  e.kind = StoreEvent::Kind::kMessage;
  e.message = messageKey(message, today(clock_()));
  writer_.enqueue(std::move(e));
}

void StoreRecorder::receivedChain(const core::received::ChainObservation& chain) {
  StoreEvent e;
  e.kind = StoreEvent::Kind::kPath;
  e.path.day = today(clock_());
  e.path.source = toLabel(chain.source);
  e.path.path = toLabel(chain.path);
  writer_.enqueue(std::move(e));
}

void StoreRecorder::sessionClosed(const core::SessionSummary& session) {
  StoreEvent e;
  e.kind = StoreEvent::Kind::kSession;
  e.session = sessionKey(session, today(clock_()));
  writer_.enqueue(std::move(e));
}

void StoreRecorder::messageReceived(const core::MessageSummary& message) {
  if (message.verdicts_follow) return;  // counted when its verdicts (or its drop) arrive
  StoreEvent e;
  e.kind = StoreEvent::Kind::kMessage;
  e.message = messageKey(message, today(clock_()));
  writer_.enqueue(std::move(e));
}

void StoreRecorder::downgradeSuspected(const core::DowngradeSuspicion& suspicion) {
  StoreEvent e;
  e.kind = StoreEvent::Kind::kDowngrade;
  e.time = clock_();
  e.downgrade.day = today(e.time);
  e.downgrade.peer_domain = suspicion.peer.domain;
  e.downgrade.peer_source = toLabel(suspicion.peer.source);
  e.downgrade.signal = toLabel(suspicion.signal);
  e.downgrade.source = toLabel(suspicion.source);
  writer_.enqueue(std::move(e));
}

}  // namespace mailsec::metrics::store
