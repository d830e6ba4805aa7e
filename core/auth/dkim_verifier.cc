#include "core/auth/dkim_verifier.h"

#include <algorithm>
#include <string>

#include "core/auth/dkim_tags.h"
#include "core/auth/opendkim.h"

namespace mailsec::core::auth {
namespace {

constexpr std::size_t kMaxDomainLength = 253;

struct DkimFree {
  void operator()(DKIM* dkim) const { dkim_free(dkim); }
};

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'A' && x <= 'Z' ? x + 32 : x) == (y >= 'A' && y <= 'Z' ? y + 32 : y);
         });
}

std::string lowerBounded(std::string_view text, std::size_t max) {
  std::string out(text.substr(0, max));
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

DkimAlgorithm algorithmOf(std::string_view a) {
  if (equalsIgnoreCase(a, "rsa-sha256")) return DkimAlgorithm::kRsaSha256;
  if (equalsIgnoreCase(a, "rsa-sha1")) return DkimAlgorithm::kRsaSha1;
  if (equalsIgnoreCase(a, "ed25519-sha256")) return DkimAlgorithm::kEd25519Sha256;
  return DkimAlgorithm::kOther;
}

// What mailsec read itself from one DKIM-Signature field.
struct SignatureField {
  std::string domain;  // the first d=, lowercased
  DkimAlgorithm algorithm = DkimAlgorithm::kOther;
  bool invalid_tag_list = false;  // duplicated tag or malformed tag-list (RFC 6376 §3.2)
  bool ignored = false;           // past max_signatures
  bool in_library = false;        // libopendkim made a DKIM_SIGINFO of it
};

DkimVerdict verdictOf(DkimResult result, DkimReason reason) {
  DkimVerdict verdict;
  verdict.result = result;
  verdict.reason = reason;
  return verdict;
}

// libopendkim's per-signature outcome as a verdict (domain, algorithm and bits are filled in
// by the caller).
DkimVerdict classify(DKIM_SIGINFO* sig) {
  const unsigned int flags = dkim_sig_getflags(sig);
  const int bh = dkim_sig_getbh(sig);
  const int error = dkim_sig_geterror(sig);
  if ((flags & DKIM_SIGFLAG_PASSED) != 0 && bh == DKIM_SIGBH_MATCH &&
      (error == DKIM_SIGERROR_OK || error == DKIM_SIGERROR_UNKNOWN)) {
    return verdictOf(DkimResult::kPass, DkimReason::kNone);
  }
  switch (error) {
    case DKIM_SIGERROR_OK:
    case DKIM_SIGERROR_UNKNOWN:
    case DKIM_SIGERROR_BADSIG:
      if ((flags & DKIM_SIGFLAG_PROCESSED) == 0) {
        return verdictOf(DkimResult::kPermerror, DkimReason::kOther);
      }
      // RFC 6376 §6.1.3 checks the body hash before the signature.
      if (bh == DKIM_SIGBH_MISMATCH) {
        return verdictOf(DkimResult::kFail, DkimReason::kBodyHashMismatch);
      }
      return verdictOf(DkimResult::kFail, DkimReason::kSignatureMismatch);
    case DKIM_SIGERROR_TOOLARGE_L:  // the body is shorter than l= says it was signed
      return verdictOf(DkimResult::kFail, DkimReason::kBodyHashMismatch);
    case DKIM_SIGERROR_KEYTOOSMALL:
      return verdictOf(DkimResult::kPermerror, DkimReason::kKeyTooSmall);
    case DKIM_SIGERROR_KEYREVOKED:
      return verdictOf(DkimResult::kPermerror, DkimReason::kKeyRevoked);
    case DKIM_SIGERROR_NOKEY:
      return verdictOf(DkimResult::kPermerror, DkimReason::kKeyNotFound);
    case DKIM_SIGERROR_KEYFAIL:  // the lookup failed: timeout, SERVFAIL, unusable reply
      return verdictOf(DkimResult::kTemperror, DkimReason::kOther);
    case DKIM_SIGERROR_INVALID_A:
    case DKIM_SIGERROR_KEYTYPEUNKNOWN:
    case DKIM_SIGERROR_KEYUNKNOWNHASH:
    case DKIM_SIGERROR_KEYHASHMISMATCH:
      return verdictOf(DkimResult::kPermerror, DkimReason::kUnsupportedAlgorithm);
    case DKIM_SIGERROR_EXPIRED:
      return verdictOf(DkimResult::kPermerror, DkimReason::kExpired);
    case DKIM_SIGERROR_VERSION:
    case DKIM_SIGERROR_DOMAIN:
    case DKIM_SIGERROR_TIMESTAMPS:
    case DKIM_SIGERROR_INVALID_HC:
    case DKIM_SIGERROR_INVALID_BC:
    case DKIM_SIGERROR_MISSING_A:
    case DKIM_SIGERROR_MISSING_H:
    case DKIM_SIGERROR_INVALID_L:
    case DKIM_SIGERROR_INVALID_Q:
    case DKIM_SIGERROR_INVALID_QO:
    case DKIM_SIGERROR_MISSING_D:
    case DKIM_SIGERROR_EMPTY_D:
    case DKIM_SIGERROR_MISSING_S:
    case DKIM_SIGERROR_EMPTY_S:
    case DKIM_SIGERROR_MISSING_B:
    case DKIM_SIGERROR_EMPTY_B:
    case DKIM_SIGERROR_CORRUPT_B:
    case DKIM_SIGERROR_DNSSYNTAX:
    case DKIM_SIGERROR_MISSING_BH:
    case DKIM_SIGERROR_EMPTY_BH:
    case DKIM_SIGERROR_CORRUPT_BH:
    case DKIM_SIGERROR_SUBDOMAIN:
    case DKIM_SIGERROR_MULTIREPLY:
    case DKIM_SIGERROR_EMPTY_H:
    case DKIM_SIGERROR_INVALID_H:
    case DKIM_SIGERROR_KEYVERSION:
    case DKIM_SIGERROR_NOTEMAILKEY:
    case DKIM_SIGERROR_KEYTYPEMISSING:
    case DKIM_SIGERROR_KEYDECODE:
    case DKIM_SIGERROR_MISSING_V:
    case DKIM_SIGERROR_EMPTY_V:
      return verdictOf(DkimResult::kPermerror, DkimReason::kSyntax);
    default:  // FUTURE (t= ahead of our clock), MBSFAILED, CONDITIONAL, ...
      return verdictOf(DkimResult::kPermerror, DkimReason::kOther);
  }
}

}  // namespace

struct dkim_detail::VerifierState {
  DkimLibrary* library;
  DkimLimits limits;
  std::unique_ptr<DKIM, DkimFree> dkim;
  std::vector<SignatureField> fields;      // every DKIM-Signature field fed, in order
  std::vector<std::size_t> library_index;  // fields with in_library, in libopendkim's order
  std::size_t header_fields = 0;
  std::size_t dropped_fields = 0;  // not fed: a NUL byte inside
  std::size_t header_bytes = 0;
  std::uint64_t body_bytes = 0;
  bool eoh = false;
  bool usable = true;           // libopendkim can still produce per-signature results
  bool library_failed = false;  // dkim_verify itself failed (no handle)
  bool skip_body = false;       // no signature to hash the body for
  bool aligned = true;          // libopendkim's signature list matches `fields`
  bool truncated = false;
  bool finished = false;
  std::string buffer;  // one header field as libopendkim wants it
};

namespace {

// Runs inside dkim_eoh (CPU only): tells libopendkim not to look up or check signatures
// mailsec already judged (an invalid tag-list) or will not judge (past max_signatures).
DKIM_CBSTAT prescreen(DKIM* dkim, DKIM_SIGINFO** sigs, int nsigs) noexcept {
  auto* state = static_cast<dkim_detail::VerifierState*>(dkim_get_user_context(dkim));
  if (state == nullptr || sigs == nullptr || nsigs < 0) return DKIM_CBSTAT_CONTINUE;
  const auto count = static_cast<std::size_t>(nsigs);
  state->aligned = count == state->library_index.size();
  for (std::size_t i = 0; i < count; ++i) {
    bool ignore = i >= state->limits.max_signatures;
    if (state->aligned) {
      const SignatureField& field = state->fields[state->library_index[i]];
      ignore = field.ignored || field.invalid_tag_list;
    }
    if (ignore) dkim_sig_ignore(sigs[i]);
  }
  return DKIM_CBSTAT_CONTINUE;
}

// libopendkim's list does not line up with the fields mailsec fed (not seen in testing; a
// guard): its own per-signature results, except that no signature passes while mailsec saw
// an invalid tag-list it cannot attribute.
std::vector<DkimVerdict> unalignedVerdicts(const dkim_detail::VerifierState& s, DKIM_SIGINFO** sigs,
                                           std::size_t count) {
  const bool any_invalid = std::any_of(s.fields.begin(), s.fields.end(),
                                       [](const auto& f) { return f.invalid_tag_list; });
  std::vector<DkimVerdict> verdicts;
  for (std::size_t i = 0; i < count && i < s.limits.max_signatures; ++i) {
    DkimVerdict verdict = classify(sigs[i]);
    if (any_invalid && verdict.result == DkimResult::kPass) {
      verdict = verdictOf(DkimResult::kPermerror, DkimReason::kSyntax);
    }
    if (s.truncated && verdict.result == DkimResult::kFail) {
      verdict = verdictOf(DkimResult::kTemperror, DkimReason::kOther);
    }
    if (const unsigned char* d = dkim_sig_getdomain(sigs[i]); d != nullptr) {
      verdict.domain = lowerBounded(reinterpret_cast<const char*>(d), kMaxDomainLength);
    }
    dkim_alg_t alg = DKIM_SIGN_UNKNOWN;
    if (dkim_sig_getsignalg(sigs[i], &alg) == DKIM_STAT_OK) {
      verdict.algorithm = alg == DKIM_SIGN_RSASHA256       ? DkimAlgorithm::kRsaSha256
                          : alg == DKIM_SIGN_RSASHA1       ? DkimAlgorithm::kRsaSha1
                          : alg == DKIM_SIGN_ED25519SHA256 ? DkimAlgorithm::kEd25519Sha256
                                                           : DkimAlgorithm::kOther;
    }
    verdicts.push_back(std::move(verdict));
  }
  return verdicts;
}

}  // namespace

void dkim_detail::installPrescreen(dkim_lib* lib) { dkim_set_prescreen(lib, prescreen); }

DkimVerifier::DkimVerifier(DkimLibrary& library, const DkimLimits& limits)
    : state_(std::make_unique<dkim_detail::VerifierState>()) {
  state_->library = &library;
  state_->limits = limits;
  DKIM_STAT status = DKIM_STAT_OK;
  state_->dkim.reset(dkim_verify(
      library.handle(), reinterpret_cast<const unsigned char*>("mailsec"), nullptr, &status));
  if (state_->dkim == nullptr || status != DKIM_STAT_OK) {
    state_->usable = false;
    state_->library_failed = true;
  } else {
    dkim_set_user_context(state_->dkim.get(), state_.get());
  }
}

DkimVerifier::~DkimVerifier() = default;
DkimVerifier::DkimVerifier(DkimVerifier&&) noexcept = default;
DkimVerifier& DkimVerifier::operator=(DkimVerifier&&) noexcept = default;

void DkimVerifier::header(std::string_view name, std::string_view value) {
  dkim_detail::VerifierState& s = *state_;
  if (s.eoh || s.finished || s.dkim == nullptr) return;
  // libopendkim keeps header fields as C strings in places (dkim_getsender copies the From
  // field by strlen and then by length: a NUL inside a field is a heap overread, found by
  // fuzzing 2.11.0~beta2). RFC 5322 forbids NUL in a header; such a field is not fed, so a
  // signature over it fails.
  if (name.find('\0') != std::string_view::npos || value.find('\0') != std::string_view::npos) {
    ++s.dropped_fields;
    return;
  }
  const std::size_t size = name.size() + 1 + value.size();
  if (s.header_fields >= s.limits.max_header_fields ||
      size > s.limits.max_header_bytes - std::min(s.header_bytes, s.limits.max_header_bytes)) {
    s.truncated = true;
    return;
  }
  ++s.header_fields;
  s.header_bytes += size;
  // libopendkim wants "Name:value" with CRLF between folded lines and none at the end.
  s.buffer.assign(name);
  s.buffer.push_back(':');
  s.buffer.reserve(size + value.size() / 16);
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r')) s.buffer.push_back('\r');
    s.buffer.push_back(value[i]);
  }
  while (!s.buffer.empty() && (s.buffer.back() == '\n' || s.buffer.back() == '\r')) {
    s.buffer.pop_back();
  }
  const bool signature = equalsIgnoreCase(name, "DKIM-Signature");
  const DKIM_STAT status =
      dkim_header(s.dkim.get(), reinterpret_cast<unsigned char*>(s.buffer.data()), s.buffer.size());
  if (!signature) return;
  const DkimTagList tags = parseDkimTagList(value);
  SignatureField field;
  field.ignored = s.fields.size() >= s.limits.max_signatures;
  // With BADSIGHANDLES libopendkim keeps a signature it calls a syntax error (dkim_header
  // returns DKIM_STAT_SYNTAX, the DKIM_SIGINFO still appears in the list, sig_error set);
  // only a failure before parsing (e.g. no memory) leaves none.
  field.in_library = status == DKIM_STAT_OK || status == DKIM_STAT_SYNTAX;
  if (field.in_library) s.library_index.push_back(s.fields.size());
  field.invalid_tag_list = tags.duplicate || tags.malformed;
  if (const auto d = tags.first("d")) field.domain = lowerBounded(*d, kMaxDomainLength);
  if (const auto a = tags.first("a")) field.algorithm = algorithmOf(*a);
  s.fields.push_back(std::move(field));
}

void DkimVerifier::endOfHeaders() {
  dkim_detail::VerifierState& s = *state_;
  if (s.eoh || s.finished) return;
  s.eoh = true;
  if (s.dkim == nullptr) return;
  const DKIM_STAT status = dkim_eoh(s.dkim.get());
  if (status == DKIM_STAT_NOSIG) {
    s.skip_body = true;
  } else if (status != DKIM_STAT_OK) {
    // E.g. DKIM_STAT_SYNTAX: the header block itself is unusable (dkim_headercheck).
    s.usable = false;
    s.skip_body = true;
  }
}

void DkimVerifier::body(std::string_view chunk) {
  dkim_detail::VerifierState& s = *state_;
  if (!s.eoh) endOfHeaders();
  if (s.skip_body || s.finished || !s.usable || chunk.empty()) return;
  const std::uint64_t room =
      s.limits.max_body_bytes - std::min(s.body_bytes, s.limits.max_body_bytes);
  if (chunk.size() > room) {
    chunk = chunk.substr(0, static_cast<std::size_t>(room));
    // Only a cut that loses bytes some signature still wants matters (l= may cover less).
    if (dkim_minbody(s.dkim.get()) > chunk.size()) s.truncated = true;
    s.skip_body = true;
    if (chunk.empty()) return;
  }
  s.body_bytes += chunk.size();
  const DKIM_STAT status =
      dkim_body(s.dkim.get(), reinterpret_cast<unsigned char*>(const_cast<char*>(chunk.data())),
                chunk.size());
  if (status != DKIM_STAT_OK) s.skip_body = true;
}

std::vector<DkimVerdict> DkimVerifier::finish(std::vector<RecordFetch>& records) {
  dkim_detail::VerifierState& s = *state_;
  if (s.finished) return {};
  if (!s.eoh) endOfHeaders();
  s.finished = true;
  std::vector<DkimVerdict> verdicts;
  if (s.fields.empty()) return verdicts;

  DKIM_SIGINFO** sigs = nullptr;
  int nsigs = 0;
  if (s.usable && !s.library_index.empty()) {
    dkim_detail::FetchLogScope scope(records);
    // The status is the library's summary of one "final" signature; each signature's own
    // result is read below.
    (void)dkim_eom(s.dkim.get(), nullptr);
    if (dkim_getsiglist(s.dkim.get(), &sigs, &nsigs) != DKIM_STAT_OK || nsigs < 0) {
      sigs = nullptr;
    } else if (static_cast<std::size_t>(nsigs) != s.library_index.size() || !s.aligned) {
      return unalignedVerdicts(s, sigs, static_cast<std::size_t>(nsigs));
    }
  }
  std::size_t next = 0;  // the next DKIM_SIGINFO, in libopendkim's order
  for (const SignatureField& field : s.fields) {
    DKIM_SIGINFO* sig = nullptr;
    if (field.in_library) {
      if (sigs != nullptr) sig = sigs[next];
      ++next;
    }
    if (field.ignored) continue;
    DkimVerdict verdict;
    if (sig == nullptr && s.library_failed) {
      verdict = verdictOf(DkimResult::kPermerror, DkimReason::kOther);
    } else if (field.invalid_tag_list || sig == nullptr) {
      // Our own tag-list check, a field libopendkim refused, or a header block it refused
      // (dkim_headercheck): the signature is malformed.
      verdict = verdictOf(DkimResult::kPermerror, DkimReason::kSyntax);
    } else {
      verdict = classify(sig);
      unsigned int bits = 0;
      if (dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK) verdict.key_bits = bits;
    }
    if (s.truncated && verdict.result == DkimResult::kFail) {
      verdict = verdictOf(DkimResult::kTemperror, DkimReason::kOther);
    }
    verdict.domain = field.domain;
    verdict.algorithm = field.algorithm;
    verdicts.push_back(std::move(verdict));
  }
  return verdicts;
}

std::size_t DkimVerifier::signaturesSeen() const { return state_->fields.size(); }

std::size_t DkimVerifier::signaturesIgnored() const {
  const auto& fields = state_->fields;
  return static_cast<std::size_t>(
      std::count_if(fields.begin(), fields.end(), [](const auto& f) { return f.ignored; }));
}

bool DkimVerifier::truncated() const { return state_->truncated; }

void DkimVerifier::markTruncated() { state_->truncated = true; }

}  // namespace mailsec::core::auth
