#include "core/auth/authenticator.h"

#include <algorithm>
#include <cctype>

#include "core/auth/authentication_results.h"

namespace mailsec::core::auth {
namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string bounded(std::string_view text) {
  return std::string(text.substr(0, std::min(text.size(), kMaxEnvelopeText)));
}

// The address inside MAIL FROM's <...> (and without any trailing ESMTP parameters).
std::string envelopeAddress(std::string_view mail_from) {
  const auto start = mail_from.find_first_not_of(" \t");
  if (start == std::string_view::npos) return "";
  mail_from.remove_prefix(start);
  if (!mail_from.empty() && mail_from.front() == '<') {
    const auto close = mail_from.find('>');
    mail_from = mail_from.substr(1, close == std::string_view::npos ? close : close - 1);
  } else {
    mail_from = mail_from.substr(0, mail_from.find_first_of(" \t"));
  }
  // A source route (<@a,@b:user@c>) is obsolete; only the mailbox counts.
  if (const auto colon = mail_from.find(':');
      colon != std::string_view::npos && !mail_from.empty() && mail_from.front() == '@') {
    mail_from.remove_prefix(colon + 1);
  }
  return bounded(mail_from);
}

// Reports exactly once per message: the verdicts, or a drop when it never ran (queue full,
// destroyed at stop), was cut short by shutdown, or threw (the pool contains the exception
// and destroys the task).
class VerifyTask final : public VerificationTask {
 public:
  VerifyTask(Authenticator& authenticator, std::unique_ptr<MessageVerification> message,
             MessageSummary summary)
      : authenticator_(authenticator), message_(std::move(message)), summary_(std::move(summary)) {}
  ~VerifyTask() override {
    if (!reported_) authenticator_.recorder().verificationDropped(summary_);
  }
  VerifyTask(const VerifyTask&) = delete;
  VerifyTask& operator=(const VerifyTask&) = delete;

  void run() override {
    const AuthVerdicts verdicts = message_->finish();
    Recorder& recorder = authenticator_.recorder();
    if (authenticator_.stopping()) return;  // cut short by shutdown: not a verdict (dropped)
    if (message_->ignoredAuthResults() > 0) {
      recorder.authenticationResultsIgnored(authenticator_.source(),
                                            message_->ignoredAuthResults());
    }
    reported_ = true;
    recorder.messageVerified(summary_, verdicts);
    message_.reset();  // frees the per-message state (and the local part) now
  }

 private:
  Authenticator& authenticator_;
  std::unique_ptr<MessageVerification> message_;
  MessageSummary summary_;
  bool reported_ = false;
};

}  // namespace

MessageVerification::MessageVerification(Authenticator& authenticator, SpfRequest envelope)
    : authenticator_(authenticator), envelope_(std::move(envelope)) {
  dkim_.emplace(authenticator_.dkim(), authenticator_.options().dkim_limits);
}

MessageVerification::~MessageVerification() = default;

void MessageVerification::header(std::string_view name, std::string_view value) {
  if (headers_ended_) return;
  if (dkim_) dkim_->header(name, value);
  if (equalsIgnoreCase(name, "From")) {
    // RFC 7489 §6.6.1: a message with several From fields has no single author domain.
    if (++from_fields_ == 1) from_domain_ = fromHeaderDomain(value);
  } else if (equalsIgnoreCase(name, "Authentication-Results")) {
    if (auth_results_.size() < kMaxAuthResultsFields) {
      auth_results_.emplace_back(value.substr(0, std::min(value.size(), kMaxAuthResultsBytes)));
    } else {
      ++ignored_auth_results_;
    }
  }
}

void MessageVerification::endOfHeaders() {
  if (headers_ended_) return;
  headers_ended_ = true;
  if (dkim_) dkim_->endOfHeaders();
}

void MessageVerification::body(std::string_view chunk) {
  endOfHeaders();
  if (dkim_) dkim_->body(chunk);
}

AuthVerdicts MessageVerification::finish() {
  endOfHeaders();
  const auto& options = authenticator_.options();
  if (!auth_results_.empty()) {
    std::vector<std::string_view> values(auth_results_.begin(), auth_results_.end());
    std::size_t ignored = 0;
    auto trusted = readAuthenticationResults(values, options.trusted_authserv_ids, ignored);
    ignored_auth_results_ += ignored;
    if (trusted) {
      trusted->source = VerdictSource::kAuthenticationResults;
      dkim_.reset();
      return std::move(*trusted);
    }
  }
  AuthVerdicts verdicts;
  verdicts.source = VerdictSource::kVerified;
  Resolver& resolver = authenticator_.resolver();
  if (!spfClientUsable(envelope_.client_address)) {
    verdicts.spf.reset();  // no usable client address, or loopback: SPF is not evaluated
  } else if (options.contain_spf) {
    SpfSandboxResult contained = checkSpfContained(resolver, envelope_, verdicts.records);
    // A failed check, or a child that misbehaved between checks (replaced before this one).
    if (contained.contained_failure || contained.replaced_child) {
      authenticator_.recorder().internalError(Component::kCore);
    }
    verdicts.spf = std::move(contained.verdict);
  } else {
    verdicts.spf = checkSpf(resolver, envelope_, verdicts.records);
  }
  if (dkim_) {
    verdicts.dkim = dkim_->finish(verdicts.records);
    dkim_.reset();
  }
  if (from_fields_ == 1 && !from_domain_.empty()) {
    DmarcInput input;
    input.from_domain = from_domain_;
    input.client_address = envelope_.client_address;
    input.spf = verdicts.spf;
    input.dkim = verdicts.dkim;
    verdicts.dmarc = checkDmarc(resolver, authenticator_.dmarc(), input, verdicts.records);
  }
  // The local part is needed no longer.
  envelope_.mail_from = mailboxDomain(envelope_.mail_from);
  return verdicts;
}

Authenticator::Authenticator(Resolver& resolver, Recorder& recorder, Source source,
                             AuthenticatorOptions options)
    : guarded_(resolver),
      recorder_(recorder),
      source_(source),
      options_(std::move(options)),
      dkim_(guarded_),
      dmarc_(options_.public_suffix_list),
      pool_(options_.workers, options_.queue,
            [this] { recorder_.internalError(Component::kCore); }) {}

Authenticator::~Authenticator() { stop(); }

std::unique_ptr<MessageVerification> Authenticator::begin(std::string_view client_address,
                                                          std::string_view helo,
                                                          std::string_view mail_from) {
  SpfRequest envelope;
  envelope.client_address = bounded(client_address);
  envelope.helo = bounded(helo);
  envelope.mail_from = envelopeAddress(mail_from);
  return std::make_unique<MessageVerification>(*this, std::move(envelope));
}

void Authenticator::submit(std::unique_ptr<MessageVerification> message, MessageSummary summary) {
  summary.source = source_;
  summary.verdicts_follow = true;
  if (!message) {
    recorder_.verificationDropped(summary);
    return;
  }
  std::unique_ptr<VerificationTask> task =
      std::make_unique<VerifyTask>(*this, std::move(message), std::move(summary));
  // Refused (queue full, stopping): the task's destructor reports the drop.
  pool_.trySubmit(task);
}

DnsAnswer StoppableResolver::query(std::string_view name, std::uint16_t type) {
  if (stopped_) {
    DnsAnswer answer;
    answer.status = DnsStatus::kTimeout;
    return answer;
  }
  return resolver_.query(name, type);
}

void Authenticator::stop(std::chrono::milliseconds drain) {
  // Tasks never run are destroyed in stop(): each reports its drop.
  pool_.stop(drain, [this] { guarded_.stop(); });
}

}  // namespace mailsec::core::auth
