// Fuzz target: one policy connection's byte stream (any bytes, delivered in pieces whose sizes
// come from the input) through RequestReader, parseRequest and the SessionBook — everything
// mailsec-policyd runs on what a peer sends, short of the sockets.
//
// Input layout: byte 0 picks the piece size (1..256), byte 1 the connection id changes (so
// requests spread over a few policy connections that open and close); the rest is the stream.
// Invariants checked: the reader's memory stays bounded, a request that parses is a policy
// request within the limits, and sessions are counted at least once and never more often than
// requests arrived.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/recorder.h"
#include "policyd/policy_sessions.h"
#include "policyd/request_parser.h"
#include "policyd/request_reader.h"

namespace {

using namespace mailsec;

class CountingRecorder final : public core::Recorder {
 public:
  void sessionClosed(const core::SessionSummary&) override { ++sessions; }
  void messageReceived(const core::MessageSummary&) override {}
  void unknownCommand(core::Source, core::UnknownCommandSignature) override {}
  void inputError(core::Source, core::InputErrorKind) override {}
  void internalError(core::Component) override {}
  std::size_t sessions = 0;
};

// Small limits, so the fuzzer reaches every bound quickly.
policyd::Limits fuzzLimits() {
  policyd::Limits limits;
  limits.max_line = 200;
  limits.max_attributes = 16;
  limits.max_request = 1000;
  limits.max_discard = 4000;
  return limits;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t piece = std::size_t{data[0]} + 1;
  const std::uint8_t switches = data[1];
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);
  const policyd::Limits limits = fuzzLimits();

  core::PortClassRules rules;
  CountingRecorder recorder;
  std::size_t opened_at_most = 0;
  {
    policyd::SessionBook book(rules, recorder, std::chrono::milliseconds(10));
    policyd::RequestReader reader(limits);
    policyd::ConnectionId connection = 1;
    policyd::Clock::time_point now{};
    std::size_t requests = 0;
    for (std::size_t offset = 0; offset < stream.size(); offset += piece) {
      reader.append(stream.substr(offset, piece));
      if (reader.buffered() > limits.max_request + limits.max_line + 2 * piece) __builtin_trap();
      for (;;) {
        const auto event = reader.next();
        if (event.kind == policyd::RequestReader::Event::Kind::kNeedMore) break;
        if (event.kind == policyd::RequestReader::Event::Kind::kFlood) break;
        if (event.kind != policyd::RequestReader::Event::Kind::kRequest) continue;
        const auto parsed = policyd::parseRequest(event.lines, limits);
        if (!parsed.ok()) continue;
        if (parsed.request.request != "smtpd_access_policy") __builtin_trap();
        if (parsed.request.attributes > limits.max_attributes) __builtin_trap();
        book.request(connection, parsed.request);
        opened_at_most += 1;
        // Now and then the policy connection closes and another one continues.
        if (((switches >> (requests++ % 8)) & 1u) != 0) {
          book.connectionClosed(connection, now);
          ++connection;
          now += std::chrono::milliseconds(7);
          book.expire(now);
        }
      }
    }
    if (book.openSessions() > opened_at_most) __builtin_trap();
  }  // the book's destructor counts what is still open
  if (recorder.sessions > opened_at_most) __builtin_trap();
  if (opened_at_most > 0 && recorder.sessions == 0) __builtin_trap();
  return 0;
}
