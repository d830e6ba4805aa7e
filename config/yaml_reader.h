// yaml_reader.h — typed, position-aware reads from a yaml-cpp tree for the config loader.
// Each failed read records FILE:LINE:COLUMN and a message and returns nullopt, so the loader
// can report every problem in one pass.
//
// Thread-safety: one reader per load.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/loader.h"

namespace mailsec::config {

class YamlReader {
 public:
  YamlReader(std::string file, std::vector<ConfigError>& errors)
      : file_(std::move(file)), errors_(errors) {}

  void error(const YAML::Mark& mark, std::string message);
  void error(const YAML::Node& node, std::string message) { error(node.Mark(), std::move(message)); }

  // A mapping (or absent/null, which reads as empty). Keys outside `allowed` are errors.
  bool mapping(const YAML::Node& node, std::string_view path,
               std::initializer_list<std::string_view> allowed);

  std::optional<std::string> string(const YAML::Node& node, std::string_view path);
  std::optional<std::uint64_t> unsignedInteger(const YAML::Node& node, std::string_view path,
                                               std::uint64_t min, std::uint64_t max);
  std::optional<bool> boolean(const YAML::Node& node, std::string_view path);
  std::optional<std::vector<std::uint16_t>> portList(const YAML::Node& node, std::string_view path);
  std::optional<std::vector<std::string>> stringList(const YAML::Node& node,
                                                     std::string_view path);

 private:
  std::string file_;
  std::vector<ConfigError>& errors_;
};

}  // namespace mailsec::config
