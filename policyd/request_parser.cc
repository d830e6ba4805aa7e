#include "policyd/request_parser.h"

#include <array>
#include <cstdint>

namespace mailsec::policyd {
namespace {

constexpr std::size_t kMaxNameLength = 64;

// The attributes mailsec reads, and where each one goes. A duplicate of one of these is an
// error (Postfix never sends one, and "which one wins" must not be a question).
struct Field {
  std::string_view name;
  std::string_view Request::*member;
};

constexpr std::array<Field, 19> kFields{{
    {"request", &Request::request},
    {"protocol_state", &Request::protocol_state},
    {"client_address", &Request::client_address},
    {"client_port", &Request::client_port},
    {"server_address", &Request::server_address},
    {"server_port", &Request::server_port},
    {"helo_name", &Request::helo_name},
    {"client_name", &Request::client_name},
    {"sender", &Request::sender},
    {"queue_id", &Request::queue_id},
    {"instance", &Request::instance},
    {"encryption_protocol", &Request::encryption_protocol},
    {"encryption_cipher", &Request::encryption_cipher},
    {"encryption_keysize", &Request::encryption_keysize},
    {"ccert_subject", &Request::ccert_subject},
    {"ccert_issuer", &Request::ccert_issuer},
    {"ccert_fingerprint", &Request::ccert_fingerprint},
    {"ccert_pubkey_fingerprint", &Request::ccert_pubkey_fingerprint},
    {"policy_context", &Request::policy_context},
}};
static_assert(kFields.size() <= 32, "the duplicate mask is 32 bits");

bool validName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (const char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

}  // namespace

std::string_view describe(RequestError error) {
  switch (error) {
    case RequestError::kNone:
      return "no error";
    case RequestError::kLineTooLong:
      return "line too long";
    case RequestError::kTooManyAttributes:
      return "too many attributes";
    case RequestError::kRequestTooLarge:
      return "request too large";
    case RequestError::kMalformedLine:
      return "malformed line (no name=value)";
    case RequestError::kDuplicate:
      return "duplicate attribute";
    case RequestError::kMissingRequest:
      return "no request= attribute";
    case RequestError::kWrongRequest:
      return "request= is not smtpd_access_policy";
    case RequestError::kTruncated:
      return "connection closed in the middle of a request";
    case RequestError::kFlood:
      return "too much input without an end of request";
  }
  return "unknown error";
}

ParseResult parseRequest(std::string_view lines, const Limits& limits) {
  ParseResult result;
  if (lines.size() > limits.max_request) {
    result.error = RequestError::kRequestTooLarge;
    return result;
  }
  Request& r = result.request;
  std::uint32_t seen = 0;
  std::size_t pos = 0;
  while (pos < lines.size()) {
    const std::size_t newline = lines.find('\n', pos);
    const std::size_t end = newline == std::string_view::npos ? lines.size() : newline;
    std::string_view line = lines.substr(pos, end - pos);
    pos = end + 1;
    // The bound is on the line without its '\r', as in RequestReader.
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > limits.max_line) {
      result.error = RequestError::kLineTooLong;
      return result;
    }
    if (++r.attributes > limits.max_attributes) {
      result.error = RequestError::kTooManyAttributes;
      return result;
    }
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos || !validName(line.substr(0, eq))) {
      result.error = RequestError::kMalformedLine;
      return result;
    }
    const std::string_view name = line.substr(0, eq);
    for (std::size_t i = 0; i < kFields.size(); ++i) {
      if (kFields[i].name != name) continue;
      const std::uint32_t bit = std::uint32_t{1} << i;
      if ((seen & bit) != 0) {
        result.error = RequestError::kDuplicate;
        return result;
      }
      seen |= bit;
      r.*(kFields[i].member) = line.substr(eq + 1);
      break;
    }
  }
  if ((seen & 1u) == 0) {
    result.error = RequestError::kMissingRequest;
  } else if (r.request != "smtpd_access_policy") {
    result.error = RequestError::kWrongRequest;
  }
  return result;
}

core::SmtpStage parseStage(std::string_view state) {
  using core::SmtpStage;
  static constexpr std::array<std::pair<std::string_view, SmtpStage>, 9> kStages{{
      {"RCPT", SmtpStage::kRcpt},
      {"END-OF-MESSAGE", SmtpStage::kEndOfMessage},
      {"DATA", SmtpStage::kData},
      {"CONNECT", SmtpStage::kConnect},
      {"EHLO", SmtpStage::kEhlo},
      {"HELO", SmtpStage::kHelo},
      {"MAIL", SmtpStage::kMail},
      {"VRFY", SmtpStage::kVrfy},
      {"ETRN", SmtpStage::kEtrn},
  }};
  for (const auto& [name, stage] : kStages) {
    if (name == state) return stage;
  }
  return SmtpStage::kOther;
}

}  // namespace mailsec::policyd
