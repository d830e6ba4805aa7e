// catalogue.h — every metric mailsec exports, declared once: name, help, labels, and the
// closed set each label's values come from. docs/metrics.md is generated from specs() and a
// unit test keeps the two in step.
//
// Thread-safety: construct once at start-up; the families are safe to use from any thread.
#pragma once

#include <string>
#include <vector>

#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "core/auth/verdicts.h"
#include "core/observation.h"
#include "core/received/received_types.h"
#include "core/tls/tls_types.h"
#include "metrics/counter_family.h"
#include "metrics/family_spec.h"
#include "metrics/store/store_types.h"

namespace mailsec::metrics {

class Catalogue {
 public:
  explicit Catalogue(prometheus::Registry& registry);

  const std::vector<FamilySpec>& specs() const { return specs_; }

 private:
  std::vector<FamilySpec> specs_;  // filled by the families below, in declaration order

 public:
  CounterFamily<core::Source, core::PortClass, core::Flag> sessions;
  CounterFamily<core::Source, core::tls::Version, core::tls::KeyExchange, core::tls::BulkCipher,
                core::tls::Mac, core::Flag, core::tls::Grade>
      tls_sessions;
  CounterFamily<core::Source, core::CertVerified> client_certificates;
  CounterFamily<core::Source, core::PortClass, core::Flag> messages;
  CounterFamily<core::Source, core::UnknownCommandSignature> unknown_commands;
  CounterFamily<core::Source, core::InputErrorKind> input_errors;
  CounterFamily<core::Component> errors;
  CounterFamily<core::SmtpStage> policyd_requests;
  CounterFamily<core::ConnectionDrop> policyd_connections_dropped;
  // Downgrade detection and the history store (issue 7; docs/operations.md).
  CounterFamily<core::Source, core::DowngradeSignal> downgrade_suspected;
  CounterFamily<store::StoreErrorKind> store_errors;
  CounterFamily<> store_flushes;
  // Received-chain analysis (issue 3; docs/received.md).
  CounterFamily<core::received::HopPosition, core::received::Protocol, core::received::HopTls>
      received_hops;
  CounterFamily<core::received::HopPosition, core::tls::Version> received_hop_tls_versions;
  CounterFamily<core::received::PathClass> message_paths;
  CounterFamily<core::received::HopPosition> message_first_cleartext_hops;
  CounterFamily<core::received::HopAuth, core::received::HopTls> message_origin_submissions;
  CounterFamily<core::received::DropReason> received_headers_dropped;
  CounterFamily<core::received::Unparsable> received_headers_unparsable;
  // SPF, DKIM and DMARC verdicts (issue 4; docs/auth.md).
  CounterFamily<core::auth::SpfResult, core::auth::SpfError> spf_results;
  CounterFamily<core::auth::DkimResult, core::auth::DkimReason> dkim_signatures;
  CounterFamily<core::auth::DkimAlgorithm> dkim_signature_algorithms;
  CounterFamily<core::auth::DmarcResult, core::auth::DmarcPolicy, core::Flag> dmarc_results;
  CounterFamily<core::auth::AuthRecord, core::auth::Dnssec> auth_records;
  CounterFamily<core::auth::AuthMethod> auth_methods;
  CounterFamily<core::auth::VerdictSource> verdict_sources;
  CounterFamily<core::Source> verifications_dropped;
  CounterFamily<core::Source> authentication_results_ignored;

 private:
  prometheus::Family<prometheus::Histogram>& hops_per_message_family_;
  prometheus::Family<prometheus::Gauge>& build_info_family_;

 public:
  // Hops per message (Received headers kept plus the live hop into this MTA).
  prometheus::Histogram& hops_per_message;
};

}  // namespace mailsec::metrics
