// path_summary.cc — see path_summary.h.
#include "core/received/path_summary.h"

#include <algorithm>
#include <array>
#include <string>

namespace mailsec::core::received {
namespace {

std::string bounded(std::string_view s) {
  return std::string(s.substr(0, std::min(s.size(), kMaxFieldBytes)));
}

void count(PathSummary& summary, const Hop& hop) {
  ++summary.hops;
  switch (hop.tls) {
    case HopTls::kTrue:
      ++summary.tls_hops;
      break;
    case HopTls::kFalse:
      ++summary.cleartext_hops;
      break;
    case HopTls::kUnknown:
      ++summary.unknown_hops;
      break;
  }
  if (hop.loopback) ++summary.loopback_hops;
}

bool judgeable(const Hop& hop) { return hop.tls != HopTls::kUnknown && !hop.loopback; }

}  // namespace

PathSummary summarizePath(std::span<const Hop> hops, const Hop* inbound) {
  PathSummary summary;
  const std::size_t n = hops.size();
  summary.positions.resize(n, HopPosition::kRelay);
  if (inbound != nullptr) {
    summary.inbound_position = HopPosition::kInbound;
    if (n > 0) summary.positions[n - 1] = HopPosition::kOrigin;
  } else if (n > 0) {
    summary.positions[0] = HopPosition::kInbound;
    if (n > 1) summary.positions[n - 1] = HopPosition::kOrigin;
  }

  // Travel order: oldest header first, the live inbound hop last.
  std::vector<std::pair<const Hop*, HopPosition>> travel;
  travel.reserve(n + 1);
  for (std::size_t i = n; i-- > 0;) travel.emplace_back(&hops[i], summary.positions[i]);
  if (inbound != nullptr) travel.emplace_back(inbound, HopPosition::kInbound);

  bool any_judgeable = false;
  bool any_cleartext = false;
  for (const auto& [hop, position] : travel) {
    count(summary, *hop);
    if (!judgeable(*hop)) continue;
    any_judgeable = true;
    if (hop->tls == HopTls::kFalse) {
      if (!any_cleartext) summary.first_cleartext = position;
      any_cleartext = true;
    }
  }
  if (any_cleartext) {
    summary.path = PathClass::kCleartextHop;
  } else if (any_judgeable) {
    summary.path = PathClass::kAllTls;
  }
  summary.all_judgeable_tls = summary.path == PathClass::kAllTls;

  if (!travel.empty()) {
    const Hop& origin = *travel.front().first;
    summary.origin = {origin.protocol, origin.authenticated, origin.tls};
  }
  return summary;
}

Hop hopFromSession(const LiveSession& session) {
  Hop hop;
  hop.from = bounded(session.helo);
  hop.from_helo = bounded(session.helo);
  hop.from_rdns = bounded(session.client_name);
  hop.from_ip = bounded(session.client_addr);
  hop.by = bounded(session.by);
  hop.id = bounded(session.queue_id);
  const bool tls = !session.tls_version.empty() || !session.cipher.empty();
  const bool auth = !session.auth_type.empty();
  static constexpr std::array<Protocol, 4> kSmtp = {Protocol::kESMTP, Protocol::kESMTPA,
                                                    Protocol::kESMTPS, Protocol::kESMTPSA};
  static constexpr std::array<Protocol, 4> kLmtp = {Protocol::kLMTP, Protocol::kLMTPA,
                                                    Protocol::kLMTPS, Protocol::kLMTPSA};
  const std::size_t form = (tls ? 2U : 0U) + (auth ? 1U : 0U);
  hop.protocol = session.lmtp ? kLmtp[form] : kSmtp[form];
  hop.with = std::string(toLabel(hop.protocol));
  hop.authenticated = auth ? HopAuth::kTrue : HopAuth::kFalse;
  hop.tls = tls ? HopTls::kTrue : HopTls::kFalse;
  hop.tls_evidence = TlsEvidence::kLiveSession;
  if (tls) {
    hop.tls_version_raw = bounded(session.tls_version);
    hop.cipher = bounded(session.cipher);
    int bits = 0;
    for (char c : session.cipher_bits.substr(0, 6)) {
      if (c < '0' || c > '9') break;
      bits = bits * 10 + (c - '0');
    }
    hop.cipher_bits = bits;
    hop.profile = tls::analyse(hop.tls_version_raw, analyserCipherName(hop.cipher));
    hop.client_subject = bounded(session.cert_subject);
    hop.client_issuer = bounded(session.cert_issuer);
    if (session.verify == "OK") {
      hop.client_cert = ClientCert::kVerified;
    } else if (session.verify == "NO") {
      hop.client_cert = ClientCert::kNotPresented;
    } else if (session.verify == "NOT") {
      hop.client_cert = ClientCert::kNotRequested;
    } else if (session.verify == "FAIL") {
      hop.client_cert = ClientCert::kUnverified;
    } else if (!session.cert_subject.empty()) {
      // Postfix sets {cert_subject} only for a verified client certificate.
      hop.client_cert = ClientCert::kVerified;
    }
  }
  hop.loopback = isLoopbackAddress(hop.from_ip);
  return hop;
}

}  // namespace mailsec::core::received
