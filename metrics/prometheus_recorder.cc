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

}  // namespace mailsec::metrics
