// request_reader.h — splits the byte stream of one policy connection into requests (lines up
// to an empty line), with bounded memory whatever the peer sends.
//
// A request that breaks a framing limit (a line over Limits::max_line, more than
// Limits::max_request bytes) is skipped up to its empty line and reported as invalid, so the
// peer still gets one answer per request; the reader never holds more than about
// max_request + one append() of bytes. A peer that sends more than Limits::max_discard bytes
// of one invalid request (binary garbage without empty lines) gets kFlood: close it.
//
// Input: untrusted bytes. Thread-safety: one reader per connection, one thread at a time.
// Errors: reported as events, never thrown.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "policyd/request_parser.h"

namespace mailsec::policyd {

class RequestReader {
 public:
  struct Event {
    enum class Kind {
      kNeedMore,  // no complete request buffered
      kRequest,   // `lines`: one request's attribute lines, for parseRequest()
      kInvalid,   // a request ended that broke a framing limit (`error` says which)
      kFlood      // too much input without an end of request: close the connection
    };
    Kind kind = Kind::kNeedMore;
    std::string_view lines;  // valid until the next append()
    RequestError error = RequestError::kNone;
  };

  explicit RequestReader(const Limits& limits = Limits{}) : limits_(limits) {}

  // Adds received bytes. Invalidates the views of earlier events.
  void append(std::string_view bytes);
  // The next event; call until kNeedMore (or kFlood, after which the reader is spent).
  Event next();
  // True when part of a request has arrived (or is being skipped) but not its end.
  bool midRequest() const { return skipping_ != RequestError::kNone || buf_.size() > start_; }
  // Bytes held (for tests of the memory bound).
  std::size_t buffered() const { return buf_.size(); }

 private:
  void skip(RequestError error, std::size_t upto, bool at_line_start);
  Event scanSkipped();

  const Limits limits_;
  std::string buf_;
  std::size_t start_ = 0;  // where the current request starts in buf_
  std::size_t scan_ = 0;   // where the current, incomplete line starts
  // Skipping an invalid request up to its empty line:
  RequestError skipping_ = RequestError::kNone;
  std::size_t discarded_ = 0;   // bytes of it skipped so far
  std::size_t line_bytes_ = 0;  // bytes of the current line (an empty line ends the request)
  bool last_cr_ = false;        // the current line so far is exactly "\r"
  bool spent_ = false;          // kFlood was reported
};

}  // namespace mailsec::policyd
