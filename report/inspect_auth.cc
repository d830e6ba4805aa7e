// inspect_auth.cc — see inspect_auth.h.
#include "report/inspect_auth.h"

#include <memory>

#include "core/auth/authenticator.h"
#include "core/auth/resolver.h"
#include "core/auth/unbound_resolver.h"
#include "core/received/message_headers.h"
#include "core/recorder.h"

namespace mailsec::report {
namespace {

using core::auth::DkimResult;
using core::auth::DmarcResult;
using core::auth::DnsAnswer;
using core::auth::DnsStatus;
using core::auth::SpfResult;

// Without --dns: answers every lookup with a failure, and remembers that one was wanted.
class OfflineResolver final : public core::auth::Resolver {
 public:
  DnsAnswer query(std::string_view /*name*/, std::uint16_t /*type*/) override {
    asked_ = true;
    DnsAnswer answer;
    answer.status = DnsStatus::kError;
    return answer;
  }
  bool asked() const { return asked_; }

 private:
  bool asked_ = false;
};

// The Authenticator reports to a Recorder; inspect prints instead.
class NullRecorder final : public core::Recorder {
 public:
  void sessionClosed(const core::SessionSummary& /*session*/) override {}
  void messageReceived(const core::MessageSummary& /*message*/) override {}
  void unknownCommand(core::Source /*source*/,
                      core::UnknownCommandSignature /*signature*/) override {}
  void inputError(core::Source /*source*/, core::InputErrorKind /*kind*/) override {}
  void internalError(core::Component /*component*/) override {}
};

bool isDkimSignature(std::string_view name) {
  constexpr std::string_view kName = "dkim-signature";
  if (name.size() != kName.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i] >= 'A' && name[i] <= 'Z' ? static_cast<char>(name[i] + 32) : name[i];
    if (c != kName[i]) return false;
  }
  return true;
}

}  // namespace

InspectAuth inspectAuth(std::string_view message, const InspectAuthOptions& options) {
  InspectAuth out;
  std::unique_ptr<core::auth::Resolver> resolver;
  OfflineResolver* offline = nullptr;
  if (options.dns.empty()) {
    auto r = std::make_unique<OfflineResolver>();
    offline = r.get();
    resolver = std::move(r);
    out.resolver = "none";
  } else {
    core::auth::ResolverOptions resolver_options;
    if (options.dns != "system") resolver_options.forwarders.push_back(options.dns);
    resolver_options.dnssec_validate = options.dnssec;
    resolver_options.trust_anchor_files = options.trust_anchors;
    std::string error;
    resolver = core::auth::UnboundResolver::create(resolver_options, error);
    if (resolver == nullptr) {
      out.error = "resolver: " + error;
      return out;
    }
    out.resolver = options.dns;
  }

  // The milter's own per-message verification, run once in the foreground: the message is
  // fed as the milter feeds it and finish() runs here instead of on the pool.
  NullRecorder recorder;
  core::auth::AuthenticatorOptions authenticator_options;
  authenticator_options.workers = 1;
  authenticator_options.queue = 1;
  authenticator_options.trusted_authserv_ids = options.trusted_ids;
  core::auth::Authenticator authenticator(*resolver, recorder, core::Source::kMilter,
                                          authenticator_options);
  auto verification = authenticator.begin(options.client_ip, options.helo, options.mail_from);
  const core::received::HeaderBlock block = core::received::readHeaderBlock(message);
  std::size_t signatures = 0;
  for (const auto& field : block.fields) {
    if (isDkimSignature(field.name)) ++signatures;
    verification->header(field.name, field.value);
  }
  if (block.complete) {
    std::string_view body = message.substr(std::min(block.header_bytes, message.size()));
    constexpr std::size_t kChunk = 64 * 1024;
    while (!body.empty()) {
      const std::size_t n = std::min(kChunk, body.size());
      verification->body(body.substr(0, n));
      body.remove_prefix(n);
    }
  } else {
    verification->body({});
  }
  core::auth::AuthVerdicts verdicts = verification->finish();
  out.method = core::auth::authMethod(verdicts);
  out.untrusted_auth_results = verification->ignoredAuthResults();
  out.source = verdicts.source;
  out.records = std::move(verdicts.records);
  out.spf = std::move(verdicts.spf);
  out.dmarc = std::move(verdicts.dmarc);
  for (auto& verdict : verdicts.dkim) {
    // Offline, a failed key lookup says nothing about the signature.
    const bool computed = offline == nullptr || verdict.result != DkimResult::kTemperror;
    out.dkim.push_back({std::move(verdict), computed});
  }

  if (out.source == core::auth::VerdictSource::kAuthenticationResults) {
    out.resolver = "none";
    out.records.clear();
    out.notes.push_back(
        "verdicts read from a trusted Authentication-Results field; "
        "nothing was verified again");
    return out;
  }
  if (signatures > out.dkim.size()) {
    out.dkim_signatures_ignored = signatures - out.dkim.size();
    out.notes.push_back(std::to_string(out.dkim_signatures_ignored) +
                        " DKIM signature(s) past the per-message cap were not verified");
  }
  if (offline != nullptr) {
    out.records.clear();  // no record was fetched
    // Offline, a temperror is the missing resolver talking, not the sender's DNS.
    if (out.spf && out.spf->result == SpfResult::kTemperror) out.spf.reset();
    if (out.dmarc && out.dmarc->result == DmarcResult::kTemperror) out.dmarc.reset();
    verdicts.spf = out.spf;
    verdicts.dmarc = out.dmarc;
    out.method = core::auth::authMethod(verdicts);
    if (offline->asked()) {
      out.notes.push_back(
          "no resolver (--dns): verdicts that need DNS are null; only what "
          "needs no DNS is shown");
    }
  }
  if (!out.spf && offline == nullptr) {
    out.notes.push_back("SPF not evaluated: it needs a usable, non-loopback --client-ip");
  }
  return out;
}

}  // namespace mailsec::report
