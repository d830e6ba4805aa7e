#include "core/auth/dmarc_verifier.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <stdexcept>

#include "core/auth/spf_verifier.h"

extern "C" {
#include <opendmarc/dmarc.h>
// Exported by libopendmarc (opendmarc_tld.c) but not declared in its public header.
int opendmarc_get_tld(u_char* domain, u_char* tld, size_t tld_len);
}

namespace mailsec::core::auth {
namespace {

constexpr std::size_t kMaxRecordBytes = 2048;

u_char* bytes(std::string& s) { return reinterpret_cast<u_char*>(s.data()); }

std::string lowered(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool isDmarcRecord(const std::string& text) {
  // RFC 7489 §6.6.3: records not starting with v=DMARC1 are discarded.
  std::size_t i = 0;
  if (text.size() < 8 || lowered(text.substr(0, 1)) != "v") return false;
  i = 1;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  if (i >= text.size() || text[i] != '=') return false;
  ++i;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  if (text.compare(i, 6, "DMARC1") != 0) return false;
  i += 6;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  return i == text.size() || text[i] == ';';
}

enum class Lookup { kRecord, kNone, kTemporary };

// Fetches the DMARC record at _dmarc.`domain` into `record`.
Lookup fetch(Resolver& resolver, const std::string& domain, std::string& record,
             std::vector<RecordFetch>& records) {
  const DnsAnswer answer = resolver.query("_dmarc." + domain, rrtype::kTxt);
  switch (answer.status) {
    case DnsStatus::kAnswer:
      break;
    case DnsStatus::kNoData:
    case DnsStatus::kNxDomain:
      return Lookup::kNone;
    default:
      if (answer.dnssec == Dnssec::kBogus) {
        records.push_back(RecordFetch{AuthRecord::kDmarc, Dnssec::kBogus});
      }
      return Lookup::kTemporary;
  }
  std::vector<std::string> found;
  for (auto& text : txtRecords(answer)) {
    if (isDmarcRecord(text)) found.push_back(std::move(text));
  }
  if (found.size() != 1) return Lookup::kNone;  // none, or several: no policy (§6.6.3)
  record = std::move(found.front());
  if (record.size() > kMaxRecordBytes) record.resize(kMaxRecordBytes);
  std::replace(record.begin(), record.end(), '\0', ' ');
  records.push_back(RecordFetch{AuthRecord::kDmarc, answer.dnssec});
  return Lookup::kRecord;
}

int spfOutcome(SpfResult result) {
  switch (result) {
    case SpfResult::kPass:
      return DMARC_POLICY_SPF_OUTCOME_PASS;
    case SpfResult::kTemperror:
      return DMARC_POLICY_SPF_OUTCOME_TMPFAIL;
    case SpfResult::kNone:
      return DMARC_POLICY_SPF_OUTCOME_NONE;
    default:
      return DMARC_POLICY_SPF_OUTCOME_FAIL;
  }
}

int dkimOutcome(DkimResult result) {
  switch (result) {
    case DkimResult::kPass:
      return DMARC_POLICY_DKIM_OUTCOME_PASS;
    case DkimResult::kTemperror:
      return DMARC_POLICY_DKIM_OUTCOME_TMPFAIL;
    default:
      return DMARC_POLICY_DKIM_OUTCOME_FAIL;
  }
}

DmarcPolicy policyOf(int p) {
  switch (p) {
    case DMARC_RECORD_P_REJECT:
      return DmarcPolicy::kReject;
    case DMARC_RECORD_P_QUARANTINE:
      return DmarcPolicy::kQuarantine;
    case DMARC_RECORD_P_NONE:
      return DmarcPolicy::kNone;
    default:
      return DmarcPolicy::kAbsent;
  }
}

// Strips RFC 5322 comments and returns the text outside quoted strings with quoted parts
// kept; false when the value is malformed (unbalanced).
bool withoutComments(std::string_view value, std::string& out) {
  int depth = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '\\' && i + 1 < value.size() && (quoted || depth > 0)) {
      if (depth == 0) {
        out += c;
        out += value[i + 1];
      }
      ++i;
      continue;
    }
    if (quoted) {
      if (c == '"') quoted = false;
      out += c;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (--depth < 0) return false;
    } else if (depth == 0) {
      if (c == '"') quoted = true;
      out += c;
    }
  }
  return depth == 0 && !quoted;
}

}  // namespace

std::string fromHeaderDomain(std::string_view value) {
  if (value.size() > 8192) return "";
  std::string text;
  if (!withoutComments(value, text)) return "";
  // Several mailboxes (or a group) separate with ',' or ':' outside quoted strings and <>.
  bool quoted = false;
  int angle = 0;
  std::size_t open = std::string::npos, close = std::string::npos;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && quoted) {
      ++i;
      continue;
    }
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == '<') {
      if (open != std::string::npos) return "";
      open = i;
      ++angle;
    } else if (c == '>') {
      if (angle == 0 || close != std::string::npos) return "";
      close = i;
      --angle;
    } else if ((c == ',' || c == ':' || c == ';') && angle == 0) {
      return "";
    }
  }
  if ((open == std::string::npos) != (close == std::string::npos) || angle != 0) return "";
  std::string address = open != std::string::npos && close != std::string::npos && close > open
                            ? text.substr(open + 1, close - open - 1)
                            : text;
  const auto at = address.rfind('@');
  if (at == std::string::npos) return "";
  std::string domain = address.substr(at + 1);
  const auto first = domain.find_first_not_of(" \t\r\n");
  const auto last = domain.find_last_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  domain = lowered(domain.substr(first, last - first + 1));
  if (!domain.empty() && domain.back() == '.') domain.pop_back();
  return plausibleDomain(domain) ? domain : "";
}

DmarcLibrary::DmarcLibrary(const std::string& public_suffix_list) {
  OPENDMARC_LIB_T init{};
  suffix_list_ = !public_suffix_list.empty() && access(public_suffix_list.c_str(), R_OK) == 0 &&
                 public_suffix_list.size() < sizeof init.tld_source_file;
  if (suffix_list_) {
    init.tld_type = OPENDMARC_TLD_TYPE_MOZILLA;
    std::memcpy(init.tld_source_file, public_suffix_list.c_str(), public_suffix_list.size() + 1);
  } else {
    init.tld_type = OPENDMARC_TLD_TYPE_NONE;
  }
  if (opendmarc_policy_library_init(&init) != DMARC_PARSE_OKAY) {
    throw std::runtime_error("libopendmarc cannot start (public suffix list " + public_suffix_list +
                             ")");
  }
}

DmarcLibrary::~DmarcLibrary() {
  OPENDMARC_LIB_T init{};
  opendmarc_policy_library_shutdown(&init);
}

std::string DmarcLibrary::organizationalDomain(std::string_view domain) const {
  if (!suffix_list_ || domain.empty() || domain.size() > 253) return "";
  std::string copy(domain);
  u_char buffer[256] = {};
  std::string org;
  if (opendmarc_get_tld(bytes(copy), buffer, sizeof buffer) == 0) {
    org = lowered(reinterpret_cast<const char*>(buffer));
  }
  if (org.empty()) {
    // A TLD the list does not know: its default rule "*" makes the last label the public
    // suffix, so the organisational domain is the last two labels (libopendmarc gives "").
    const std::string lower = lowered(domain);
    const auto last = lower.rfind('.');
    if (last == std::string::npos || last == 0) return "";
    const auto second = lower.rfind('.', last - 1);
    org = second == std::string::npos ? lower : lower.substr(second + 1);
  }
  return org;
}

std::optional<DmarcVerdict> checkDmarc(Resolver& resolver, const DmarcLibrary& library,
                                       const DmarcInput& input, std::vector<RecordFetch>& records) {
  if (!plausibleDomain(input.from_domain)) return std::nullopt;
  DmarcVerdict verdict;
  verdict.from_domain = input.from_domain;

  std::string record;
  std::string org_domain;  // set when the record came from the organisational domain
  Lookup found = fetch(resolver, input.from_domain, record, records);
  if (found == Lookup::kNone) {
    const std::string org = library.organizationalDomain(input.from_domain);
    if (!org.empty() && org != input.from_domain && plausibleDomain(org)) {
      found = fetch(resolver, org, record, records);
      if (found == Lookup::kRecord) org_domain = org;
    }
  }
  if (found == Lookup::kTemporary) {
    verdict.result = DmarcResult::kTemperror;
    return verdict;
  }
  if (found == Lookup::kNone) return verdict;  // none, absent

  std::string ip = input.client_address;
  in6_addr scratch{};
  const bool v6 = inet_pton(AF_INET6, ip.c_str(), &scratch) == 1;
  if (!v6 && inet_pton(AF_INET, ip.c_str(), &scratch) != 1) ip = "0.0.0.0";
  DMARC_POLICY_T* policy = opendmarc_policy_connect_init(
      bytes(ip), v6 ? DMARC_POLICY_IP_TYPE_IPV6 : DMARC_POLICY_IP_TYPE_IPV4);
  if (policy == nullptr) {
    verdict.result = DmarcResult::kTemperror;
    return verdict;
  }
  std::string from = input.from_domain;
  std::string looked_up = org_domain.empty() ? input.from_domain : org_domain;
  const bool parsed = opendmarc_policy_store_from_domain(policy, bytes(from)) == DMARC_PARSE_OKAY &&
                      opendmarc_policy_store_dmarc(
                          policy, bytes(record), bytes(looked_up),
                          org_domain.empty() ? nullptr : bytes(org_domain)) == DMARC_PARSE_OKAY;
  if (!parsed) {
    // An unusable record is no policy (RFC 7489 §6.6.3).
    opendmarc_policy_connect_shutdown(policy);
    return verdict;
  }
  if (input.spf && !input.spf->domain.empty()) {
    std::string domain = input.spf->domain;
    opendmarc_policy_store_spf(policy, bytes(domain), spfOutcome(input.spf->result),
                               input.spf->identity == SpfIdentity::kHelo
                                   ? DMARC_POLICY_SPF_ORIGIN_HELO
                                   : DMARC_POLICY_SPF_ORIGIN_MAILFROM,
                               nullptr);
  }
  for (const auto& dkim : input.dkim) {
    if (!plausibleDomain(dkim.domain)) continue;
    std::string domain = lowered(dkim.domain);
    std::string selector = "s";
    opendmarc_policy_store_dkim(policy, bytes(domain), bytes(selector), dkimOutcome(dkim.result),
                                nullptr);
  }
  const int enforce = opendmarc_get_policy_to_enforce(policy);
  int dkim_alignment = 0, spf_alignment = 0, pct = -1, p = 0, sp = 0;
  opendmarc_policy_fetch_alignment(policy, &dkim_alignment, &spf_alignment);
  opendmarc_policy_fetch_pct(policy, &pct);
  opendmarc_policy_fetch_p(policy, &p);
  opendmarc_policy_fetch_sp(policy, &sp);
  opendmarc_policy_connect_shutdown(policy);

  verdict.dkim_aligned = dkim_alignment == DMARC_POLICY_DKIM_ALIGNMENT_PASS;
  verdict.spf_aligned = spf_alignment == DMARC_POLICY_SPF_ALIGNMENT_PASS;
  verdict.policy = policyOf(p);
  if (!org_domain.empty() && policyOf(sp) != DmarcPolicy::kAbsent) verdict.policy = policyOf(sp);
  verdict.partial = pct >= 0 && pct < 100;
  if (enforce == DMARC_POLICY_PASS || verdict.dkim_aligned || verdict.spf_aligned) {
    verdict.result = DmarcResult::kPass;
  } else if (enforce == DMARC_POLICY_ABSENT) {
    verdict.result = DmarcResult::kNone;
  } else {
    verdict.result = DmarcResult::kFail;
  }
  return verdict;
}

}  // namespace mailsec::core::auth
