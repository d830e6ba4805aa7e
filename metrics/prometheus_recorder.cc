#include "metrics/prometheus_recorder.h"

namespace mailsec::metrics {

using core::toFlag;

void PrometheusRecorder::sessionClosed(const core::SessionSummary& session) {
  catalogue_.sessions.inc(session.source, session.port_class, toFlag(session.tls));
  if (!session.tls) return;
  const auto& p = session.tls_profile;
  catalogue_.tls_sessions.inc(session.source, p.version, p.kex, p.cipher, p.mac,
                              toFlag(p.forward_secret), p.grade);
  switch (session.client_certificate) {
    case core::ClientCertificate::kNone:
      break;
    case core::ClientCertificate::kVerified:
      catalogue_.client_certificates.inc(session.source, core::CertVerified::kTrue);
      break;
    case core::ClientCertificate::kUnverified:
      catalogue_.client_certificates.inc(session.source, core::CertVerified::kFalse);
      break;
    case core::ClientCertificate::kUnknown:
      catalogue_.client_certificates.inc(session.source, core::CertVerified::kUnknown);
      break;
  }
}

void PrometheusRecorder::messageReceived(const core::MessageSummary& message) {
  catalogue_.messages.inc(message.source, message.port_class, toFlag(message.tls));
}

void PrometheusRecorder::unknownCommand(core::Source source,
                                        core::UnknownCommandSignature signature) {
  catalogue_.unknown_commands.inc(source, signature);
}

void PrometheusRecorder::inputError(core::Source source, core::InputErrorKind kind) {
  catalogue_.input_errors.inc(source, kind);
}

void PrometheusRecorder::internalError(core::Component component) {
  catalogue_.errors.inc(component);
}

void PrometheusRecorder::downgradeSuspected(const core::DowngradeSuspicion& suspicion) {
  // The signal only: which peer it was goes to the store, never to a label.
  catalogue_.downgrade_suspected.inc(suspicion.source, suspicion.signal);
}

void PrometheusRecorder::receivedChain(const core::received::ChainObservation& chain) {
  using core::received::DropReason;
  using core::received::Unparsable;
  for (const auto& hop : chain.hops) {
    catalogue_.received_hops.inc(hop.position, hop.protocol, hop.tls);
    if (hop.tls_version) catalogue_.received_hop_tls_versions.inc(hop.position, *hop.tls_version);
  }
  catalogue_.hops_per_message.Observe(static_cast<double>(chain.hops.size()));
  catalogue_.message_paths.inc(chain.path);
  if (chain.first_cleartext) catalogue_.message_first_cleartext_hops.inc(*chain.first_cleartext);
  catalogue_.message_origin_submissions.inc(chain.origin_authenticated, chain.origin_tls);
  const auto count = [](auto& family, auto label, std::size_t n) {
    if (n > 0) family.inc(label, static_cast<double>(n));
  };
  count(catalogue_.received_headers_dropped, DropReason::kHeaderCap, chain.dropped_header_cap);
  count(catalogue_.received_headers_dropped, DropReason::kByteCap, chain.dropped_byte_cap);
  count(catalogue_.received_headers_unparsable, Unparsable::kMalformed, chain.malformed);
  count(catalogue_.received_headers_unparsable, Unparsable::kTruncated, chain.truncated);
}

void PrometheusRecorder::messageVerified(const core::MessageSummary& /*message*/,
                                         const core::auth::AuthVerdicts& verdicts) {
  if (verdicts.spf) catalogue_.spf_results.inc(verdicts.spf->result, verdicts.spf->error);
  for (const auto& dkim : verdicts.dkim) {
    catalogue_.dkim_signatures.inc(dkim.result, dkim.reason);
    catalogue_.dkim_signature_algorithms.inc(dkim.algorithm);
  }
  if (verdicts.dmarc) {
    catalogue_.dmarc_results.inc(verdicts.dmarc->result, verdicts.dmarc->policy,
                                 toFlag(verdicts.dmarc->partial));
  }
  for (const auto& record : verdicts.records) {
    catalogue_.auth_records.inc(record.record, record.dnssec);
  }
  catalogue_.auth_methods.inc(core::auth::authMethod(verdicts));
  catalogue_.verdict_sources.inc(verdicts.source);
}

void PrometheusRecorder::verificationDropped(const core::MessageSummary& message) {
  catalogue_.verifications_dropped.inc(message.source);
}

void PrometheusRecorder::authenticationResultsIgnored(core::Source source, std::size_t fields) {
  catalogue_.authentication_results_ignored.inc(source, static_cast<double>(fields));
}

}  // namespace mailsec::metrics
