// Fuzz target: one Received header value (any bytes) straight into the parser, then the
// milter's per-message path (ReceivedChainTracker) with it as the only header. Checks the
// parser's contracts: every copied field within kMaxFieldBytes, TLS never claimed without
// evidence, the observation's hop count equal to what was kept plus the live hop.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/received/chain_tracker.h"
#include "core/received/received_parser.h"
#include "tests/unit/fakes/null_recorder.h"

using namespace mailsec::core::received;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  const Hop hop = parseReceived(value);
  for (const std::string* s :
       {&hop.from, &hop.from_rdns, &hop.from_ip, &hop.from_helo, &hop.by, &hop.by_comment, &hop.via,
        &hop.with, &hop.id, &hop.for_recipient, &hop.date, &hop.tls_version_raw, &hop.cipher,
        &hop.client_subject, &hop.client_issuer}) {
    if (s->size() > kMaxFieldBytes) __builtin_trap();
  }
  if (hop.tls == HopTls::kTrue && hop.tls_evidence == TlsEvidence::kNone) __builtin_trap();
  if (hop.tls != HopTls::kUnknown && hop.tls_evidence == TlsEvidence::kNone) __builtin_trap();

  mailsec::testing::NullRecorder recorder;
  ReceivedChainTracker tracker(mailsec::core::Source::kMilter, recorder);
  tracker.messageStarted();
  tracker.header("Received", value);
  const ChainObservation chain = tracker.messageEnded(LiveSession{});
  const std::size_t kept = value.size() <= ReceivedLimits{}.max_bytes ? 1 : 0;
  if (chain.hops.size() != kept + 1) __builtin_trap();
  return 0;
}
