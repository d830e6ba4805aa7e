// message_analysis.h — one whole message (or its header block) in, its Received chain out:
// reads the header block (bounded), collects the Received headers (capped), parses every one
// into a Hop and summarises the path. What mailsec-inspect, the fuzz target and the benchmark
// call; the milter feeds a ReceivedCollector itself and calls parseReceived/summarizePath.
//
// Trusts nothing: the message is any bytes. Thread-safety: pure. Errors: none thrown except
// std::bad_alloc; `header.fields.empty()` means the input had no RFC 5322 header field.
#pragma once

#include <string_view>
#include <vector>

#include "core/received/message_headers.h"
#include "core/received/path_summary.h"
#include "core/received/received_parser.h"

namespace mailsec::core::received {

struct MessageAnalysis {
  HeaderBlock header;                    // views into the analysed input
  std::vector<Hop> hops;                 // one per kept Received header, topmost first
  PathSummary summary;                   // with no live inbound hop: hops[0] is the inbound hop
  bool received_header_cap_hit = false;  // more Received headers than ReceivedLimits allow
  bool received_byte_cap_hit = false;    // more Received bytes than ReceivedLimits allow
  std::size_t received_dropped = 0;      // Received headers not analysed because of the caps
};

MessageAnalysis analyseMessage(std::string_view message, const HeaderLimits& header_limits = {},
                               const ReceivedLimits& received_limits = {});

}  // namespace mailsec::core::received
