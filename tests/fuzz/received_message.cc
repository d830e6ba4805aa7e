// Fuzz target: one whole message (any bytes) through the header reader, the Received parser
// and the path summary — what mailsec-inspect and the milter's header path run on peer input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/received/message_analysis.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view message(reinterpret_cast<const char*>(data), size);
  const auto analysis = mailsec::core::received::analyseMessage(message);
  // Every hop of the result must be one of the headers kept; anything else is a parser bug.
  if (analysis.hops.size() > analysis.header.fields.size()) __builtin_trap();
  return 0;
}
