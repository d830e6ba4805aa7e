// received_parser.cc — see received_parser.h. The value is split once into a bounded list of
// tokens (words, comments with their nesting resolved, ';'); clauses are read from the tokens
// and every comment is offered to the TLS recognisers. No recursion on the input's nesting.
#include "core/received/received_parser.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <vector>

namespace mailsec::core::received {
namespace {

constexpr char asciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

constexpr bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (asciiLower(a[i]) != asciiLower(b[i])) return false;
  }
  return true;
}

bool istartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

bool iendsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

bool icontains(std::string_view s, std::string_view needle) {
  if (needle.empty()) return true;
  if (s.size() < needle.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= s.size(); ++i) {
    if (iequals(s.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
  return s;
}

// A bounded copy with every run of whitespace (folding included) turned into one space.
std::string collapse(std::string_view s) {
  s = trim(s);
  std::string out;
  out.reserve(std::min(s.size(), kMaxFieldBytes));
  bool space = false;
  for (char c : s) {
    if (out.size() >= kMaxFieldBytes) break;
    if (isSpace(c)) {
      space = true;
      continue;
    }
    if (space) {
      out.push_back(' ');
      space = false;
      if (out.size() >= kMaxFieldBytes) break;
    }
    out.push_back(c);
  }
  return out;
}

void setOnce(std::string& field, std::string_view value) {
  if (field.empty()) field = collapse(value);
}

// A small non-negative decimal at the start of `s` ("256/256" → 256); nullopt when none.
std::optional<int> leadingInt(std::string_view s) {
  int value = 0;
  std::size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') {
    if (digits >= 6) return std::nullopt;
    value = value * 10 + (s[digits] - '0');
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  return value;
}

bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// ---------------------------------------------------------------------------------------------
// Tokens

enum class Kind : std::uint8_t { kWord, kComment, kSemicolon };

struct Token {
  Kind kind;
  std::string_view text;  // a word; a comment's inside without its outer parentheses
  std::size_t end;        // offset just past the token in the tokenised text
};

struct Tokens {
  std::vector<Token> list;
  bool truncated = false;
  bool malformed = false;
};

constexpr bool isWordChar(char c) { return !isSpace(c) && c != '(' && c != ')' && c != ';'; }

Tokens tokenize(std::string_view text, std::size_t max_tokens = kMaxTokens) {
  Tokens out;
  out.list.reserve(32);
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const char c = text[i];
    if (isSpace(c)) {
      ++i;
      continue;
    }
    if (out.list.size() >= max_tokens) {
      out.truncated = true;
      break;
    }
    if (c == '(') {
      // Nesting is counted, not recursed into: a thousand '(' cost a counter, not a stack.
      const std::size_t start = i + 1;
      std::size_t depth = 1;
      std::size_t j = start;
      while (j < n) {
        const char d = text[j];
        if (d == '\\') {
          j += 2;
          continue;
        }
        if (d == '(') {
          ++depth;
        } else if (d == ')') {
          if (--depth == 0) break;
        }
        ++j;
      }
      if (j >= n) {
        out.malformed = true;  // unbalanced: the comment runs to the end
        out.list.push_back({Kind::kComment, text.substr(start), n});
        i = n;
      } else {
        out.list.push_back({Kind::kComment, text.substr(start, j - start), j + 1});
        i = j + 1;
      }
    } else if (c == ')') {
      out.malformed = true;
      ++i;
    } else if (c == ';') {
      out.list.push_back({Kind::kSemicolon, text.substr(i, 1), i + 1});
      ++i;
    } else {
      const std::size_t start = i;
      while (i < n && isWordChar(text[i])) ++i;
      out.list.push_back({Kind::kWord, text.substr(start, i - start), i});
    }
  }
  return out;
}

// The words of a comment's inside, nested comments skipped.
std::vector<std::string_view> wordsOf(std::string_view text, std::size_t max_words = 32) {
  std::vector<std::string_view> words;
  for (const Token& t : tokenize(text, max_words * 2).list) {
    if (t.kind == Kind::kWord && words.size() < max_words) words.push_back(t.text);
  }
  return words;
}

// ---------------------------------------------------------------------------------------------
// Addresses

// Strips "[…]", "IPv6:" and "%zone"; returns the address text when it parses, else empty.
std::string_view addressOf(std::string_view word) {
  if (!word.empty() && word.front() == '[') {
    const std::size_t close = word.find(']');
    if (close == std::string_view::npos) return {};
    word = word.substr(1, close - 1);
  }
  if (istartsWith(word, "IPv6:")) word.remove_prefix(5);
  const std::size_t zone = word.find('%');
  if (zone != std::string_view::npos) word = word.substr(0, zone);
  if (word.empty() || word.size() >= 64) return {};
  std::array<char, 64> buf{};
  std::memcpy(buf.data(), word.data(), word.size());
  std::array<unsigned char, 16> addr{};
  if (inet_pton(AF_INET, buf.data(), addr.data()) == 1) return word;
  if (inet_pton(AF_INET6, buf.data(), addr.data()) == 1) return word;
  return {};
}

// "(rdns [ip])", "([ip] helo=x)", "(helo=x)", "(HELO x) (ip)", "(2a01::1)", "(may be forged)".
void readFromComment(std::string_view text, Hop& hop) {
  const std::vector<std::string_view> words = wordsOf(text);
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string_view w = words[i];
    if (istartsWith(w, "helo=")) {
      setOnce(hop.from_helo, w.substr(5));
    } else if ((iequals(w, "HELO") || iequals(w, "EHLO") || iequals(w, "LHLO")) &&
               i + 1 < words.size()) {
      setOnce(hop.from_helo, words[++i]);
    } else if (const std::string_view ip = addressOf(w); !ip.empty()) {
      if (hop.from_ip.empty()) {
        hop.from_ip = collapse(ip);
        if (i == 1 && addressOf(words[0]).empty() && !istartsWith(words[0], "helo=")) {
          setOnce(hop.from_rdns, words[0]);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// TLS recognisers

struct TlsFacts {
  TlsEvidence evidence = TlsEvidence::kNone;
  std::string_view version;
  std::string_view cipher;
  int bits = 0;
  ClientCert cert = ClientCert::kUnknown;
};

TlsFacts evidenceOnly(TlsEvidence evidence, std::string_view version = {},
                      std::string_view cipher = {}) {
  TlsFacts facts;
  facts.evidence = evidence;
  facts.version = version;
  facts.cipher = cipher;
  return facts;
}

bool looksLikeVersion(std::string_view s) {
  return tls::parseVersion(s) != tls::Version::kOther || istartsWith(s, "TLS") ||
         istartsWith(s, "SSL");
}

// Postfix: "using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange …".
std::optional<TlsFacts> postfixUsing(std::string_view text) {
  if (!istartsWith(text, "using")) return std::nullopt;
  const Tokens tokens = tokenize(text, 16);
  const auto& t = tokens.list;
  if (t.size() < 2 || t[0].kind != Kind::kWord || !iequals(t[0].text, "using") ||
      t[1].kind != Kind::kWord || !looksLikeVersion(t[1].text)) {
    return std::nullopt;
  }
  TlsFacts facts;
  facts.evidence = TlsEvidence::kPostfix;
  facts.version = t[1].text;
  for (std::size_t i = 2; i + 1 < t.size(); ++i) {
    if (t[i].kind == Kind::kWord && iequals(t[i].text, "cipher") && t[i + 1].kind == Kind::kWord) {
      facts.cipher = t[i + 1].text;
      if (i + 2 < t.size() && t[i + 2].kind == Kind::kComment) {
        facts.bits = leadingInt(trim(t[i + 2].text)).value_or(0);
      }
      break;
    }
  }
  return facts;
}

ClientCert sendmailVerify(std::string_view v) {
  if (iequals(v, "OK")) return ClientCert::kVerified;
  if (iequals(v, "NO")) return ClientCert::kNotPresented;
  if (iequals(v, "NOT")) return ClientCert::kNotRequested;
  if (iequals(v, "FAIL")) return ClientCert::kUnverified;
  return ClientCert::kUnknown;
}

// Sendmail "version=TLSv1.3 cipher=… bits=256 verify=NOT", Google "version=TLS1_3 cipher=…
// bits=128/128", Microsoft "version=TLS1_2, cipher=TLS_ECDHE_…".
std::optional<TlsFacts> keyValue(std::string_view text) {
  if (!icontains(text, "cipher=") && !icontains(text, "version=")) return std::nullopt;
  TlsFacts facts;
  bool saw_cipher = false;
  std::size_t i = 0;
  std::size_t items = 0;
  while (i < text.size() && items < 16) {
    while (i < text.size() && (isSpace(text[i]) || text[i] == ',')) ++i;
    const std::size_t start = i;
    while (i < text.size() && !isSpace(text[i]) && text[i] != ',') ++i;
    const std::string_view item = text.substr(start, i - start);
    if (item.empty()) continue;
    ++items;
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = item.substr(eq + 1);
    if (iequals(key, "version")) {
      facts.version = value;
    } else if (iequals(key, "cipher")) {
      facts.cipher = value;
      saw_cipher = true;
    } else if (iequals(key, "bits")) {
      facts.bits = leadingInt(value).value_or(0);
    } else if (iequals(key, "verify")) {
      facts.cert = sendmailVerify(value);
    }
  }
  if (!saw_cipher && !looksLikeVersion(facts.version)) return std::nullopt;
  facts.evidence = TlsEvidence::kKeyValue;
  return facts;
}

// Exim before 4.92 "TLSv1:DES-CBC3-SHA:168"; OpenSMTPD "TLSv1.3:TLS_AES_256_GCM_SHA384:256:NO".
std::optional<TlsFacts> colonForm(std::string_view text) {
  text = trim(text);
  if (text.empty() || text.size() > 200) return std::nullopt;
  if (std::any_of(text.begin(), text.end(), [](char c) { return isSpace(c) || c == '('; })) {
    return std::nullopt;
  }
  std::array<std::string_view, 5> parts{};
  std::size_t count = 0;
  std::size_t start = 0;
  while (count < parts.size()) {
    const std::size_t colon = text.find(':', start);
    parts[count++] = text.substr(start, colon == std::string_view::npos ? colon : colon - start);
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (count < 3 || count > 4 || !looksLikeVersion(parts[0]) || parts[1].empty() ||
      !allDigits(parts[2]) || parts[2].size() > 5) {
    return std::nullopt;
  }
  TlsFacts facts;
  facts.evidence = TlsEvidence::kColon;
  facts.version = parts[0];
  facts.cipher = parts[1];
  facts.bits = leadingInt(parts[2]).value_or(0);
  if (count == 4) {
    // OpenSMTPD writes YES for a verified certificate; NO covers absent and unverified alike.
    if (iequals(parts[3], "YES")) facts.cert = ClientCert::kVerified;
    if (iequals(parts[3], "FAIL")) facts.cert = ClientCert::kUnverified;
  }
  return facts;
}

// qmail-tls: "(DHE-RSA-AES256-SHA encrypted)".
std::optional<TlsFacts> qmailEncrypted(std::string_view text) {
  const std::vector<std::string_view> words = wordsOf(text, 3);
  if (words.size() != 2 || !iequals(words[1], "encrypted")) return std::nullopt;
  TlsFacts facts;
  facts.evidence = TlsEvidence::kQmail;
  facts.cipher = words[0];
  return facts;
}

// The first double-quoted string at or after `from` in `text`; `from` is moved past it.
std::string_view quoted(std::string_view text, std::size_t& from) {
  const std::size_t open = text.find('"', from);
  if (open == std::string_view::npos) return {};
  std::size_t i = open + 1;
  while (i < text.size() && text[i] != '"') i += (text[i] == '\\') ? 2U : 1U;
  const std::size_t close = std::min(i, text.size());
  from = std::min(close + 1, text.size());
  return text.substr(open + 1, close - open - 1);
}

// Postfix client-certificate comments. True when `text` was one.
bool clientCertComment(std::string_view text, Hop& hop) {
  text = trim(text);
  if (iequals(text, "No client certificate requested")) {
    hop.client_cert = ClientCert::kNotRequested;
    return true;
  }
  if (iequals(text, "Client did not present a certificate")) {
    hop.client_cert = ClientCert::kNotPresented;
    return true;
  }
  if (!istartsWith(text, "Client CN")) return false;
  std::size_t pos = 0;
  setOnce(hop.client_subject, quoted(text, pos));
  const std::size_t issuer = text.find("Issuer", pos);
  if (issuer != std::string_view::npos) {
    pos = issuer;
    setOnce(hop.client_issuer, quoted(text, pos));
  }
  if (icontains(text, "(verified OK)")) {
    hop.client_cert = ClientCert::kVerified;
  } else if (icontains(text, "(not verified)")) {
    hop.client_cert = ClientCert::kUnverified;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Clauses

enum class Clause : std::uint8_t { kNone, kFrom, kBy, kVia, kWith, kId, kFor };

Clause keywordOf(std::string_view word) {
  if (iequals(word, "from")) return Clause::kFrom;
  if (iequals(word, "by")) return Clause::kBy;
  if (iequals(word, "via")) return Clause::kVia;
  if (iequals(word, "with")) return Clause::kWith;
  if (iequals(word, "id")) return Clause::kId;
  if (iequals(word, "for")) return Clause::kFor;
  return Clause::kNone;
}

struct ProtocolName {
  std::string_view name;
  Protocol protocol;
};

constexpr std::array<ProtocolName, 27> kProtocolNames{{
    {"SMTP", Protocol::kSMTP},
    {"ESMTP", Protocol::kESMTP},
    {"ESMTPA", Protocol::kESMTPA},
    {"ESMTPS", Protocol::kESMTPS},
    {"ESMTPSA", Protocol::kESMTPSA},
    {"LMTP", Protocol::kLMTP},
    {"LMTPA", Protocol::kLMTPA},
    {"LMTPS", Protocol::kLMTPS},
    {"LMTPSA", Protocol::kLMTPSA},
    {"UTF8SMTP", Protocol::kUTF8SMTP},
    {"UTF8SMTPA", Protocol::kUTF8SMTPA},
    {"UTF8SMTPS", Protocol::kUTF8SMTPS},
    {"UTF8SMTPSA", Protocol::kUTF8SMTPSA},
    {"UTF8LMTP", Protocol::kUTF8LMTP},
    {"UTF8LMTPA", Protocol::kUTF8LMTPA},
    {"UTF8LMTPS", Protocol::kUTF8LMTPS},
    {"UTF8LMTPSA", Protocol::kUTF8LMTPSA},
    {"SMTPS", Protocol::kSMTPS},
    {"HTTP", Protocol::kHTTP},
    {"HTTPS", Protocol::kHTTPS},
    {"local", Protocol::kLocal},
    {"MAPI", Protocol::kMAPI},
    {"IMAP", Protocol::kIMAP},
    {"POP3", Protocol::kPOP3},
    {"SMTPSVC", Protocol::kSMTPSVC},
    {"Microsoft SMTPSVC", Protocol::kSMTPSVC},
    {"Microsoft SMTP Server", Protocol::kExchange},
}};

}  // namespace

Protocol parseProtocol(std::string_view token) {
  for (const ProtocolName& p : kProtocolNames) {
    if (iequals(token, p.name)) return p.protocol;
  }
  // Exim: "local-esmtp", "local-smtp", "local-bsmtp" (sendmail -bs from a local process).
  if (istartsWith(token, "local-")) return Protocol::kLocal;
  return Protocol::kOther;
}

HopTls protocolTls(Protocol protocol) {
  switch (protocol) {
    case Protocol::kSMTP:
    case Protocol::kESMTP:
    case Protocol::kESMTPA:
    case Protocol::kLMTP:
    case Protocol::kLMTPA:
    case Protocol::kUTF8SMTP:
    case Protocol::kUTF8SMTPA:
    case Protocol::kUTF8LMTP:
    case Protocol::kUTF8LMTPA:
    case Protocol::kHTTP:
      return HopTls::kFalse;
    case Protocol::kESMTPS:
    case Protocol::kESMTPSA:
    case Protocol::kLMTPS:
    case Protocol::kLMTPSA:
    case Protocol::kUTF8SMTPS:
    case Protocol::kUTF8SMTPSA:
    case Protocol::kUTF8LMTPS:
    case Protocol::kUTF8LMTPSA:
    case Protocol::kSMTPS:
    case Protocol::kHTTPS:
      return HopTls::kTrue;
    default:
      return HopTls::kUnknown;
  }
}

HopAuth protocolAuth(Protocol protocol) {
  switch (protocol) {
    case Protocol::kSMTP:
    case Protocol::kESMTP:
    case Protocol::kESMTPS:
    case Protocol::kLMTP:
    case Protocol::kLMTPS:
    case Protocol::kUTF8SMTP:
    case Protocol::kUTF8SMTPS:
    case Protocol::kUTF8LMTP:
    case Protocol::kUTF8LMTPS:
      return HopAuth::kFalse;
    case Protocol::kESMTPA:
    case Protocol::kESMTPSA:
    case Protocol::kLMTPA:
    case Protocol::kLMTPSA:
    case Protocol::kUTF8SMTPA:
    case Protocol::kUTF8SMTPSA:
    case Protocol::kUTF8LMTPA:
    case Protocol::kUTF8LMTPSA:
      return HopAuth::kTrue;
    default:
      return HopAuth::kUnknown;
  }
}

std::string_view analyserCipherName(std::string_view cipher) {
  // LibreSSL names the TLS 1.3 suites differently from RFC 8446 and OpenSSL.
  if (iequals(cipher, "AEAD-AES128-GCM-SHA256")) return "TLS_AES_128_GCM_SHA256";
  if (iequals(cipher, "AEAD-AES256-GCM-SHA384")) return "TLS_AES_256_GCM_SHA384";
  if (iequals(cipher, "AEAD-CHACHA20-POLY1305-SHA256")) return "TLS_CHACHA20_POLY1305_SHA256";
  // Microsoft appends the ECDHE curve: TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384_P384.
  for (std::string_view curve : {"_P256", "_P384", "_P521"}) {
    if (iendsWith(cipher, curve) && istartsWith(cipher, "TLS_")) {
      return cipher.substr(0, cipher.size() - curve.size());
    }
  }
  return cipher;
}

bool isLoopbackAddress(std::string_view text) {
  const std::string_view addr = addressOf(text);
  if (addr.empty()) return false;
  std::array<char, 64> buf{};
  std::memcpy(buf.data(), addr.data(), addr.size());
  std::array<unsigned char, 16> bytes{};
  if (inet_pton(AF_INET, buf.data(), bytes.data()) == 1) return bytes[0] == 127;
  if (inet_pton(AF_INET6, buf.data(), bytes.data()) != 1) return false;
  const bool zero10 =
      std::all_of(bytes.begin(), bytes.begin() + 10, [](unsigned char b) { return b == 0; });
  if (zero10 && bytes[10] == 0 && bytes[11] == 0 &&
      std::all_of(bytes.begin() + 12, bytes.begin() + 15, [](unsigned char b) { return b == 0; })) {
    return bytes[15] == 1;  // ::1
  }
  if (zero10 && bytes[10] == 0xff && bytes[11] == 0xff) return bytes[12] == 127;  // ::ffff:127/8
  return false;
}

Hop parseReceived(std::string_view value) {
  Hop hop;
  if (value.size() > kMaxValueBytes) {
    value = value.substr(0, kMaxValueBytes);
    hop.truncated = true;
  }
  const Tokens tokens = tokenize(value);
  hop.truncated = hop.truncated || tokens.truncated;
  hop.malformed = tokens.malformed;
  const std::vector<Token>& t = tokens.list;

  // The date follows the last top-level ';' (RFC 5321 §4.4).
  std::size_t clause_end = t.size();
  for (std::size_t i = t.size(); i-- > 0;) {
    if (t[i].kind == Kind::kSemicolon) {
      clause_end = i;
      hop.date = collapse(value.substr(t[i].end));
      break;
    }
  }

  std::optional<TlsFacts> facts;
  auto offer = [&facts](std::optional<TlsFacts> f) {
    if (!facts && f) facts = f;
  };

  Clause clause = Clause::kNone;
  bool expecting = false;  // the clause keyword has been seen, its value not yet
  bool any_clause = false;
  bool local_form = false;
  std::size_t with_first = 0;  // index of the WITH protocol word
  bool with_seen = false;
  std::string_view exim_version;  // "(TLS1.3)" inside the WITH clause

  for (std::size_t i = 0; i < clause_end; ++i) {
    const Token& tok = t[i];
    if (tok.kind == Kind::kSemicolon) {
      clause = Clause::kNone;
      expecting = false;
      continue;
    }
    if (tok.kind == Kind::kComment) {
      if (clause == Clause::kFrom) readFromComment(tok.text, hop);
      if (clause == Clause::kBy && !expecting && hop.by_comment.empty() && i > 0 &&
          t[i - 1].kind == Kind::kWord) {
        hop.by_comment = collapse(tok.text);
        if (icontains(tok.text, "from userid")) local_form = true;  // Postfix pickup
      }
      if (clause == Clause::kNone && i == 0 && istartsWith(trim(tok.text), "from ")) {
        local_form = true;  // Sendmail "(from user@localhost) by host": a local submission
      }
      if (clause == Clause::kWith) {
        const std::string_view inner = trim(tok.text);
        if (iequals(inner, "TLS")) offer(evidenceOnly(TlsEvidence::kExchangeTls));
        if (tls::parseVersion(inner) != tls::Version::kOther && exim_version.empty()) {
          exim_version = inner;
        }
      }
      continue;
    }
    // A word.
    const Clause keyword = keywordOf(tok.text);
    if (keyword != Clause::kNone) {
      clause = keyword;
      expecting = true;
      any_clause = true;
      continue;
    }
    if (expecting) {
      expecting = false;
      switch (clause) {
        case Clause::kFrom:
          setOnce(hop.from, tok.text);
          break;
        case Clause::kBy:
          setOnce(hop.by, tok.text);
          break;
        case Clause::kVia:
          setOnce(hop.via, tok.text);
          break;
        case Clause::kId:
          setOnce(hop.id, tok.text);
          break;
        case Clause::kFor:
          setOnce(hop.for_recipient, tok.text);
          break;
        case Clause::kWith:
          if (!with_seen) {
            with_seen = true;
            with_first = i;
          }
          break;
        case Clause::kNone:
          break;
      }
      continue;
    }
    // A word that is no clause's value.
    if (clause == Clause::kFrom && hop.from_ip.empty() && !tok.text.empty() &&
        tok.text.front() == '[') {
      // fetchmail and old Exim: "from host [192.0.2.1] by …" (the address outside a comment).
      const std::string_view ip = addressOf(tok.text);
      if (!ip.empty()) hop.from_ip = collapse(ip);
    }
    if (i + 3 < clause_end && iequals(tok.text, "over") && t[i + 1].kind == Kind::kWord &&
        iequals(t[i + 1].text, "TLS") && t[i + 2].kind == Kind::kWord &&
        iequals(t[i + 2].text, "secured") && t[i + 3].kind == Kind::kWord &&
        iequals(t[i + 3].text, "channel")) {
      offer(evidenceOnly(TlsEvidence::kOverTlsChannel));
    }
    if (clause == Clause::kWith && iequals(tok.text, "tls") && i + 1 < clause_end &&
        t[i + 1].kind == Kind::kWord && keywordOf(t[i + 1].text) == Clause::kNone) {
      // Exim ≥ 4.92: "with esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384".
      offer(evidenceOnly(TlsEvidence::kExim, exim_version, t[i + 1].text));
    }
  }
  if (!exim_version.empty()) offer(evidenceOnly(TlsEvidence::kExim, exim_version));

  // The WITH protocol, with the multi-word and slash forms.
  if (with_seen) {
    const std::string_view first = t[with_first].text;
    if (iequals(first, "Microsoft")) {
      std::string joined(first);
      for (std::size_t j = with_first + 1; j < clause_end && j < with_first + 3; ++j) {
        if (t[j].kind != Kind::kWord || keywordOf(t[j].text) != Clause::kNone) break;
        joined.append(" ").append(t[j].text);
      }
      hop.with = collapse(joined);
      hop.protocol = parseProtocol(hop.with);
    } else if (const std::size_t slash = first.find('/'); slash != std::string_view::npos) {
      hop.with = collapse(first);
      hop.protocol = parseProtocol(first.substr(0, slash));
      const std::string_view rest = first.substr(slash + 1);
      if (istartsWith(rest, "TLS/") && rest.size() > 4) {
        offer(evidenceOnly(TlsEvidence::kSlash, {}, rest.substr(4)));
      } else {
        hop.protocol = Protocol::kOther;
      }
    } else {
      hop.with = collapse(first);
      hop.protocol = parseProtocol(first);
    }
  }

  // Every comment, the date part's included (some MTAs put the TLS comment after the ';').
  bool qmail_local = false;
  bool qmail_form = false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i].kind != Kind::kComment) continue;
    const std::string_view text = trim(t[i].text);
    if (clientCertComment(text, hop)) continue;
    if (istartsWith(text, "Authenticated sender:") || icontains(text, "authenticated user") ||
        iendsWith(text, " with login")) {
      hop.authenticated = HopAuth::kTrue;
      continue;
    }
    if (i == 0 && istartsWith(text, "qmail ") && icontains(text, " invoked ")) {
      // "(qmail 1234 invoked by uid 505)", "(… invoked for bounce)": a local program injected
      // the message. "invoked from network" is qmail-smtpd's, paired with the SMTP header.
      qmail_form = true;
      qmail_local = !icontains(text, "invoked from network");
      continue;
    }
    offer(postfixUsing(text));
    offer(keyValue(text));
    offer(colonForm(text));
    offer(qmailEncrypted(text));
  }

  if (!with_seen && (local_form || qmail_local)) hop.protocol = Protocol::kLocal;
  if (!any_clause && !qmail_form && !local_form) hop.malformed = true;

  // TLS: recognised evidence wins; then what the protocol says.
  const HopTls by_protocol = protocolTls(hop.protocol);
  if (facts) {
    hop.tls = HopTls::kTrue;
    hop.tls_evidence = facts->evidence;
    hop.tls_version_raw = collapse(facts->version);
    hop.cipher = collapse(facts->cipher);
    hop.cipher_bits = facts->bits;
    if (facts->cert != ClientCert::kUnknown) hop.client_cert = facts->cert;
    if (!hop.tls_version_raw.empty() || !hop.cipher.empty()) {
      hop.profile = tls::analyse(hop.tls_version_raw, analyserCipherName(hop.cipher));
    }
  } else if (by_protocol != HopTls::kUnknown) {
    hop.tls = by_protocol;
    hop.tls_evidence = TlsEvidence::kProtocol;
  } else if (hop.protocol == Protocol::kExchange || hop.protocol == Protocol::kSMTPSVC) {
    // Exchange and IIS write their TLS details whenever the session had TLS.
    hop.tls = HopTls::kFalse;
    hop.tls_evidence = TlsEvidence::kVendorNoTls;
  }

  if (hop.authenticated == HopAuth::kUnknown) hop.authenticated = protocolAuth(hop.protocol);

  if (hop.from_ip.empty()) {
    const std::string_view ip = addressOf(hop.from);
    if (!ip.empty()) hop.from_ip = collapse(ip);
  }
  hop.loopback = isLoopbackAddress(hop.from_ip);
  return hop;
}

}  // namespace mailsec::core::received
