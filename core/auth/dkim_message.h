// dkim_message.h — DKIM verification of one whole message held in memory (mailsec-inspect,
// the fuzz target, tests): splits it with core::received::readHeaderBlock and streams it
// through a DkimVerifier exactly as the milter does, header field by field and the body in
// chunks.
//
// Trusts nothing: any bytes (LF or CRLF line ends, a leading mbox "From " line). A message
// whose header block has no end is verified as all header. Thread-safety: as DkimVerifier
// (the library is shared; the call is self-contained). Errors: as DkimVerifier::finish.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "core/auth/dkim_verifier.h"

namespace mailsec::core::auth {

struct DkimMessageResult {
  std::vector<DkimVerdict> verdicts;
  std::vector<RecordFetch> records;
  std::size_t signatures_ignored = 0;  // past DkimLimits::max_signatures
  bool truncated = false;              // a limit cut what was verified
};

DkimMessageResult verifyDkimMessage(DkimLibrary& library, std::string_view message,
                                    const DkimLimits& limits = {},
                                    std::size_t body_chunk_bytes = 64 * 1024);

}  // namespace mailsec::core::auth
