// message_headers.h — a bounded reader of an RFC 5322 header block, and the per-message
// collector of Received header values that enforces the caps of issue 3.
//
// readHeaderBlock() takes a whole message (or just its header), tolerates a leading mbox
// "From " line, CRLF or LF line ends and folded fields, and stops at the empty line that
// ends the header, at a cap on fields or bytes (reported as flags), or at the end of input.
// Field values are views into the input, still folded; unfold() makes a one-line copy.
//
// ReceivedCollector is what a milter feeds field by field (in message order, topmost first):
// it keeps Received values up to a cap on their number and on their total bytes and counts
// what it had to drop, so a hostile message cannot make per-message work unbounded.
//
// Trusts nothing: input is any bytes. Thread-safety: readHeaderBlock/unfold are pure;
// a ReceivedCollector belongs to one message (no internal locking). Errors: none thrown
// except std::bad_alloc; what does not parse is counted (malformed_lines, dropped).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mailsec::core::received {

struct HeaderLimits {
  std::size_t max_fields = 1000;        // header fields read from one message
  std::size_t max_bytes = 1024 * 1024;  // bytes of header block read from one message
};

struct HeaderField {
  std::string_view name;   // as written, without trailing whitespace
  std::string_view value;  // after the ':', folded as written, without the final line end
};

struct HeaderBlock {
  std::vector<HeaderField> fields;
  bool mbox_from_line = false;      // a leading "From " line was skipped
  bool complete = false;            // the empty line ending the header block was found
  bool field_cap_hit = false;       // stopped at HeaderLimits::max_fields
  bool byte_cap_hit = false;        // stopped at HeaderLimits::max_bytes
  std::size_t malformed_lines = 0;  // lines that are neither a field nor a continuation
  std::size_t header_bytes = 0;     // bytes of header block consumed
};

HeaderBlock readHeaderBlock(std::string_view message, const HeaderLimits& limits = {});

// One-line copy of a folded value: CR and LF removed (RFC 5322 §2.2.3), leading and trailing
// whitespace trimmed.
std::string unfold(std::string_view value);

// True when `name` is "Received", case-insensitively.
bool isReceivedName(std::string_view name);

struct ReceivedLimits {
  std::size_t max_headers = 100;       // Received headers kept per message
  std::size_t max_bytes = 256 * 1024;  // total bytes of Received values kept per message
};

class ReceivedCollector {
 public:
  explicit ReceivedCollector(ReceivedLimits limits = {}) : limits_(limits) {}

  // Offers one header field; keeps a copy of the value when it is a Received header and
  // within the caps; otherwise ignores it (Received over a cap is counted as dropped).
  void offer(std::string_view name, std::string_view value);

  // The kept Received values, topmost first.
  const std::vector<std::string>& values() const { return values_; }
  bool headerCapHit() const { return header_cap_hit_; }
  bool byteCapHit() const { return byte_cap_hit_; }
  std::size_t dropped() const { return dropped_header_cap_ + dropped_byte_cap_; }
  std::size_t droppedHeaderCap() const { return dropped_header_cap_; }
  std::size_t droppedByteCap() const { return dropped_byte_cap_; }
  std::size_t bytes() const { return bytes_; }
  void clear();

 private:
  ReceivedLimits limits_;
  std::vector<std::string> values_;
  std::size_t bytes_ = 0;
  std::size_t dropped_header_cap_ = 0;
  std::size_t dropped_byte_cap_ = 0;
  bool header_cap_hit_ = false;
  bool byte_cap_hit_ = false;
};

}  // namespace mailsec::core::received
