// inspect_auth.cc — see inspect_auth.h.
#include "report/inspect_auth.h"

#include <memory>

#include "core/auth/authentication_results.h"
#include "core/auth/dkim_library.h"
#include "core/auth/dkim_message.h"
#include "core/auth/resolver.h"
#include "core/auth/unbound_resolver.h"
#include "core/received/message_headers.h"

namespace mailsec::report {
namespace {

using core::auth::DkimResult;
using core::auth::DnsAnswer;
using core::auth::DnsStatus;

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

bool isAuthResults(std::string_view name) {
  constexpr std::string_view kName = "authentication-results";
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

  // Trusted Authentication-Results first, as the milter does.
  if (!options.trusted_ids.empty()) {
    const auto block = core::received::readHeaderBlock(message);
    std::vector<std::string_view> values;
    for (const auto& field : block.fields) {
      if (isAuthResults(field.name)) values.push_back(field.value);
    }
    if (auto trusted = core::auth::readAuthenticationResults(values, options.trusted_ids,
                                                             out.untrusted_auth_results)) {
      out.source = core::auth::VerdictSource::kAuthenticationResults;
      out.resolver = "none";
      out.spf = trusted->spf;
      out.dmarc = trusted->dmarc;
      for (auto& verdict : trusted->dkim) out.dkim.push_back({std::move(verdict), true});
      out.notes.push_back(
          "verdicts read from a trusted Authentication-Results field; "
          "nothing was verified again");
      return out;
    }
  }

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

  core::auth::DkimLibrary library(*resolver);
  core::auth::DkimMessageResult dkim = core::auth::verifyDkimMessage(library, message);
  out.records = std::move(dkim.records);
  out.dkim_signatures_ignored = dkim.signatures_ignored;
  for (auto& verdict : dkim.verdicts) {
    // Offline, a failed key lookup says nothing about the signature.
    const bool computed = offline == nullptr || verdict.result != DkimResult::kTemperror;
    out.dkim.push_back({std::move(verdict), computed});
  }
  if (offline != nullptr) {
    out.records.clear();  // no record was fetched
    if (offline->asked()) {
      out.notes.push_back(
          "no resolver (--dns): DKIM verdicts that need the signer's key are "
          "null; only what needs no DNS is shown");
    }
  }
  if (dkim.signatures_ignored > 0) {
    out.notes.push_back(std::to_string(dkim.signatures_ignored) +
                        " DKIM signature(s) past the per-message cap were not verified");
  }
  if (dkim.truncated) {
    out.notes.push_back(
        "the message is larger than the verifier reads: a fail is reported as "
        "temperror");
  }
  out.notes.push_back("SPF and DMARC are not computed by this build of mailsec-inspect");
  return out;
}

}  // namespace mailsec::report
