// inspect_format.cc — see inspect_format.h.
#include "report/inspect_format.h"

#include <array>
#include <cstdint>
#include <string>

#include "core/closed_set.h"

namespace mailsec::report {
namespace {

using core::toLabel;
using core::received::Hop;
using core::received::HopAuth;
using core::received::HopPosition;
using core::received::HopTls;
using core::received::MessageAnalysis;

// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 when the byte there does not start one.
std::size_t utf8Length(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  std::size_t len = 0;
  std::uint32_t cp = 0;
  std::uint32_t min = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1FU;
    min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0FU;
    min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07U;
    min = 0x10000;
  } else {
    return 0;
  }
  if (len > s.size() - i) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0U) != 0x80U) return 0;
    cp = (cp << 6U) | (b & 0x3FU);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

void appendHex4(std::string& out, unsigned value) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) {
    out.push_back(kHex[(value >> static_cast<unsigned>(shift)) & 0xFU]);
  }
}

// Keys are fixed ASCII; values go through jsonString.
class JsonObject {
 public:
  explicit JsonObject(std::string& out) : out_(out) { out_.push_back('{'); }
  void key(std::string_view name) {
    if (!first_) out_.push_back(',');
    first_ = false;
    out_ += jsonString(name);
    out_.push_back(':');
  }
  void string(std::string_view name, std::string_view value) {
    key(name);
    out_ += jsonString(value);
  }
  // An empty string is written as null.
  void optionalString(std::string_view name, std::string_view value) {
    key(name);
    out_ += value.empty() ? std::string("null") : jsonString(value);
  }
  void boolean(std::string_view name, bool value) {
    key(name);
    out_ += value ? "true" : "false";
  }
  void number(std::string_view name, std::size_t value) {
    key(name);
    out_ += std::to_string(value);
  }
  void null(std::string_view name) {
    key(name);
    out_ += "null";
  }
  void raw(std::string_view name, std::string_view json) {
    key(name);
    out_ += json;
  }
  void close() { out_.push_back('}'); }

 private:
  std::string& out_;
  bool first_ = true;
};

std::string_view triJson(HopTls value) {
  switch (value) {
    case HopTls::kTrue:
      return "true";
    case HopTls::kFalse:
      return "false";
    case HopTls::kUnknown:
      break;
  }
  return "null";
}

std::string_view triJson(HopAuth value) {
  switch (value) {
    case HopAuth::kTrue:
      return "true";
    case HopAuth::kFalse:
      return "false";
    case HopAuth::kUnknown:
      break;
  }
  return "null";
}

bool hasTlsDetails(const Hop& hop) { return !hop.tls_version_raw.empty() || !hop.cipher.empty(); }

void hopJson(std::string& out, const Hop& hop, std::size_t index, HopPosition position) {
  JsonObject o(out);
  o.number("index", index);
  o.string("position", toLabel(position));
  o.optionalString("from", hop.from);
  o.optionalString("from_rdns", hop.from_rdns);
  o.optionalString("from_ip", hop.from_ip);
  o.optionalString("from_helo", hop.from_helo);
  o.optionalString("by", hop.by);
  o.optionalString("by_comment", hop.by_comment);
  o.optionalString("via", hop.via);
  o.optionalString("with", hop.with);
  o.string("protocol", toLabel(hop.protocol));
  o.raw("tls", triJson(hop.tls));
  o.string("tls_evidence", toLabel(hop.tls_evidence));
  if (hop.profile.version != core::tls::Version::kOther) {
    o.string("tls_version", toLabel(hop.profile.version));
  } else {
    o.null("tls_version");
  }
  o.optionalString("tls_version_raw", hop.tls_version_raw);
  o.optionalString("cipher", hop.cipher);
  if (hop.cipher_bits > 0) {
    o.number("cipher_bits", static_cast<std::size_t>(hop.cipher_bits));
  } else {
    o.null("cipher_bits");
  }
  if (hasTlsDetails(hop)) {
    o.key("tls_profile");
    JsonObject p(out);
    p.boolean("cipher_known", hop.profile.cipher_known);
    p.string("kex", toLabel(hop.profile.kex));
    p.string("auth", toLabel(hop.profile.auth));
    p.string("cipher", toLabel(hop.profile.cipher));
    p.string("mac", toLabel(hop.profile.mac));
    p.boolean("pfs", hop.profile.forward_secret);
    p.string("class", toLabel(hop.profile.grade));
    p.close();
  } else {
    o.null("tls_profile");
  }
  o.string("client_cert", toLabel(hop.client_cert));
  o.optionalString("client_subject", hop.client_subject);
  o.optionalString("client_issuer", hop.client_issuer);
  o.raw("authenticated", triJson(hop.authenticated));
  o.optionalString("id", hop.id);
  o.optionalString("for", hop.for_recipient);
  o.optionalString("date", hop.date);
  o.boolean("loopback", hop.loopback);
  o.boolean("truncated", hop.truncated);
  o.boolean("malformed", hop.malformed);
  o.close();
}

std::size_t displayWidth(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++n;
  }
  return n;
}

std::string cell(std::string_view text, std::size_t width) {
  std::string out = terminalSafe(text, width);
  const std::size_t w = displayWidth(out);
  if (w < width) out.append(width - w, ' ');
  return out;
}

std::string_view yesNo(HopTls value) {
  switch (value) {
    case HopTls::kTrue:
      return "yes";
    case HopTls::kFalse:
      return "no";
    case HopTls::kUnknown:
      break;
  }
  return "unknown";
}

std::string_view yesNo(HopAuth value) {
  switch (value) {
    case HopAuth::kTrue:
      return "yes";
    case HopAuth::kFalse:
      return "no";
    case HopAuth::kUnknown:
      break;
  }
  return "unknown";
}

}  // namespace

std::string jsonString(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    const auto u = static_cast<unsigned char>(c);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7F) {
      appendHex4(out, u);
    } else if (u < 0x80) {
      out.push_back(c);
    } else {
      const std::size_t len = utf8Length(text, i);
      if (len == 0) {
        out += "\\ufffd";
        ++i;
        continue;
      }
      out.append(text.substr(i, len));
      i += len;
      continue;
    }
    ++i;
  }
  out.push_back('"');
  return out;
}

std::string terminalSafe(std::string_view text, std::size_t max_chars) {
  std::string out;
  std::size_t chars = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    if (chars == max_chars) {
      // Cut: replace the last character with an ellipsis so the width stays max_chars.
      while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0U) == 0x80U) {
        out.pop_back();
      }
      if (!out.empty()) out.pop_back();
      out += "\xE2\x80\xA6";
      return out;
    }
    const auto u = static_cast<unsigned char>(text[i]);
    std::size_t len = 1;
    if (u < 0x20 || u == 0x7F) {
      out.push_back('?');
    } else if (u < 0x80) {
      out.push_back(text[i]);
    } else {
      len = utf8Length(text, i);
      if (len == 0) {
        out.push_back('?');
        len = 1;
      } else {
        out.append(text.substr(i, len));
      }
    }
    i += len;
    ++chars;
  }
  return out;
}

std::string authJson(const InspectAuth& auth) {
  std::string out;
  JsonObject o(out);
  o.string("source", toLabel(auth.source));
  o.string("resolver", auth.resolver);
  o.key("spf");
  if (auth.spf) {
    JsonObject spf(out);
    spf.string("result", toLabel(auth.spf->result));
    spf.string("error", toLabel(auth.spf->error));
    spf.string("identity", toLabel(auth.spf->identity));
    spf.optionalString("domain", auth.spf->domain);
    spf.close();
  } else {
    out += "null";
  }
  o.key("dkim");
  out.push_back('[');
  for (std::size_t i = 0; i < auth.dkim.size(); ++i) {
    if (i > 0) out.push_back(',');
    const auto& [v, computed] = auth.dkim[i];
    JsonObject d(out);
    d.optionalString("domain", v.domain);
    if (computed) {
      d.string("result", toLabel(v.result));
      d.string("reason", toLabel(v.reason));
    } else {
      d.null("result");
      d.null("reason");
    }
    d.string("algorithm", toLabel(v.algorithm));
    if (v.key_bits > 0) {
      d.number("key_bits", v.key_bits);
    } else {
      d.null("key_bits");
    }
    d.close();
  }
  out.push_back(']');
  o.key("dmarc");
  if (auth.dmarc) {
    JsonObject dmarc(out);
    dmarc.string("result", toLabel(auth.dmarc->result));
    dmarc.string("policy", toLabel(auth.dmarc->policy));
    dmarc.boolean("partial", auth.dmarc->partial);
    dmarc.optionalString("from_domain", auth.dmarc->from_domain);
    dmarc.close();
  } else {
    out += "null";
  }
  o.string("method", toLabel(auth.method));
  o.key("records");
  out.push_back('[');
  for (std::size_t i = 0; i < auth.records.size(); ++i) {
    if (i > 0) out.push_back(',');
    JsonObject r(out);
    r.string("record", toLabel(auth.records[i].record));
    r.string("dnssec", toLabel(auth.records[i].dnssec));
    r.close();
  }
  out.push_back(']');
  o.number("dkim_signatures_ignored", auth.dkim_signatures_ignored);
  o.number("untrusted_authentication_results", auth.untrusted_auth_results);
  o.key("notes");
  out.push_back('[');
  for (std::size_t i = 0; i < auth.notes.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += jsonString(auth.notes[i]);
  }
  out.push_back(']');
  o.close();
  return out;
}

std::string authTable(const InspectAuth& auth) {
  std::string out = "auth:   " + std::string(toLabel(auth.source)) + ", resolver " +
                    terminalSafe(auth.resolver, 80) + "\n";
  out += "  spf:   ";
  if (auth.spf) {
    out += std::string(toLabel(auth.spf->result)) + " (" +
           std::string(toLabel(auth.spf->identity)) + " " +
           terminalSafe(auth.spf->domain.empty() ? "-" : auth.spf->domain, 80) + ", error " +
           std::string(toLabel(auth.spf->error)) + ")\n";
  } else {
    out += "not computed\n";
  }
  out += "  dkim:  " + std::to_string(auth.dkim.size()) + " signature" +
         (auth.dkim.size() == 1 ? "" : "s") + "\n";
  if (!auth.dkim.empty()) {
    out +=
        "     # domain                          result     reason                algorithm"
        "       key\n";
  }
  for (std::size_t i = 0; i < auth.dkim.size(); ++i) {
    const auto& [v, computed] = auth.dkim[i];
    std::string num = std::to_string(i);
    out += std::string(num.size() < 6 ? 6 - num.size() : 0, ' ') + num + " ";
    out += cell(v.domain.empty() ? std::string_view("-") : std::string_view(v.domain), 31) + " ";
    out += cell(computed ? toLabel(v.result) : std::string_view("-"), 10) + " ";
    out += cell(computed ? toLabel(v.reason) : std::string_view("(needs DNS)"), 21) + " ";
    out += cell(toLabel(v.algorithm), 15) + " ";
    out += v.key_bits > 0 ? std::to_string(v.key_bits) : std::string("-");
    out += "\n";
  }
  out += "  dmarc: ";
  if (auth.dmarc) {
    out += std::string(toLabel(auth.dmarc->result)) + " (policy " +
           std::string(toLabel(auth.dmarc->policy)) + ", from " +
           terminalSafe(auth.dmarc->from_domain.empty() ? "-" : auth.dmarc->from_domain, 80) +
           ")\n";
  } else {
    out += "not computed\n";
  }
  out += "  method: " + std::string(toLabel(auth.method)) + "\n";
  for (const auto& record : auth.records) {
    out += "  record: " + std::string(toLabel(record.record)) + ", dnssec " +
           std::string(toLabel(record.dnssec)) + "\n";
  }
  for (const auto& note : auth.notes) out += "  note:  " + terminalSafe(note, 200) + "\n";
  return out;
}

std::string formatJson(const MessageAnalysis& analysis, std::string_view source,
                       const InspectAuth* auth) {
  const auto& s = analysis.summary;
  std::string out;
  JsonObject o(out);
  o.string("source", source);
  o.key("hops");
  out.push_back('[');
  for (std::size_t i = 0; i < analysis.hops.size(); ++i) {
    if (i > 0) out.push_back(',');
    hopJson(out, analysis.hops[i], i, s.positions[i]);
  }
  out.push_back(']');
  o.string("path", toLabel(s.path));
  o.number("hop_count", s.hops);
  o.number("tls_hops", s.tls_hops);
  o.number("cleartext_hops", s.cleartext_hops);
  o.number("unknown_hops", s.unknown_hops);
  o.number("loopback_hops", s.loopback_hops);
  o.boolean("all_judgeable_tls", s.all_judgeable_tls);
  if (s.first_cleartext) {
    o.string("first_cleartext", toLabel(*s.first_cleartext));
  } else {
    o.null("first_cleartext");
  }
  o.key("origin");
  {
    JsonObject origin(out);
    origin.string("protocol", toLabel(s.origin.protocol));
    origin.raw("authenticated", triJson(s.origin.authenticated));
    origin.raw("tls", triJson(s.origin.tls));
    origin.close();
  }
  o.key("limits");
  {
    const auto& h = analysis.header;
    JsonObject limits(out);
    limits.number("header_fields", h.fields.size());
    limits.boolean("header_complete", h.complete);
    limits.boolean("mbox_from_line", h.mbox_from_line);
    limits.number("malformed_lines", h.malformed_lines);
    limits.boolean("header_field_cap_hit", h.field_cap_hit);
    limits.boolean("header_byte_cap_hit", h.byte_cap_hit);
    limits.boolean("received_header_cap_hit", analysis.received_header_cap_hit);
    limits.boolean("received_byte_cap_hit", analysis.received_byte_cap_hit);
    limits.number("received_dropped", analysis.received_dropped);
    limits.close();
  }
  if (auth != nullptr) o.raw("auth", authJson(*auth));
  o.close();
  return out;
}

std::string formatTable(const MessageAnalysis& analysis, std::string_view source,
                        const InspectAuth* auth) {
  const auto& s = analysis.summary;
  std::string out;
  out += terminalSafe(source, 200);
  out += ": " + std::to_string(analysis.hops.size()) + " Received header" +
         (analysis.hops.size() == 1 ? "" : "s") + ", hop 0 is the newest\n\n";
  if (!analysis.hops.empty()) {
    out += "  # position from                             by                          with" +
           std::string(11, ' ') + "tls     version  cipher\n";
  }
  for (std::size_t i = 0; i < analysis.hops.size(); ++i) {
    const Hop& hop = analysis.hops[i];
    std::string from = hop.from;
    if (!hop.from_ip.empty() && from.find(hop.from_ip) == std::string::npos) {
      from += (from.empty() ? "[" : " [") + hop.from_ip + "]";
    }
    std::string num = std::to_string(i);
    out += std::string(num.size() < 3 ? 3 - num.size() : 0, ' ') + num + " ";
    out += cell(toLabel(s.positions[i]), 8) + " ";
    out += cell(from, 32) + " ";
    out += cell(hop.by, 27) + " ";
    out += cell(hop.with.empty() ? std::string_view("-") : std::string_view(hop.with), 14) + " ";
    out += cell(yesNo(hop.tls), 7) + " ";
    out += cell(hop.tls_version_raw.empty() ? "-" : hop.tls_version_raw, 8) + " ";
    out += terminalSafe(hop.cipher.empty() ? "-" : hop.cipher, 48);
    out += "\n";
  }
  out += "\n";
  out += "hops:   " + std::to_string(s.hops) + " (tls " + std::to_string(s.tls_hops) +
         ", cleartext " + std::to_string(s.cleartext_hops) + ", unknown " +
         std::to_string(s.unknown_hops) + ", over loopback " + std::to_string(s.loopback_hops) +
         ")\n";
  out += "path:   " + std::string(toLabel(s.path));
  if (s.first_cleartext) {
    out += " (first cleartext hop: " + std::string(toLabel(*s.first_cleartext)) + ")";
  }
  out += "\n";
  out += "origin: " + std::string(toLabel(s.origin.protocol)) + ", authenticated " +
         std::string(yesNo(s.origin.authenticated)) + ", tls " + std::string(yesNo(s.origin.tls)) +
         "\n";
  std::string notes;
  const auto& h = analysis.header;
  if (h.field_cap_hit) notes += " header-field cap hit;";
  if (h.byte_cap_hit) notes += " header-byte cap hit;";
  if (analysis.received_dropped > 0) {
    notes += " " + std::to_string(analysis.received_dropped) + " Received header(s) over the cap;";
  }
  if (!notes.empty()) out += "limits:" + notes + "\n";
  if (auth != nullptr) out += authTable(*auth);
  return out;
}

}  // namespace mailsec::report
