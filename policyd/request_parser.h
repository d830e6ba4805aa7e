// request_parser.h — Postfix's SMTPD policy delegation request (SMTPD_POLICY_README): lines of
// name=value, ended by an empty line. parseRequest() turns the attribute lines of one request
// into a Request that points into the caller's text, or says what was wrong with them.
//
// Input: untrusted bytes (Postfix writes them, but anything that can connect to the socket can
// send anything). Every length and count is bounded by Limits; values may hold any byte but
// '\n' and are only copied, bounded, by core. Unknown attribute names are skipped, so newer
// Postfix versions keep working.
// Thread-safety: pure functions. Errors: returned as a RequestError, never thrown.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/observation.h"

namespace mailsec::policyd {

// Bounds on one request. Postfix 3.7 sends about 35 attributes of which the longest
// (sender, recipient, helo_name) are bounded by smtpd's 2048-byte line_length_limit.
struct Limits {
  std::size_t max_line = 8192;            // one name=value line, without its '\n'
  std::size_t max_attributes = 128;       // lines in one request
  std::size_t max_request = 64 * 1024;    // one request, all lines with their '\n'
  std::size_t max_discard = 1024 * 1024;  // bytes of one invalid request skipped before
                                          // the connection is closed
};

// What was wrong with a request. Any of them: the request counts as
// mailsec_input_errors_total{source="policyd",kind="policy_request_invalid"} and is answered
// DUNNO (kTruncated: the connection is gone; kFlood: the connection is closed).
enum class RequestError : std::uint8_t {
  kNone,
  kLineTooLong,        // a line longer than Limits::max_line
  kTooManyAttributes,  // more lines than Limits::max_attributes
  kRequestTooLarge,    // more bytes than Limits::max_request before the empty line
  kMalformedLine,      // a line without '=', or a name outside [a-z0-9_]{1,64}
  kDuplicate,          // an attribute mailsec reads appears twice
  kMissingRequest,     // no request= attribute
  kWrongRequest,       // request= is not smtpd_access_policy
  kTruncated,          // the peer closed the connection in the middle of a request
  kFlood,              // Limits::max_discard bytes without an end of request
};

std::string_view describe(RequestError error);

// The attributes mailsec reads (views into the parsed text; empty when absent). Names as in
// Postfix's SMTPD_POLICY_README.
struct Request {
  std::string_view request;
  std::string_view protocol_state;
  std::string_view client_address;
  std::string_view client_port;
  std::string_view server_address;
  std::string_view server_port;
  std::string_view helo_name;
  std::string_view client_name;  // the verified (forward-confirmed) name, or "unknown"
  std::string_view sender;       // MAIL FROM (only its domain is kept, by core)
  std::string_view queue_id;
  std::string_view instance;
  std::string_view encryption_protocol;
  std::string_view encryption_cipher;
  std::string_view encryption_keysize;
  std::string_view ccert_subject;
  std::string_view ccert_issuer;
  std::string_view ccert_fingerprint;
  std::string_view ccert_pubkey_fingerprint;
  std::string_view policy_context;
  std::size_t attributes = 0;  // every name=value line, read or skipped
};

struct ParseResult {
  Request request;  // meaningful when error == kNone
  RequestError error = RequestError::kNone;
  bool ok() const { return error == RequestError::kNone; }
};

// Parses the attribute lines of one request: everything before its terminating empty line.
// Lines end with '\n' (the last one may omit it); one trailing '\r' per line is ignored. An
// empty line inside `lines` is malformed. The result's views point into `lines`.
ParseResult parseRequest(std::string_view lines, const Limits& limits = Limits{});

// Postfix's protocol_state spellings (CONNECT, EHLO, HELO, MAIL, RCPT, DATA,
// END-OF-MESSAGE, VRFY, ETRN) as an SMTP stage; anything else is kOther.
core::SmtpStage parseStage(std::string_view protocol_state);

}  // namespace mailsec::policyd
