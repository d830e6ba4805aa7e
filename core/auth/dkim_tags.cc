#include "core/auth/dkim_tags.h"

#include <algorithm>

namespace mailsec::core::auth {
namespace {

bool isFws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool isDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && isFws(s.front())) s.remove_prefix(1);
  while (!s.empty() && isFws(s.back())) s.remove_suffix(1);
  return s;
}

// tag-name = ALPHA *ALNUMPUNC; ALNUMPUNC = ALPHA / DIGIT / "_"
bool validTagName(std::string_view name) {
  if (name.empty() || !isAlpha(name.front())) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return isAlpha(c) || isDigit(c) || c == '_'; });
}

}  // namespace

std::optional<std::string_view> DkimTagList::first(std::string_view name) const {
  for (const auto& [tag, value] : tags) {
    if (tag == name) return std::string_view(value);
  }
  return std::nullopt;
}

DkimTagList parseDkimTagList(std::string_view text, std::size_t max_tags) {
  DkimTagList list;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(';', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view spec = trim(text.substr(start, end - start));
    start = end + 1;
    if (spec.empty()) {
      // Only the trailing ";" may leave an empty tag-spec behind it.
      if (end < text.size() && !trim(text.substr(end + 1)).empty()) list.malformed = true;
      if (end >= text.size()) break;
      continue;
    }
    if (list.tags.size() == max_tags) {
      list.malformed = true;
      break;
    }
    const std::size_t eq = spec.find('=');
    if (eq == std::string_view::npos) {
      list.malformed = true;
      continue;
    }
    const std::string_view name = trim(spec.substr(0, eq));
    if (!validTagName(name)) list.malformed = true;
    std::string value;
    for (const char c : spec.substr(eq + 1)) {
      if (!isFws(c)) value.push_back(c);
    }
    const bool seen = std::any_of(list.tags.begin(), list.tags.end(),
                                  [&](const auto& tag) { return tag.first == name; });
    if (seen) list.duplicate = true;
    list.tags.emplace_back(std::string(name), std::move(value));
  }
  return list;
}

}  // namespace mailsec::core::auth
