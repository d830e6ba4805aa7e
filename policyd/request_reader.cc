#include "policyd/request_reader.h"

namespace mailsec::policyd {

void RequestReader::append(std::string_view bytes) {
  if (spent_) return;
  if (start_ > 0) {
    buf_.erase(0, start_);
    scan_ -= start_;
    start_ = 0;
  }
  buf_.append(bytes);
}

void RequestReader::skip(RequestError error, std::size_t upto, bool at_line_start) {
  skipping_ = error;
  discarded_ = upto - start_;
  start_ = scan_ = upto;
  // Not at a line start: the rest of an over-long line follows, so its '\n' ends that line,
  // not the request.
  line_bytes_ = at_line_start ? 0 : 2;
  last_cr_ = false;
}

RequestReader::Event RequestReader::scanSkipped() {
  while (scan_ < buf_.size()) {
    if (discarded_ > limits_.max_discard) break;
    const std::size_t newline = buf_.find('\n', scan_);
    const std::size_t end = newline == std::string::npos ? buf_.size() : newline;
    if (end > scan_) {
      if (line_bytes_ == 0) last_cr_ = buf_[scan_] == '\r';
      line_bytes_ += end - scan_;
      discarded_ += end - scan_;
      scan_ = end;
    }
    if (newline == std::string::npos) break;
    const bool empty_line = line_bytes_ == 0 || (line_bytes_ == 1 && last_cr_);
    ++scan_;
    ++discarded_;
    line_bytes_ = 0;
    last_cr_ = false;
    if (empty_line) {
      const RequestError error = skipping_;
      skipping_ = RequestError::kNone;
      start_ = scan_;
      return Event{Event::Kind::kInvalid, {}, error};
    }
  }
  start_ = scan_;  // skipped bytes are dropped at the next append()
  if (discarded_ > limits_.max_discard) {
    spent_ = true;
    return Event{Event::Kind::kFlood, {}, RequestError::kFlood};
  }
  return Event{};
}

RequestReader::Event RequestReader::next() {
  if (spent_) return Event{Event::Kind::kFlood, {}, RequestError::kFlood};
  while (skipping_ == RequestError::kNone) {
    const std::size_t newline = buf_.find('\n', scan_);
    if (newline == std::string::npos) {
      // An incomplete line: bound what is kept of it (one byte more for a possible '\r').
      if (buf_.size() - scan_ > limits_.max_line + 1) {
        skip(RequestError::kLineTooLong, buf_.size(), false);
      } else if (buf_.size() - start_ > limits_.max_request) {
        skip(RequestError::kRequestTooLarge, buf_.size(), false);
      } else {
        return Event{};
      }
      break;
    }
    std::size_t length = newline - scan_;
    if (length > 0 && buf_[newline - 1] == '\r') --length;
    if (length > limits_.max_line) {
      skip(RequestError::kLineTooLong, newline + 1, true);
      break;
    }
    if (newline + 1 - start_ > limits_.max_request) {
      skip(RequestError::kRequestTooLarge, newline + 1, true);
      break;
    }
    if (length == 0) {
      const std::string_view lines = std::string_view(buf_).substr(start_, scan_ - start_);
      start_ = scan_ = newline + 1;
      return Event{Event::Kind::kRequest, lines, RequestError::kNone};
    }
    scan_ = newline + 1;
  }
  return scanSkipped();
}

}  // namespace mailsec::policyd
