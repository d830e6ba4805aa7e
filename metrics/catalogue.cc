#include "metrics/catalogue.h"

namespace mailsec::metrics {
namespace {

constexpr const char* kBuildInfoName = "mailsec_build_info";
constexpr const char* kBuildInfoHelp = "Always 1; the version label names the running mailsec.";

}  // namespace

Catalogue::Catalogue(prometheus::Registry& registry)
    : sessions(registry, specs_, "mailsec_sessions_total",
               "SMTP sessions, counted once at close by their final state.",
               {"source", "port_class", "tls"}),
      tls_sessions(registry, specs_, "mailsec_tls_sessions_total",
                   "TLS sessions, counted once at close, by protocol version and cipher suite.",
                   {"source", "version", "kex", "cipher", "mac", "pfs", "class"}),
      client_certificates(registry, specs_, "mailsec_client_certificates_total",
                          "Sessions in which the client presented a TLS certificate.",
                          {"source", "verified"}),
      messages(registry, specs_, "mailsec_messages_total",
               "Messages that reached end of data, by the session's TLS state at that point.",
               {"source", "port_class", "tls"}),
      unknown_commands(registry, specs_, "mailsec_unknown_commands_total",
                       "Unknown SMTP commands (a firewall that masks STARTTLS sends XXXXXXXX).",
                       {"source", "signature"}),
      input_errors(registry, specs_, "mailsec_input_errors_total",
                   "Malformed or over-long peer/MTA input, counted once per session and kind; "
                   "the mail is unaffected.",
                   {"source", "kind"}),
      errors(registry, specs_, "mailsec_errors_total",
             "Internal errors, by component; mailsec failed open (the mail was unaffected).",
             {"component"}),
      policyd_requests(registry, specs_, "mailsec_policyd_requests_total",
                       "Policy delegation requests mailsec-policyd answered (always DUNNO), by "
                       "Postfix's protocol_state; invalid requests count only as input errors.",
                       {"protocol_state"}),
      policyd_connections_dropped(registry, specs_, "mailsec_policyd_connections_dropped_total",
                                  "Policy connections mailsec-policyd closed on its own; "
                                  "Postfix reconnects (and fails open with default_action=DUNNO).",
                                  {"reason"}),
      build_info_family_(prometheus::BuildGauge()
                             .Name(kBuildInfoName)
                             .Help(kBuildInfoHelp)
                             .Register(registry)) {
  build_info_family_.Add({{"version", MAILSEC_VERSION}}).Set(1);
  specs_.push_back(FamilySpec{kBuildInfoName, kBuildInfoHelp, "gauge",
                              {LabelSpec{"version", {"<the release, e.g. " MAILSEC_VERSION ">"}}}});
}

}  // namespace mailsec::metrics
