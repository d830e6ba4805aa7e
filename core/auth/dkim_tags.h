// dkim_tags.h — the RFC 6376 §3.2 tag=value list of a DKIM-Signature (or key record), read by
// mailsec itself so it can judge what libopendkim lets pass: libopendkim keeps the last value
// of a duplicated tag, while §3.2 makes the whole tag-list invalid.
//
// Trusts nothing: the text is any bytes from a sender. Thread-safety: pure functions.
// Errors: a malformed list is a flag in the result, never an exception (std::bad_alloc aside).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailsec::core::auth {

struct DkimTagList {
  // Each tag-spec in order: the name, and the value with all folding white space removed.
  std::vector<std::pair<std::string, std::string>> tags;
  bool duplicate = false;  // a tag name occurs more than once (§3.2: the list is invalid)
  bool malformed = false;  // a tag-spec without "=", or a bad tag-name
  // The first value of `name` (tag names are case-sensitive), or nullopt.
  std::optional<std::string_view> first(std::string_view name) const;
};

// Reads at most `max_tags` tag-specs (more make the list malformed).
DkimTagList parseDkimTagList(std::string_view text, std::size_t max_tags = 64);

}  // namespace mailsec::core::auth
