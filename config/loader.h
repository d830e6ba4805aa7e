// loader.h — reads mailsec.yaml into a Config. Every problem (syntax, unknown key, wrong
// type, bad value) is reported as FILE:LINE:COLUMN: message, all of them, not just the first.
//
// Trusts nothing in the file. Thread-safety: pure functions. Errors: returned, never thrown.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace mailsec::config {

struct ConfigError {
  std::string file;
  int line = 0;    // 1-based; 0 when the error is about the whole file
  int column = 0;  // 1-based
  std::string message;

  std::string toString() const;  // "file:line:column: message"
};

struct LoadResult {
  Config config;
  std::vector<ConfigError> errors;
  bool ok() const { return errors.empty(); }
};

LoadResult loadConfigFile(const std::string& path);
// `name` is what errors call the text (a path, or "<string>").
LoadResult loadConfigText(std::string_view text, const std::string& name);

// Validators shared with command-line overrides; return an error message or "".
std::string validateMilterSocket(std::string_view spec);
std::string validatePolicydSocket(std::string_view spec);
std::string validateListenAddress(std::string_view address);

}  // namespace mailsec::config
