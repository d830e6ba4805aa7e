#include "core/auth/dkim_message.h"

#include <algorithm>

#include "core/received/message_headers.h"

namespace mailsec::core::auth {

DkimMessageResult verifyDkimMessage(DkimLibrary& library, std::string_view message,
                                    const DkimLimits& limits, std::size_t body_chunk_bytes) {
  received::HeaderLimits header_limits;
  header_limits.max_fields = limits.max_header_fields;
  header_limits.max_bytes = limits.max_header_bytes;
  const received::HeaderBlock block = received::readHeaderBlock(message, header_limits);
  DkimVerifier verifier(library, limits);
  if (block.field_cap_hit || block.byte_cap_hit || !block.complete) verifier.markTruncated();
  for (const received::HeaderField& field : block.fields) verifier.header(field.name, field.value);
  verifier.endOfHeaders();
  if (block.complete) {
    std::string_view body = message.substr(std::min(block.header_bytes, message.size()));
    const std::size_t chunk = std::max<std::size_t>(body_chunk_bytes, 1);
    while (!body.empty()) {
      const std::size_t n = std::min(chunk, body.size());
      verifier.body(body.substr(0, n));
      body.remove_prefix(n);
    }
  }
  DkimMessageResult result;
  result.verdicts = verifier.finish(result.records);
  result.signatures_ignored = verifier.signaturesIgnored();
  result.truncated = verifier.truncated();
  return result;
}

}  // namespace mailsec::core::auth
