#include "metrics/catalogue.h"

namespace mailsec::metrics {
namespace {

constexpr const char* kBuildInfoName = "mailsec_build_info";
constexpr const char* kBuildInfoHelp = "Always 1; the version label names the running mailsec.";
constexpr const char* kHopsPerMessageName = "mailsec_received_hops_per_message";
constexpr const char* kHopsPerMessageHelp =
    "Hops per message: its Received headers (up to the per-message cap) plus the hop into this "
    "MTA.";
const prometheus::Histogram::BucketBoundaries kHopsPerMessageBuckets = {1, 2,  3,  4,  5,  6,  7,
                                                                        8, 10, 12, 15, 20, 30, 50};

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
      downgrade_suspected(registry, specs_, "mailsec_downgrade_suspected_total",
                          "Sessions suspected of a STARTTLS downgrade, by signal: cleartext from "
                          "a peer whose history is TLS, a masked or truncated STARTTLS. Which "
                          "peers: mailsec-report --downgrades.",
                          {"source", "signal"}),
      store_errors(registry, specs_, "mailsec_store_errors_total",
                   "History store (SQLite) failures, by kind; retried at the next flush, "
                   "Prometheus counting is unaffected. queue_full counts observations dropped.",
                   {"kind"}),
      store_flushes(registry, specs_, "mailsec_store_flushes_total",
                    "Successful flushes of the history store (one transaction each).", {}),
      received_hops(registry, specs_, "mailsec_received_hops_total",
                    "Hops of Received chains, by position in the path, WITH protocol and "
                    "whether the hop was encrypted (docs/received.md).",
                    {"position", "protocol", "tls"}),
      received_hop_tls_versions(registry, specs_, "mailsec_received_hop_tls_versions_total",
                                "Encrypted hops whose MTA named the TLS version, by position "
                                "and version.",
                                {"position", "version"}),
      message_paths(registry, specs_, "mailsec_message_paths_total",
                    "Messages by the protection of their whole path: every judgeable hop "
                    "encrypted, a cleartext hop, or nothing judgeable.",
                    {"path"}),
      message_first_cleartext_hops(registry, specs_, "mailsec_message_first_cleartext_hops_total",
                                   "Messages with a cleartext hop, by where the first (oldest) "
                                   "one sat.",
                                   {"position"}),
      message_origin_submissions(registry, specs_, "mailsec_message_origin_submissions_total",
                                 "Messages by how the origin submitted them (the oldest hop): "
                                 "authenticated, over TLS.",
                                 {"authenticated", "tls"}),
      received_headers_dropped(registry, specs_, "mailsec_received_headers_dropped_total",
                               "Received headers not analysed because a message exceeded the "
                               "per-message caps; the mail is unaffected.",
                               {"reason"}),
      received_headers_unparsable(registry, specs_, "mailsec_received_headers_unparsable_total",
                                  "Received headers with broken structure or over the parser's "
                                  "bounds (their hop is counted with what could be read).",
                                  {"kind"}),
      spf_results(registry, specs_, "mailsec_spf_results_total",
                  "SPF checks of the MAIL FROM identity (HELO for bounces), by result and, for "
                  "temperror and permerror, why.",
                  {"result", "error"}),
      dkim_signatures(registry, specs_, "mailsec_dkim_signatures_total",
                      "DKIM signatures examined, by verdict and failure reason.",
                      {"result", "reason"}),
      dkim_signature_algorithms(registry, specs_, "mailsec_dkim_signature_algorithms_total",
                                "DKIM signatures examined, by signing algorithm (a=; rsa-sha1 is "
                                "deprecated by RFC 8301).",
                                {"algorithm"}),
      dmarc_results(registry, specs_, "mailsec_dmarc_results_total",
                    "DMARC evaluations of the From domain, by result, the published policy (p, "
                    "or sp for a subdomain) and whether pct<100.",
                    {"result", "policy", "partial"}),
      auth_records(registry, specs_, "mailsec_auth_records_total",
                   "SPF, DKIM-key and DMARC records fetched for verification, by the DNSSEC "
                   "status of their answer (unknown: validation off).",
                   {"record", "dnssec"}),
      auth_methods(registry, specs_, "mailsec_auth_methods_total",
                   "Messages by which authentication methods passed (DKIM: any signature).",
                   {"method"}),
      verdict_sources(registry, specs_, "mailsec_auth_verdict_sources_total",
                      "Messages whose verdicts mailsec verified itself, or read from a trusted "
                      "Authentication-Results header (auth.trusted_authserv_ids).",
                      {"source"}),
      verifications_dropped(registry, specs_, "mailsec_verifications_dropped_total",
                            "Messages not verified because the verification queue was full (or "
                            "the daemon was stopping, or verification failed internally); the "
                            "mail is unaffected.",
                            {"source"}),
      authentication_results_ignored(
          registry, specs_, "mailsec_authentication_results_ignored_total",
          "Authentication-Results header fields ignored: not from a trusted authserv-id.",
          {"source"}),
      hops_per_message_family_(prometheus::BuildHistogram()
                                   .Name(kHopsPerMessageName)
                                   .Help(kHopsPerMessageHelp)
                                   .Register(registry)),
      build_info_family_(
          prometheus::BuildGauge().Name(kBuildInfoName).Help(kBuildInfoHelp).Register(registry)),
      hops_per_message(hops_per_message_family_.Add({}, kHopsPerMessageBuckets)) {
  specs_.push_back(FamilySpec{kHopsPerMessageName, kHopsPerMessageHelp, "histogram", {}});
  build_info_family_.Add({{"version", MAILSEC_VERSION}}).Set(1);
  specs_.push_back(FamilySpec{kBuildInfoName,
                              kBuildInfoHelp,
                              "gauge",
                              {LabelSpec{"version", {"<the release, e.g. " MAILSEC_VERSION ">"}}}});
}

}  // namespace mailsec::metrics
