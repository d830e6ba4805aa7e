#include "core/peer/public_suffix.h"

#include <fstream>
#include <sstream>
#include <vector>

namespace mailsec::core::peer {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool validLabelByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

}  // namespace

std::string normaliseHostName(std::string_view text) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (text.empty() || text.size() > 253) return "";
  std::string name;
  name.reserve(text.size());
  std::size_t label = 0;
  std::size_t labels = 1;
  bool last_label_numeric = true;
  for (const char raw : text) {
    const char c = lower(raw);
    if (c == '.') {
      if (label == 0) return "";
      label = 0;
      ++labels;
      last_label_numeric = true;
    } else {
      if (!validLabelByte(c) || ++label > 63) return "";
      if (c < '0' || c > '9') last_label_numeric = false;
    }
    name.push_back(c);
  }
  // A trailing all-digit label is an IPv4 address (or nonsense); no TLD is numeric.
  if (label == 0 || labels < 2 || last_label_numeric) return "";
  return name;
}

PublicSuffixList PublicSuffixList::parse(std::string_view text) {
  PublicSuffixList list;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    // A rule is the first whitespace-delimited word of a line; "//" starts a comment.
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) continue;
    line.remove_prefix(first);
    if (line.substr(0, 2) == "//") continue;
    line = line.substr(0, line.find_first_of(" \t\r"));
    std::string rule;
    for (const char c : line) rule.push_back(lower(c));
    if (rule.substr(0, 2) == "*.")
      list.wildcards_.insert(rule.substr(2));
    else if (rule.front() == '!')
      list.exceptions_.insert(rule.substr(1));
    else
      list.rules_.insert(rule);
  }
  return list;
}

std::optional<PublicSuffixList> PublicSuffixList::load(const std::string& path,
                                                       std::string* problem) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (problem) *problem = "cannot open the public suffix list " + path;
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto list = parse(text.str());
  if (list.size() == 0) {
    if (problem) *problem = "no rules in the public suffix list " + path;
    return std::nullopt;
  }
  return list;
}

std::string PublicSuffixList::organisationDomain(std::string_view host) const {
  const std::string name = normaliseHostName(host);
  if (name.empty()) return "";
  // Label start offsets, leftmost first.
  std::vector<std::size_t> starts{0};
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '.') starts.push_back(i + 1);
  }
  const std::size_t n = starts.size();
  const std::string_view view(name);
  // Longest suffix first: the first rule that matches is the prevailing one (an exception
  // rule is always longer than the wildcard it excepts).
  std::size_t suffix_labels = 1;  // the default rule "*"
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view suffix = view.substr(starts[i]);
    if (exceptions_.contains(suffix)) {
      suffix_labels = n - i - 1;
      break;
    }
    const bool wildcard = i + 1 < n && wildcards_.contains(view.substr(starts[i + 1]));
    if (rules_.contains(suffix) || wildcard) {
      suffix_labels = n - i;
      break;
    }
  }
  if (suffix_labels >= n) return "";  // the name is a public suffix itself
  return name.substr(starts[n - suffix_labels - 1]);
}

}  // namespace mailsec::core::peer
