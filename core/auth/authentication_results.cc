#include "core/auth/authentication_results.h"

#include <algorithm>
#include <cstdint>

namespace mailsec::core::auth {
namespace {

constexpr std::size_t kMaxFields = 32;
constexpr std::size_t kMaxFieldBytes = 16 * 1024;
constexpr std::size_t kMaxResults = 64;  // resinfo per field
constexpr std::size_t kMaxDkimResults = 16;
constexpr std::size_t kMaxDomain = 253;
constexpr std::size_t kMaxCommentDepth = 8;

enum class TokenKind : std::uint8_t { kWord, kQuoted, kEquals, kSemicolon, kComment };

struct Token {
  TokenKind kind;
  std::string text;
};

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

std::string lowerCopy(std::string_view text, std::size_t max = std::string::npos) {
  std::string out(text.substr(0, std::min(max, text.size())));
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool isWordChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7f && c != '(' && c != ')' && c != ';' && c != '=' && c != '"';
}

// RFC 5322 CFWS, quoted-strings, "=", ";" and words (RFC 2045 tokens widened to take the
// "@" and "/" of property values and method versions). Malformed input ends the list early.
std::vector<Token> tokenize(std::string_view text) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (isSpace(c)) {
      ++i;
    } else if (c == '(') {
      std::size_t depth = 0;
      std::string comment;
      for (; i < text.size(); ++i) {
        const char d = text[i];
        if (d == '\\' && i + 1 < text.size()) {
          comment.push_back(text[++i]);
          continue;
        }
        if (d == '(') {
          if (++depth > kMaxCommentDepth) return tokens;
          if (depth == 1) continue;
        } else if (d == ')') {
          if (--depth == 0) break;
        }
        comment.push_back(d);
      }
      if (depth != 0) return tokens;  // unterminated comment
      ++i;
      tokens.push_back({TokenKind::kComment, std::move(comment)});
    } else if (c == '"') {
      std::string quoted;
      ++i;
      bool closed = false;
      for (; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) {
          quoted.push_back(text[++i]);
        } else if (text[i] == '"') {
          closed = true;
          ++i;
          break;
        } else {
          quoted.push_back(text[i]);
        }
      }
      if (!closed) return tokens;
      tokens.push_back({TokenKind::kQuoted, std::move(quoted)});
    } else if (c == '=') {
      tokens.push_back({TokenKind::kEquals, {}});
      ++i;
    } else if (c == ';') {
      tokens.push_back({TokenKind::kSemicolon, {}});
      ++i;
    } else if (c == ')') {
      return tokens;  // stray close of a comment
    } else {
      const std::size_t start = i;
      while (i < text.size() && isWordChar(text[i])) ++i;
      if (i == start) {
        ++i;  // a control character: no token
        continue;
      }
      tokens.push_back({TokenKind::kWord, std::string(text.substr(start, i - start))});
    }
  }
  return tokens;
}

// One "method=result" with its reason, properties and comments.
struct ResultInfo {
  std::string method;  // lowercased, method-version removed
  std::string result;  // lowercased
  std::string reason;  // lowercased
  std::vector<std::pair<std::string, std::string>> properties;  // "header.d" → value
  std::string comments;                                         // lowercased, joined
  std::string_view property(std::string_view name) const {
    for (const auto& [key, value] : properties) {
      if (key == name) return value;
    }
    return {};
  }
};

struct ParsedField {
  std::string authserv_id;
  std::vector<ResultInfo> results;
};

bool isValue(const Token& t) { return t.kind == TokenKind::kWord || t.kind == TokenKind::kQuoted; }

std::optional<ParsedField> parseField(std::string_view value) {
  // CFWS may sit between any two tokens (RFC 8601 §2.2): drop comments from the stream and
  // keep each one's text with the result it appeared in.
  std::vector<Token> tokens;
  std::vector<std::string> comments;  // comments[i]: those following tokens[i]
  for (Token& t : tokenize(value.substr(0, kMaxFieldBytes))) {
    if (t.kind == TokenKind::kComment) {
      if (!comments.empty() && comments.back().size() < 1024) {
        comments.back() += " " + lowerCopy(t.text, 512);
      }
      continue;
    }
    tokens.push_back(std::move(t));
    comments.emplace_back();
  }
  std::size_t i = 0;
  if (tokens.empty() || !isValue(tokens[0]) || tokens[0].text.empty()) return std::nullopt;
  ParsedField field;
  field.authserv_id = lowerCopy(tokens[0].text, kMaxDomain);
  // Everything up to the first ";" is the optional authres-version.
  while (i < tokens.size() && tokens[i].kind != TokenKind::kSemicolon) ++i;
  while (i < tokens.size() && field.results.size() < kMaxResults) {
    const std::size_t semicolon = i++;
    ResultInfo info;
    info.comments = comments[semicolon];
    if (i < tokens.size() && tokens[i].kind == TokenKind::kWord) {
      info.method = lowerCopy(tokens[i].text, 64);
      if (const auto slash = info.method.find('/'); slash != std::string::npos) {
        info.method.resize(slash);
      }
      info.comments += comments[i];
      ++i;
      if (i + 1 < tokens.size() && tokens[i].kind == TokenKind::kEquals && isValue(tokens[i + 1])) {
        info.result = lowerCopy(tokens[i + 1].text, 64);
        info.comments += comments[i] + comments[i + 1];
        i += 2;
      }
    }
    // reasonspec and propspecs, to the next ";".
    while (i < tokens.size() && tokens[i].kind != TokenKind::kSemicolon) {
      info.comments += comments[i];
      if (tokens[i].kind == TokenKind::kWord && i + 2 < tokens.size() &&
          tokens[i + 1].kind == TokenKind::kEquals && isValue(tokens[i + 2])) {
        info.comments += comments[i + 1] + comments[i + 2];
        const std::string key = lowerCopy(tokens[i].text, 64);
        if (key == "reason") {
          info.reason = lowerCopy(tokens[i + 2].text, 512);
        } else if (info.properties.size() < 16) {
          info.properties.emplace_back(key, tokens[i + 2].text.substr(0, 512));
        }
        i += 3;
      } else {
        ++i;
      }
    }
    if (info.comments.size() > 2048) info.comments.resize(2048);
    if (!info.method.empty() && !info.result.empty()) field.results.push_back(std::move(info));
  }
  return field;
}

bool contains(std::string_view text, std::string_view what) {
  return text.find(what) != std::string_view::npos;
}

std::string domainOf(std::string_view identity) {
  const auto at = identity.rfind('@');
  if (at != std::string_view::npos) identity.remove_prefix(at + 1);
  return lowerCopy(identity, kMaxDomain);
}

std::optional<SpfVerdict> spfOf(const ResultInfo& info) {
  static constexpr std::pair<std::string_view, SpfResult> kResults[] = {
      {"pass", SpfResult::kPass},           {"fail", SpfResult::kFail},
      {"hardfail", SpfResult::kFail},       {"softfail", SpfResult::kSoftfail},
      {"neutral", SpfResult::kNeutral},     {"none", SpfResult::kNone},
      {"temperror", SpfResult::kTemperror}, {"permerror", SpfResult::kPermerror},
  };
  SpfVerdict verdict;
  bool known = false;
  for (const auto& [name, result] : kResults) {
    if (info.result == name) {
      verdict.result = result;
      known = true;
    }
  }
  if (!known) return std::nullopt;
  if (verdict.result == SpfResult::kTemperror) verdict.error = SpfError::kDnsTemporary;
  if (verdict.result == SpfResult::kPermerror) verdict.error = SpfError::kOther;
  if (const auto from = info.property("smtp.mailfrom"); !from.empty()) {
    verdict.domain = domainOf(from);
  } else if (const auto helo = info.property("smtp.helo"); !helo.empty()) {
    verdict.identity = SpfIdentity::kHelo;
    verdict.domain = domainOf(helo);
  }
  return verdict;
}

DkimReason dkimReasonOf(std::string_view text) {
  if (contains(text, "body hash")) return DkimReason::kBodyHashMismatch;
  if (contains(text, "too few key bits") || contains(text, "key too small") ||
      contains(text, "key too short") || contains(text, "too small")) {
    return DkimReason::kKeyTooSmall;
  }
  if (contains(text, "revoked")) return DkimReason::kKeyRevoked;
  if (contains(text, "no key") || contains(text, "key not found") ||
      contains(text, "not found in dns") || contains(text, "no record")) {
    return DkimReason::kKeyNotFound;
  }
  if (contains(text, "expired")) return DkimReason::kExpired;
  if (contains(text, "algorithm")) return DkimReason::kUnsupportedAlgorithm;
  if (contains(text, "signature") &&
      (contains(text, "fail") || contains(text, "did not verify") || contains(text, "bad"))) {
    return DkimReason::kSignatureMismatch;
  }
  if (contains(text, "syntax") || contains(text, "malformed") || contains(text, "invalid")) {
    return DkimReason::kSyntax;
  }
  return DkimReason::kOther;
}

// "(2048-bit key; ...)" as OpenDKIM writes it.
std::uint32_t keyBitsOf(std::string_view comments) {
  const auto at = comments.find("-bit key");
  if (at == std::string_view::npos) return 0;
  std::size_t start = at;
  while (start > 0 && comments[start - 1] >= '0' && comments[start - 1] <= '9') --start;
  if (start == at || at - start > 5) return 0;
  std::uint32_t bits = 0;
  for (std::size_t k = start; k < at; ++k) {
    bits = bits * 10 + static_cast<std::uint32_t>(comments[k] - '0');
  }
  return bits;
}

std::optional<DkimVerdict> dkimOf(const ResultInfo& info) {
  DkimVerdict verdict;
  const std::string text = info.reason + " " + info.comments;
  if (info.result == "pass") {
    verdict.result = DkimResult::kPass;
    verdict.reason = DkimReason::kNone;
  } else if (info.result == "fail") {
    verdict.result = DkimResult::kFail;
    verdict.reason = dkimReasonOf(text);
  } else if (info.result == "temperror") {
    verdict.result = DkimResult::kTemperror;
    verdict.reason = DkimReason::kOther;
  } else if (info.result == "permerror" || info.result == "policy") {
    verdict.result = DkimResult::kPermerror;
    verdict.reason = dkimReasonOf(text);
  } else if (info.result == "neutral") {
    verdict.result = DkimResult::kPermerror;
    const DkimReason reason = dkimReasonOf(text);
    verdict.reason = reason == DkimReason::kOther ? DkimReason::kSyntax : reason;
  } else {
    return std::nullopt;  // none, or not an RFC 8601 result
  }
  const std::string_view a = info.property("header.a");
  verdict.algorithm = a == "rsa-sha256"       ? DkimAlgorithm::kRsaSha256
                      : a == "rsa-sha1"       ? DkimAlgorithm::kRsaSha1
                      : a == "ed25519-sha256" ? DkimAlgorithm::kEd25519Sha256
                                              : DkimAlgorithm::kOther;
  if (const auto d = info.property("header.d"); !d.empty()) {
    verdict.domain = lowerCopy(d, kMaxDomain);
  } else if (const auto i = info.property("header.i"); !i.empty()) {
    verdict.domain = domainOf(i);
  }
  verdict.key_bits = keyBitsOf(info.comments);
  return verdict;
}

std::optional<DmarcPolicy> policyWord(std::string_view word) {
  if (word.starts_with("reject")) return DmarcPolicy::kReject;
  if (word.starts_with("quarantine")) return DmarcPolicy::kQuarantine;
  if (word.starts_with("none")) return DmarcPolicy::kNone;
  return std::nullopt;
}

std::optional<DmarcVerdict> dmarcOf(const ResultInfo& info) {
  DmarcVerdict verdict;
  if (info.result == "pass") {
    verdict.result = DmarcResult::kPass;
  } else if (info.result == "fail") {
    verdict.result = DmarcResult::kFail;
  } else if (info.result == "none" || info.result == "permerror") {
    verdict.result = DmarcResult::kNone;
  } else if (info.result == "temperror") {
    verdict.result = DmarcResult::kTemperror;
  } else {
    return std::nullopt;
  }
  std::optional<DmarcPolicy> policy;
  for (const char* key : {"policy.dmarc", "policy.published-domain-policy"}) {
    if (!policy) policy = policyWord(lowerCopy(info.property(key), 16));
  }
  // OpenDMARC: "(p=reject dis=none)"; rspamd: "(policy=reject)".
  for (const std::string_view tag : {std::string_view(" p="), std::string_view("policy=")}) {
    const std::string padded = " " + info.comments;
    if (const auto at = padded.find(tag); !policy && at != std::string::npos) {
      policy = policyWord(std::string_view(padded).substr(at + tag.size()));
    }
  }
  // A pass or fail needs a record; when the field does not say which policy it had, say the
  // mildest (p=none) rather than absent.
  verdict.policy = policy.value_or(verdict.result == DmarcResult::kNone ? DmarcPolicy::kAbsent
                                                                        : DmarcPolicy::kNone);
  if (const auto pct = info.comments.find("pct="); pct != std::string::npos) {
    verdict.partial = info.comments.compare(pct + 4, 3, "100") != 0;
  }
  verdict.from_domain = domainOf(info.property("header.from"));
  return verdict;
}

bool trusted(std::string_view id, const std::vector<std::string>& trusted_ids) {
  return std::any_of(trusted_ids.begin(), trusted_ids.end(),
                     [&](const std::string& t) { return lowerCopy(t) == id; });
}

}  // namespace

std::optional<std::string> authservId(std::string_view header_value) {
  const auto field = parseField(header_value);
  if (!field) return std::nullopt;
  return field->authserv_id;
}

std::optional<TrustedResults> readTrustedResults(std::span<const std::string_view> header_values,
                                                 const std::vector<std::string>& trusted_ids,
                                                 std::size_t& ignored_untrusted) {
  std::optional<TrustedResults> out;
  std::size_t read = 0;
  bool dkim_reported = false;
  for (const std::string_view value : header_values) {
    if (read++ == kMaxFields) {
      ignored_untrusted += header_values.size() - kMaxFields;
      break;
    }
    const auto field = parseField(value);
    if (!field || !trusted(field->authserv_id, trusted_ids)) {
      ++ignored_untrusted;
      continue;
    }
    if (!out) {
      out.emplace();
      out->verdicts.source = VerdictSource::kAuthenticationResults;
      out->authserv_id = field->authserv_id;
    }
    ++out->trusted_fields;
    AuthVerdicts& verdicts = out->verdicts;
    const bool take_dkim = !dkim_reported;
    for (const ResultInfo& info : field->results) {
      if (info.method == "spf" && !verdicts.spf) {
        verdicts.spf = spfOf(info);
      } else if (info.method == "dkim" && take_dkim) {
        dkim_reported = true;  // even "dkim=none": older fields do not add signatures
        auto dkim = dkimOf(info);
        if (dkim && verdicts.dkim.size() < kMaxDkimResults)
          verdicts.dkim.push_back(std::move(*dkim));
      } else if (info.method == "dmarc" && !verdicts.dmarc) {
        verdicts.dmarc = dmarcOf(info);
      }
    }
  }
  return out;
}

std::optional<AuthVerdicts> readAuthenticationResults(
    std::span<const std::string_view> header_values, const std::vector<std::string>& trusted_ids,
    std::size_t& ignored_untrusted) {
  auto results = readTrustedResults(header_values, trusted_ids, ignored_untrusted);
  if (!results) return std::nullopt;
  return std::move(results->verdicts);
}

}  // namespace mailsec::core::auth
