// chain_tracker.h — the Received chain of the message in progress, for a front-end that sees
// headers one at a time (the milter): keeps bounded copies of the Received headers, and at end
// of message parses them, adds the live hop into this MTA, summarises the path and reports one
// ChainObservation to the Recorder. THE place that decides what a message's chain counts as,
// so the milter only forwards headers and session facts.
//
// Trusts nothing: header names and values are whatever the sender and earlier hops wrote;
// the caps of ReceivedLimits bound memory per message (what is over them is counted, not kept).
// Thread-safety: one tracker per connection, used by one thread at a time; the Recorder must
// be thread-safe. Errors: never throws except std::bad_alloc.
#pragma once

#include <span>
#include <string_view>

#include "core/received/chain_observation.h"
#include "core/received/message_headers.h"
#include "core/received/path_summary.h"
#include "core/recorder.h"

namespace mailsec::core::received {

class ReceivedChainTracker {
 public:
  ReceivedChainTracker(Source source, Recorder& recorder, ReceivedLimits limits = {})
      : source_(source), recorder_(recorder), collector_(limits) {}

  // A new message begins (MAIL FROM): forget the previous one's headers.
  void messageStarted() { collector_.clear(); }
  // One header field of the message, in order (topmost first).
  void header(std::string_view name, std::string_view value) { collector_.offer(name, value); }
  // End of message: reports the chain (headers plus the live hop) and forgets the headers.
  // Returns what was reported, for the front-end's log line.
  ChainObservation messageEnded(const LiveSession& live);
  // The message was aborted (RSET, lost connection): nothing is reported.
  void messageAborted() { collector_.clear(); }

  // Bytes of Received headers currently kept (bounded by ReceivedLimits::max_bytes).
  std::size_t keptBytes() const { return collector_.bytes(); }

 private:
  Source source_;
  Recorder& recorder_;
  ReceivedCollector collector_;
};

// The observation for already parsed hops (topmost first) and the live inbound hop (nullptr
// when there is none). Pure; what ReceivedChainTracker reports.
ChainObservation observeChain(Source source, std::span<const Hop> hops, const Hop* inbound);

}  // namespace mailsec::core::received
