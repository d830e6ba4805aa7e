#include "core/auth/spf_verifier.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>

extern "C" {
#include <spf2/spf.h>
#include <spf2/spf_dns.h>
}

namespace mailsec::core::auth {
namespace {

constexpr std::size_t kMaxRecordsPerAnswer = 32;
constexpr std::size_t kMaxTxtBytes = 4096;
constexpr std::size_t kMaxLocalPart = 64;

// What the DNS layer saw during one check; libspf2 reaches it through the layer's hook.
struct CheckContext {
  Resolver* resolver = nullptr;
  std::vector<RecordFetch>* records = nullptr;
  int lookups = 0;
  int txt_lookups = 0;
  bool timed_out = false;
  bool temporary = false;
  bool over_limit = false;
  std::chrono::steady_clock::time_point deadline;
};

// A presentation-format name from uncompressed wire format at `offset`; "" when malformed.
std::string wireName(const std::string& data, std::size_t offset) {
  std::string name;
  std::size_t i = offset;
  while (i < data.size()) {
    const auto length = static_cast<unsigned char>(data[i]);
    if (length == 0) return name.empty() ? std::string() : name;
    if (length > 63 || i + 1 + length > data.size() || name.size() + length + 1 > 253) return "";
    if (!name.empty()) name += '.';
    for (std::size_t k = i + 1; k <= i + length; ++k) {
      const char c = data[k];
      // libspf2 handles names as C strings; anything unprintable makes the name unusable.
      if (c <= ' ' || c == 0x7f) return "";
      name += c;
    }
    i += 1 + length;
  }
  return "";
}

SPF_dns_stat_t herrnoOf(DnsStatus status) {
  switch (status) {
    case DnsStatus::kAnswer:
      return NETDB_SUCCESS;
    case DnsStatus::kNoData:
      return NO_DATA;
    case DnsStatus::kNxDomain:
      return HOST_NOT_FOUND;
    default:
      return TRY_AGAIN;
  }
}

bool isSpfRecord(const std::string& text) {
  if (text.size() < 6) return false;
  std::string head = text.substr(0, 7);
  std::transform(head.begin(), head.end(), head.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return head == "v=spf1 " || (text.size() == 6 && head == "v=spf1");
}

// Adds `bytes` (len of them) as RR `index`; false when libspf2 is out of memory.
bool putRr(SPF_dns_rr_t* rr, int index, const void* bytes, std::size_t length, bool text) {
  if (SPF_dns_rr_buf_realloc(rr, index, length + (text ? 1 : 0)) != SPF_E_SUCCESS) return false;
  auto* out = reinterpret_cast<char*>(rr->rr[index]);
  std::memcpy(out, bytes, length);
  if (text) out[length] = '\0';
  return true;
}

SPF_dns_rr_t* lookup(SPF_dns_server_t* server, const char* domain, ns_type type,
                     int /*should_cache*/) {
  auto* context = static_cast<CheckContext*>(server->hook);
  const std::string name = domain == nullptr ? std::string() : std::string(domain);
  // Type 99 (SPF) is obsolete (RFC 7208 §3.1): answer "no data" without asking, so libspf2
  // goes on to TXT.
  if (type == ns_t_spf) return SPF_dns_rr_new_init(server, domain, type, 0, NO_DATA);
  // libspf2 applies RFC 7208's limit of 10 DNS-querying terms per record, not per check:
  // every TXT lookup after the first is an include: or redirect=, so count them here.
  const bool over = ++context->lookups > kMaxSpfLookups ||
                    (type == ns_t_txt && ++context->txt_lookups > kMaxSpfIncludes + 1);
  if (over) context->over_limit = true;
  if (name.empty() || name.size() > 253 || over) {
    return SPF_dns_rr_new_init(server, domain, type, 0, HOST_NOT_FOUND);
  }
  if (std::chrono::steady_clock::now() > context->deadline) {
    context->timed_out = true;  // the whole check ran out of time: a DNS timeout
    return SPF_dns_rr_new_init(server, domain, type, 0, TRY_AGAIN);
  }
  const DnsAnswer answer = context->resolver->query(name, static_cast<std::uint16_t>(type));
  if (answer.status == DnsStatus::kTimeout) context->timed_out = true;
  if (answer.status == DnsStatus::kServFail || answer.status == DnsStatus::kError) {
    context->temporary = true;
  }
  SPF_dns_rr_t* rr = SPF_dns_rr_new_init(server, domain, type, 60, herrnoOf(answer.status));
  if (rr == nullptr || answer.status != DnsStatus::kAnswer) {
    if (type == ns_t_txt && answer.dnssec == Dnssec::kBogus && context->records != nullptr) {
      context->records->push_back(RecordFetch{AuthRecord::kSpf, Dnssec::kBogus});
    }
    return rr;
  }
  int count = 0;
  const auto add = [&](const void* bytes, std::size_t length, bool text) {
    if (static_cast<std::size_t>(count) >= kMaxRecordsPerAnswer) return;
    if (putRr(rr, count, bytes, length, text)) ++count;
  };
  switch (type) {
    case ns_t_a:
      for (const auto& rdata : answer.rdata) {
        if (rdata.size() == 4) add(rdata.data(), 4, false);
      }
      break;
    case ns_t_aaaa:
      for (const auto& rdata : answer.rdata) {
        if (rdata.size() == 16) add(rdata.data(), 16, false);
      }
      break;
    case ns_t_txt: {
      bool spf = false;
      for (std::string text : txtRecords(answer)) {
        if (text.size() > kMaxTxtBytes) text.resize(kMaxTxtBytes);
        // A NUL would silently cut the record short inside libspf2; make it a syntax error.
        std::replace(text.begin(), text.end(), '\0', '\x01');
        spf = spf || isSpfRecord(text);
        add(text.data(), text.size(), true);
      }
      if (spf && context->records != nullptr) {
        context->records->push_back(RecordFetch{AuthRecord::kSpf, answer.dnssec});
      }
      break;
    }
    case ns_t_ptr:
      for (const auto& rdata : answer.rdata) {
        const std::string target = wireName(rdata, 0);
        if (!target.empty()) add(target.data(), target.size(), true);
      }
      break;
    case ns_t_mx:
      for (const auto& rdata : answer.rdata) {
        const std::string target = rdata.size() > 2 ? wireName(rdata, 2) : std::string();
        if (!target.empty()) add(target.data(), target.size(), true);
      }
      break;
    default:
      break;
  }
  rr->num_rr = count;
  if (count == 0) rr->herrno = NO_DATA;
  return rr;
}

// Explanations (exp=) are for rejections, which mailsec never makes. Answering them here keeps
// libspf2 from fetching the exp= target's TXT record and compiling and expanding it as a macro
// string — sender-controlled input to the code where the fuzzer found a stack overflow
// (docs/auth.md).
SPF_errcode_t noExplanation(SPF_server_t* /*server*/, const char* /*domain*/, char** buffer,
                            size_t* length) {
  if (buffer == nullptr || length == nullptr) return SPF_E_INTERNAL_ERROR;
  if (*buffer == nullptr || *length == 0) {
    char* fresh = static_cast<char*>(std::malloc(1));
    if (fresh == nullptr) return SPF_E_NO_MEMORY;
    std::free(*buffer);
    *buffer = fresh;
    *length = 1;
  }
  (*buffer)[0] = '\0';
  return SPF_E_SUCCESS;
}

// libspf2 logs to stderr by default, and its error handler abort()s; everything it reports
// is peer-triggered detail we count instead.
void silent(const char*, int, const char*) {}

bool quietLibspf2() {
  SPF_warning_handler = silent;
  SPF_info_handler = silent;
  SPF_debug_handler = silent;
  return true;
}

// At load time, before any thread (or a sandbox child, spf_sandbox.h) exists.
[[maybe_unused]] const bool g_libspf2_quiet = quietLibspf2();

SpfResult resultOf(SPF_result_t result) {
  switch (result) {
    case SPF_RESULT_PASS:
      return SpfResult::kPass;
    case SPF_RESULT_FAIL:
      return SpfResult::kFail;
    case SPF_RESULT_SOFTFAIL:
      return SpfResult::kSoftfail;
    case SPF_RESULT_NEUTRAL:
      return SpfResult::kNeutral;
    case SPF_RESULT_NONE:
      return SpfResult::kNone;
    case SPF_RESULT_TEMPERROR:
      return SpfResult::kTemperror;
    case SPF_RESULT_PERMERROR:
      return SpfResult::kPermerror;
    default:
      return SpfResult::kPermerror;
  }
}

bool isRecordSyntaxError(SPF_errcode_t code) {
  switch (code) {
    case SPF_E_SYNTAX:
    case SPF_E_MOD_W_PREF:
    case SPF_E_INVALID_CHAR:
    case SPF_E_UNKNOWN_MECH:
    case SPF_E_INVALID_OPT:
    case SPF_E_INVALID_CIDR:
    case SPF_E_MISSING_OPT:
    case SPF_E_INVALID_ESC:
    case SPF_E_INVALID_VAR:
    case SPF_E_BIG_SUBDOM:
    case SPF_E_INVALID_DELIM:
    case SPF_E_BIG_STRING:
    case SPF_E_BIG_MECH:
    case SPF_E_BIG_MOD:
    case SPF_E_INVALID_IP4:
    case SPF_E_INVALID_IP6:
    case SPF_E_INVALID_PREFIX:
    case SPF_E_MECH_AFTER_ALL:
    case SPF_E_MULTIPLE_RECORDS:
    case SPF_E_BAD_HOST_IP:
    case SPF_E_BAD_HOST_TLD:
      return true;
    default:
      return false;
  }
}

// Result and error class from what libspf2 returned and what the DNS layer saw.
void classify(SPF_errcode_t returned, SPF_response_t* response, const CheckContext& context,
              SpfVerdict& verdict) {
  bool syntax = isRecordSyntaxError(returned);
  bool too_many = returned == SPF_E_BIG_DNS || context.over_limit;
  bool dns = returned == SPF_E_DNS_ERROR;
  bool not_spf = returned == SPF_E_NOT_SPF;
  for (int i = 0; response != nullptr && i < SPF_response_messages(response); ++i) {
    SPF_error_t* message = SPF_response_message(response, i);
    if (message == nullptr || !SPF_error_errorp(message)) continue;
    const SPF_errcode_t code = SPF_error_code(message);
    syntax = syntax || isRecordSyntaxError(code);
    too_many = too_many || code == SPF_E_BIG_DNS;
    dns = dns || code == SPF_E_DNS_ERROR;
  }
  const SPF_result_t raw = response != nullptr ? SPF_response_result(response) : SPF_RESULT_INVALID;
  if (context.over_limit) {
    verdict.result = SpfResult::kPermerror;  // RFC 7208 §4.6.4
  } else if (raw != SPF_RESULT_INVALID) {
    verdict.result = resultOf(raw);
  } else if (syntax || too_many) {
    verdict.result = SpfResult::kPermerror;
  } else if (dns || context.timed_out || context.temporary) {
    verdict.result = SpfResult::kTemperror;
  } else if (not_spf) {
    verdict.result = SpfResult::kNone;
  } else {
    verdict.result = SpfResult::kPermerror;
  }
  switch (verdict.result) {
    case SpfResult::kTemperror:
      verdict.error = context.timed_out            ? SpfError::kDnsTimeout
                      : (dns || context.temporary) ? SpfError::kDnsTemporary
                                                   : SpfError::kOther;
      break;
    case SpfResult::kPermerror:
      verdict.error = too_many ? SpfError::kTooManyLookups
                      : syntax ? SpfError::kInvalidRecord
                               : SpfError::kOther;
      break;
    default:
      verdict.error = SpfError::kNone;
      break;
  }
}

std::string lowered(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

bool spfClientUsable(std::string_view client_address) {
  const std::string text(client_address);
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) != 127;
  if (inet_pton(AF_INET6, text.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_V4MAPPED(&v6)) return v6.s6_addr[12] != 127;
  return !IN6_IS_ADDR_LOOPBACK(&v6);
}

std::string mailboxDomain(std::string_view mailbox) {
  const auto at = mailbox.rfind('@');
  if (at == std::string_view::npos) return "";
  std::string domain = lowered(mailbox.substr(at + 1));
  if (!domain.empty() && domain.back() == '.') domain.pop_back();
  return domain;
}

bool plausibleDomain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) return false;
  std::size_t labels = 0;
  std::size_t start = 0;
  while (start <= domain.size()) {
    const auto dot = domain.find('.', start);
    const auto label = domain.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63) return false;
    for (const char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
    }
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels >= 2;
}

std::optional<SpfVerdict> checkSpf(Resolver& resolver, const SpfRequest& request,
                                   std::vector<RecordFetch>& records) {
  in_addr v4{};
  in6_addr v6{};
  bool is_v4 = inet_pton(AF_INET, request.client_address.c_str(), &v4) == 1;
  const bool is_v6 = !is_v4 && inet_pton(AF_INET6, request.client_address.c_str(), &v6) == 1;
  if (!is_v4 && !is_v6) return std::nullopt;
  if (is_v6 && IN6_IS_ADDR_V4MAPPED(&v6)) {
    std::memcpy(&v4, &v6.s6_addr[12], 4);
    is_v4 = true;
  }
  if ((is_v4 && (ntohl(v4.s_addr) >> 24) == 127) || (!is_v4 && IN6_IS_ADDR_LOOPBACK(&v6))) {
    return std::nullopt;  // libspf2 would call this a pass without looking
  }

  SpfVerdict verdict;
  std::string local_part = "postmaster";
  std::string domain;
  if (request.mail_from.empty()) {
    verdict.identity = SpfIdentity::kHelo;
    domain = lowered(request.helo);
    if (!domain.empty() && domain.back() == '.') domain.pop_back();
  } else {
    verdict.identity = SpfIdentity::kMailFrom;
    domain = mailboxDomain(request.mail_from);
    const auto at = request.mail_from.rfind('@');
    if (at != std::string::npos && at > 0 && at <= kMaxLocalPart) {
      local_part = request.mail_from.substr(0, at);
    }
    if (domain.empty() && at == std::string::npos) domain = lowered(request.mail_from);
  }
  // Local parts are peer text that libspf2's macros (%{l}, %{s}) expand: keep them printable.
  for (char& c : local_part) {
    if (static_cast<unsigned char>(c) <= ' ' || static_cast<unsigned char>(c) >= 0x7f || c == '@') {
      c = '_';
    }
  }
  if (!plausibleDomain(domain)) {
    verdict.result = SpfResult::kNone;
    return verdict;
  }
  verdict.domain = domain;
  std::string helo = lowered(request.helo);
  if (!plausibleDomain(helo)) helo = domain;  // only %{h} reads it

  CheckContext context;
  context.resolver = &resolver;
  context.records = &records;
  context.deadline = std::chrono::steady_clock::now() + kSpfCheckBudget;
  SPF_dns_server_t layer{};
  layer.destroy = nullptr;  // ours; SPF_server_free leaves it alone
  layer.lookup = lookup;
  layer.get_exp = noExplanation;
  layer.name = "mailsec";
  layer.hook = &context;

  SPF_server_t* server = SPF_server_new_dns(&layer, 0);
  if (server == nullptr) {
    verdict.result = SpfResult::kTemperror;
    verdict.error = SpfError::kOther;
    return verdict;
  }
  // The default explanation expands %{S} (the local part) and more: a constant instead.
  SPF_response_t* explanation_errors = nullptr;
  SPF_server_set_explanation(server, "mailsec", &explanation_errors);
  if (explanation_errors != nullptr) SPF_response_free(explanation_errors);
  SPF_request_t* spf_request = SPF_request_new(server);
  SPF_response_t* response = nullptr;
  const std::string env_from = local_part + "@" + domain;
  SPF_errcode_t returned = SPF_E_NO_MEMORY;
  if (spf_request != nullptr &&
      (is_v4 ? SPF_request_set_ipv4(spf_request, v4) : SPF_request_set_ipv6(spf_request, v6)) ==
          SPF_E_SUCCESS &&
      SPF_request_set_helo_dom(spf_request, helo.c_str()) == SPF_E_SUCCESS &&
      SPF_request_set_env_from(spf_request, env_from.c_str()) == 0) {
    returned = SPF_request_query_mailfrom(spf_request, &response);
  }
  classify(returned, response, context, verdict);
  if (response != nullptr) SPF_response_free(response);
  if (spf_request != nullptr) SPF_request_free(spf_request);
  SPF_server_free(server);
  return verdict;
}

}  // namespace mailsec::core::auth
