// test_data.h — reads the real samples of tests/data/received/ (see its README for sources).
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "core/received/message_headers.h"

namespace mailsec::testing {

inline std::string readReceivedData(const std::string& relative) {
  const std::string path = std::string(MAILSEC_RECEIVED_DATA_DIR) + "/" + relative;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The value of the first Received field of a sample file, folded as written.
inline std::string firstReceivedValue(const std::string& text) {
  const auto block = core::received::readHeaderBlock(text);
  for (const auto& field : block.fields) {
    if (core::received::isReceivedName(field.name)) return std::string(field.value);
  }
  throw std::runtime_error("no Received field");
}

}  // namespace mailsec::testing
