#include "policyd/policy_sessions.h"

#include "core/peer_text.h"

namespace mailsec::policyd {

struct SessionBook::Session {
  Session(const core::PortClassRules& rules, core::Recorder& recorder, std::uint64_t gen)
      : tracker(core::Source::kPolicyd, rules, recorder), generation(gen) {}

  core::SessionTracker tracker;
  const std::uint64_t generation;  // tells this session from an earlier one with the same key
  std::uint32_t holders = 0;       // live policy connections whose current session this is
  bool detached = false;           // all its connections closed; waiting out the grace
  Clock::time_point deadline;      // when detached: when it is counted
  bool beyond_connect = false;     // a request in a later state than CONNECT arrived
  std::string helo;                // what the tracker was last told
  std::string tls_version, tls_cipher, cert_subject, cert_fingerprint;
  std::string message_instance;  // `instance` of the last message counted
};

namespace {

std::string sessionKey(ConnectionId connection, const Request& r) {
  const auto part = [](std::string_view value) {
    return value.substr(0, SessionBook::kMaxKeyPart);
  };
  std::string key;
  key.reserve(4 * 16);
  key.append(part(r.client_address)).push_back('|');
  key.append(part(r.client_port)).push_back('|');
  key.append(part(r.server_address)).push_back('|');
  key.append(part(r.server_port));
  // Without a client port (not Postfix 3.7) requests of different connections cannot be told
  // apart from a new session of the same client: keep each connection's sessions its own.
  if (r.client_port.empty()) key.append("|#").append(std::to_string(connection));
  return key;
}

}  // namespace

SessionBook::SessionBook(const core::PortClassRules& rules, core::Recorder& recorder,
                         std::chrono::milliseconds grace)
    : rules_(rules), recorder_(recorder), grace_(grace) {}

SessionBook::~SessionBook() { closeAll(); }

SessionBook::Session* SessionBook::find(const std::string& key, std::uint64_t generation) {
  const auto it = sessions_.find(key);
  return it != sessions_.end() && it->second->generation == generation ? it->second.get() : nullptr;
}

void SessionBook::close(SessionMap::iterator it) {
  if (it->second->detached) --detached_;
  it->second->tracker.closed();
  sessions_.erase(it);
}

void SessionBook::request(ConnectionId connection, const Request& request) {
  const core::SmtpStage stage = parseStage(request.protocol_state);
  std::string key = sessionKey(connection, request);
  Holder& holder = holders_[connection];

  if (!holder.key.empty() && holder.key != key) {
    // The smtpd behind this connection serves one client at a time: its previous one is gone.
    if (find(holder.key, holder.generation) != nullptr) close(sessions_.find(holder.key));
    holder = Holder{};
  }

  auto it = sessions_.find(key);
  if (it != sessions_.end() && stage == core::SmtpStage::kConnect && it->second->beyond_connect) {
    close(it);  // a new SMTP connection from the same address and port
    it = sessions_.end();
  }
  if (it == sessions_.end()) {
    it = sessions_.emplace(key, std::make_unique<Session>(rules_, recorder_, next_generation_++))
             .first;
    core::ConnectFacts facts;
    facts.daemon_name = std::string(request.policy_context);
    facts.daemon_port = core::parsePort(request.server_port);
    facts.client_address = std::string(request.client_address);
    facts.client_name = std::string(request.client_name);
    it->second->tracker.connected(facts);
  }
  Session& session = *it->second;
  if (holder.key.empty() || holder.generation != session.generation) {
    holder = Holder{std::move(key), session.generation};
    ++session.holders;
  }
  if (session.detached) {  // taken up again on another connection within the grace
    session.detached = false;
    --detached_;
  }
  feed(session, stage, request);
}

void SessionBook::feed(Session& session, core::SmtpStage stage, const Request& r) {
  if (stage != core::SmtpStage::kConnect) session.beyond_connect = true;
  if (!r.sender.empty()) session.tracker.mailFrom(r.sender);  // the peer's domain, for the store
  if (!r.helo_name.empty() && r.helo_name != session.helo) {
    session.helo = core::boundedCopy(r.helo_name, core::SessionTracker::kMaxHelo + 1);
    session.tracker.greeted(r.helo_name);
  }
  const std::string_view fingerprint =
      r.ccert_fingerprint.empty() ? r.ccert_pubkey_fingerprint : r.ccert_fingerprint;
  if ((!r.encryption_protocol.empty() || !r.encryption_cipher.empty()) &&
      (r.encryption_protocol != session.tls_version || r.encryption_cipher != session.tls_cipher ||
       r.ccert_subject != session.cert_subject || fingerprint != session.cert_fingerprint)) {
    // Bounded copies of what was reported; a value over the bound compares unequal every time,
    // which only costs a repeated (idempotent) report.
    constexpr std::size_t kKeep = core::SessionTracker::kMaxMacro;
    session.tls_version = core::boundedCopy(r.encryption_protocol, kKeep);
    session.tls_cipher = core::boundedCopy(r.encryption_cipher, kKeep);
    session.cert_subject = core::boundedCopy(r.ccert_subject, kKeep);
    session.cert_fingerprint = core::boundedCopy(fingerprint, kKeep);
    core::TlsFacts facts;
    facts.version = std::string(r.encryption_protocol);
    facts.cipher = std::string(r.encryption_cipher);
    facts.bits = std::string(r.encryption_keysize);
    facts.cert_subject = std::string(r.ccert_subject);
    facts.cert_issuer = std::string(r.ccert_issuer);
    facts.cert_fingerprint = std::string(fingerprint);
    session.tracker.tlsReported(facts);
  }
  if (stage == core::SmtpStage::kEndOfMessage) {
    // One message per MAIL transaction, however many policy lists ask at end of data.
    if (r.instance.empty() || r.instance != session.message_instance) {
      session.message_instance = core::boundedCopy(r.instance, kMaxKeyPart);
      session.tracker.messageEnded();
    }
  }
}

void SessionBook::connectionClosed(ConnectionId connection, Clock::time_point now) {
  const auto h = holders_.find(connection);
  if (h == holders_.end()) return;
  const Holder holder = std::move(h->second);
  holders_.erase(h);
  Session* session = find(holder.key, holder.generation);
  if (session == nullptr) return;
  if (session->holders > 0) --session->holders;
  if (session->holders > 0 || session->detached) return;
  session->detached = true;
  session->deadline = now + grace_;
  ++detached_;
  expiries_.push_back(Expiry{session->deadline, holder.key, holder.generation});
  // Bound what waits: count the oldest at once.
  while (detached_ > kMaxDetached && !expiries_.empty()) {
    const Expiry oldest = std::move(expiries_.front());
    expiries_.pop_front();
    const Session* s = find(oldest.key, oldest.generation);
    if (s != nullptr && s->detached) close(sessions_.find(oldest.key));
  }
}

std::optional<Clock::time_point> SessionBook::expire(Clock::time_point now) {
  while (!expiries_.empty() && expiries_.front().deadline <= now) {
    const Expiry due = std::move(expiries_.front());
    expiries_.pop_front();
    const Session* s = find(due.key, due.generation);
    // A session taken up again and left again has a later entry of its own.
    if (s != nullptr && s->detached && s->deadline <= now) close(sessions_.find(due.key));
  }
  if (expiries_.empty()) return std::nullopt;
  return expiries_.front().deadline;
}

void SessionBook::closeAll() {
  while (!sessions_.empty()) close(sessions_.begin());
  holders_.clear();
  expiries_.clear();
  detached_ = 0;
}

}  // namespace mailsec::policyd
