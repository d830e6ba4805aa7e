// inspect_format.h — how mailsec-inspect shows a message's Received chain: a hop table for
// people and one JSON object for programs (docs/inspect.md describes every key).
//
// Trusts nothing: hop fields are whatever earlier hops wrote (any bytes). The JSON writer
// escapes '"', '\\' and every control character, and writes each byte that is not part of a
// well-formed UTF-8 sequence as \ufffd, so its output is always valid JSON in valid UTF-8.
// The table replaces control characters and malformed UTF-8 with '?'.
//
// Thread-safety: pure functions. Errors: none thrown except std::bad_alloc.
#pragma once

#include <string>
#include <string_view>

#include "core/received/message_analysis.h"
#include "report/inspect_auth.h"

namespace mailsec::report {

// `text` as a JSON string literal, quotes included.
std::string jsonString(std::string_view text);

// The JSON object for one analysed message (no trailing newline). `source` names the input
// ("-" for standard input). With `auth`, an "auth" key holds the verdicts (authJson).
std::string formatJson(const core::received::MessageAnalysis& analysis, std::string_view source,
                       const InspectAuth* auth = nullptr);

// The hop table and path summary for people (ends with a newline); with `auth`, the verdicts
// follow (authTable).
std::string formatTable(const core::received::MessageAnalysis& analysis, std::string_view source,
                        const InspectAuth* auth = nullptr);

// {"source", "resolver", "spf", "dkim": [{"domain","result","reason","algorithm","key_bits"}],
//  "dmarc", "method", "records", "notes"}; a verdict not computed is null (docs/inspect.md).
std::string authJson(const InspectAuth& auth);

// The verdicts for people (ends with a newline).
std::string authTable(const InspectAuth& auth);

// `text` made safe for a terminal: control characters and malformed UTF-8 become '?', and the
// result is cut to at most `max_chars` characters (with a trailing "…" when cut).
std::string terminalSafe(std::string_view text, std::size_t max_chars);

}  // namespace mailsec::report
