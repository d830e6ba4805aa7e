// message_headers.cc — see message_headers.h.
#include "core/received/message_headers.h"

#include <algorithm>

namespace mailsec::core::received {
namespace {

constexpr char asciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// One line of the input: its text without the line end, the offset just past the line end,
// and whether a line end was found at all.
struct Line {
  std::string_view text;
  std::size_t next;
  bool terminated;
};

Line lineAt(std::string_view s, std::size_t pos) {
  const std::size_t lf = s.find('\n', pos);
  const bool terminated = lf != std::string_view::npos;
  const std::size_t end = terminated ? lf : s.size();
  std::string_view text = s.substr(pos, end - pos);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return {text, terminated ? lf + 1 : s.size(), terminated};
}

// RFC 5322 ftext is printable US-ASCII except ':'; old mail has "Received :" (space before
// the colon), which is tolerated.
bool fieldNameOf(std::string_view line, std::string_view& name, std::size_t& colon) {
  const std::size_t c = line.find(':');
  if (c == std::string_view::npos || c == 0) return false;
  std::string_view n = line.substr(0, c);
  while (!n.empty() && (n.back() == ' ' || n.back() == '\t')) n.remove_suffix(1);
  if (n.empty()) return false;
  for (char ch : n) {
    const auto u = static_cast<unsigned char>(ch);
    if (u < 33 || u > 126) return false;
  }
  name = n;
  colon = c;
  return true;
}

}  // namespace

HeaderBlock readHeaderBlock(std::string_view message, const HeaderLimits& limits) {
  HeaderBlock block;
  const std::string_view input = message.substr(0, std::min(message.size(), limits.max_bytes));
  std::size_t pos = 0;
  if (input.substr(0, 5) == "From ") {
    block.mbox_from_line = true;
    pos = lineAt(input, 0).next;
  }
  // The field being read: start of its value and end of its last line.
  bool open = false;
  std::string_view name;
  std::size_t value_begin = 0;
  std::size_t value_end = 0;
  auto close = [&]() {
    if (open) {
      block.fields.push_back({name, input.substr(value_begin, value_end - value_begin)});
      open = false;
    }
  };
  while (pos < input.size()) {
    const Line line = lineAt(input, pos);
    if (!line.terminated && message.size() > input.size()) {
      // The byte cap fell inside this line: the field it belongs to is incomplete; drop it.
      block.byte_cap_hit = true;
      open = false;
      break;
    }
    if (line.text.empty()) {
      close();
      block.complete = true;
      pos = line.next;
      break;
    }
    if (line.text.front() == ' ' || line.text.front() == '\t') {
      if (open) {
        value_end = static_cast<std::size_t>(line.text.data() - input.data()) + line.text.size();
      } else {
        ++block.malformed_lines;
      }
      pos = line.next;
      continue;
    }
    std::string_view field_name;
    std::size_t colon = 0;
    if (!fieldNameOf(line.text, field_name, colon)) {
      close();
      ++block.malformed_lines;
      pos = line.next;
      continue;
    }
    close();
    if (block.fields.size() >= limits.max_fields) {
      block.field_cap_hit = true;
      break;
    }
    open = true;
    name = field_name;
    value_begin = pos + colon + 1;
    value_end = pos + line.text.size();
    pos = line.next;
  }
  if (!block.complete && !block.byte_cap_hit && pos >= input.size() &&
      message.size() > input.size()) {
    block.byte_cap_hit = true;  // the cap fell exactly on a line end inside the header
  }
  close();
  block.header_bytes = pos;
  return block;
}

std::string unfold(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c != '\r' && c != '\n') out.push_back(c);
  }
  const auto first = out.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  const auto last = out.find_last_not_of(" \t");
  return out.substr(first, last - first + 1);
}

bool isReceivedName(std::string_view name) {
  constexpr std::string_view kReceived = "received";
  if (name.size() != kReceived.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (asciiLower(name[i]) != kReceived[i]) return false;
  }
  return true;
}

void ReceivedCollector::offer(std::string_view name, std::string_view value) {
  if (!isReceivedName(name)) return;
  if (values_.size() >= limits_.max_headers) {
    header_cap_hit_ = true;
    ++dropped_header_cap_;
    return;
  }
  if (value.size() > limits_.max_bytes - std::min(bytes_, limits_.max_bytes)) {
    byte_cap_hit_ = true;
    ++dropped_byte_cap_;
    return;
  }
  bytes_ += value.size();
  values_.emplace_back(value);
}

void ReceivedCollector::clear() {
  values_.clear();
  bytes_ = 0;
  dropped_header_cap_ = 0;
  dropped_byte_cap_ = 0;
  header_cap_hit_ = false;
  byte_cap_hit_ = false;
}

}  // namespace mailsec::core::received
