#include "config/yaml_reader.h"

#include <algorithm>

#include "core/peer_text.h"

namespace mailsec::config {
namespace {

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Null: return "nothing";
    case YAML::NodeType::Scalar: return "\"" + node.Scalar() + "\"";
    default: return "an undefined value";
  }
}

}  // namespace

void YamlReader::error(const YAML::Mark& mark, std::string message) {
  // yaml-cpp marks are 0-based; a null mark (-1) means "no position".
  const int line = mark.line >= 0 ? mark.line + 1 : 0;
  const int column = mark.column >= 0 ? mark.column + 1 : 0;
  errors_.push_back(ConfigError{file_, line, column, std::move(message)});
}

bool YamlReader::mapping(const YAML::Node& node, std::string_view path,
                         std::initializer_list<std::string_view> allowed) {
  if (!node || node.IsNull()) return true;
  if (!node.IsMap()) {
    error(node, std::string(path) + " must be a mapping, found " + describe(node));
    return false;
  }
  for (const auto& entry : node) {
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : describe(entry.first);
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string known;
      for (const auto& k : allowed) known += (known.empty() ? "" : ", ") + std::string(k);
      error(entry.first, "unknown key \"" + key + "\" in " + std::string(path) +
                             " (known keys: " + known + ")");
    }
  }
  return true;
}

std::optional<std::string> YamlReader::string(const YAML::Node& node, std::string_view path) {
  if (!node.IsScalar()) {
    error(node, std::string(path) + " must be a string, found " + describe(node));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<std::uint64_t> YamlReader::unsignedInteger(const YAML::Node& node,
                                                         std::string_view path, std::uint64_t min,
                                                         std::uint64_t max) {
  const auto value = node.IsScalar() ? core::parseUnsigned(node.Scalar()) : std::nullopt;
  if (!value || *value < min || *value > max) {
    error(node, std::string(path) + " must be a whole number from " + std::to_string(min) +
                    " to " + std::to_string(max) + ", found " + describe(node));
    return std::nullopt;
  }
  return *value;
}

std::optional<bool> YamlReader::boolean(const YAML::Node& node, std::string_view path) {
  if (node.IsScalar()) {
    const std::string v = core::asciiLower(node.Scalar());
    if (v == "true" || v == "yes" || v == "on") return true;
    if (v == "false" || v == "no" || v == "off") return false;
  }
  error(node, std::string(path) + " must be true or false, found " + describe(node));
  return std::nullopt;
}

std::optional<std::vector<std::uint16_t>> YamlReader::portList(const YAML::Node& node,
                                                               std::string_view path) {
  if (!node.IsSequence()) {
    error(node, std::string(path) + " must be a list of ports, found " + describe(node));
    return std::nullopt;
  }
  std::vector<std::uint16_t> ports;
  bool ok = true;
  for (const auto& item : node) {
    const auto port = unsignedInteger(item, std::string(path) + " entry", 1, 65535);
    if (port) ports.push_back(static_cast<std::uint16_t>(*port));
    else ok = false;
  }
  if (!ok) return std::nullopt;
  return ports;
}

std::optional<std::vector<std::string>> YamlReader::stringList(const YAML::Node& node,
                                                               std::string_view path) {
  if (!node.IsSequence()) {
    error(node, std::string(path) + " must be a list of strings, found " + describe(node));
    return std::nullopt;
  }
  std::vector<std::string> values;
  bool ok = true;
  for (const auto& item : node) {
    const auto value = string(item, std::string(path) + " entry");
    if (value) values.push_back(*value);
    else ok = false;
  }
  if (!ok) return std::nullopt;
  return values;
}

}  // namespace mailsec::config
