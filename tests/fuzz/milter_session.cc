// Fuzz target: MilterSession (the milter's macro, header and body path) without libmilter,
// driven by a fuzzer-chosen sequence of events: macro values (TLS, AUTH, daemon, queue id),
// connect, HELO, MAIL, unknown commands, header fields, body chunks, end of message, abort,
// close — several sessions per input, some never closed. Recording goes to the real
// PrometheusRecorder over its own registry and catalogue.
//
// Must not touch the network or the resolver: verification is off (no Authenticator), so no
// DNS, no verification pool, no threads. Invariants checked: a session is counted at most
// once, messages and Received chains at most once per end of message, the tracker's copies of
// peer text stay bounded, and (every 256th input) every exported series' labels are declared
// in the catalogue with values from their closed sets, the series count within their product.
#include <fuzzer/FuzzedDataProvider.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <prometheus/registry.h>

#include "config/config.h"
#include "core/recorder.h"
#include "core/session_tracker.h"
#include "metrics/catalogue.h"
#include "metrics/fan_out_recorder.h"
#include "metrics/prometheus_recorder.h"
#include "milter/macro_reader.h"
#include "milter/milter_session.h"

namespace {

using namespace mailsec;

class FuzzMacros final : public milter::MacroReader {
 public:
  std::string_view get(const char* name) const override {
    const auto it = values_.find(name);
    return it == values_.end() ? std::string_view() : std::string_view(it->second);
  }
  void set(const char* name, std::string value) { values_[name] = std::move(value); }
  void clear() { values_.clear(); }

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

// Counts what core reported, for the invariants; forwards nothing.
class CountingRecorder final : public core::Recorder {
 public:
  void sessionClosed(const core::SessionSummary&) override { ++sessions; }
  void messageReceived(const core::MessageSummary&) override { ++messages; }
  void unknownCommand(core::Source, core::UnknownCommandSignature) override {}
  void inputError(core::Source, core::InputErrorKind) override {}
  void internalError(core::Component) override {}
  void receivedChain(const core::received::ChainObservation&) override { ++chains; }
  std::size_t sessions = 0;
  std::size_t messages = 0;
  std::size_t chains = 0;
};

// Every macro MilterSession asks for (StageMacros); "_", {daemon_addr} and {client_port}
// are requested or sent by MTAs but not read.
constexpr std::array<const char*, 17> kMacroNames = {"j",
                                                     "i",
                                                     "_",
                                                     "{daemon_name}",
                                                     "{daemon_port}",
                                                     "{daemon_addr}",
                                                     "{client_addr}",
                                                     "{client_port}",
                                                     "{client_name}",
                                                     "{client_resolve}",
                                                     "{tls_version}",
                                                     "{cipher}",
                                                     "{cipher_bits}",
                                                     "{cert_subject}",
                                                     "{cert_issuer}",
                                                     "{verify}",
                                                     "{auth_type}"};

// Realistic values, so short inputs reach the TLS and AUTH classification.
constexpr std::array<const char*, 20> kMacroValues = {"TLSv1.3",
                                                      "TLSv1.2",
                                                      "TLSv1",
                                                      "SSLv3",
                                                      "TLS_AES_256_GCM_SHA384",
                                                      "ECDHE-RSA-AES256-GCM-SHA384",
                                                      "DHE-RSA-AES128-SHA",
                                                      "RC4-MD5",
                                                      "256",
                                                      "128",
                                                      "25",
                                                      "587",
                                                      "OK",
                                                      "NO",
                                                      "FAIL",
                                                      "PLAIN",
                                                      "mx.example.org",
                                                      "MTA",
                                                      "192.0.2.7",
                                                      "/CN=client.example"};

enum class Event : std::uint8_t {
  kSetMacro,
  kClearMacros,
  kConnect,
  kHelo,
  kEnvelopeFrom,
  kUnknownCommand,
  kHeader,
  kBody,
  kEndOfMessage,
  kAbort,
  kClose,
  kDrop,  // the connection goes away without close()
  kMaxValue = kDrop,
};

constexpr std::size_t kMaxEvents = 400;
constexpr std::size_t kMaxText = 4096;

// One registry for the process: families preallocate their series, so building it per input
// would dominate the run. Counters only grow; the label check below does not depend on them.
struct Sinks {
  prometheus::Registry registry;
  metrics::Catalogue catalogue{registry};
  metrics::PrometheusRecorder prometheus{catalogue};
};

Sinks& sinks() {
  static Sinks* s = new Sinks;
  return *s;
}

void checkSeries(Sinks& s) {
  for (const auto& family : s.registry.Collect()) {
    const metrics::FamilySpec* spec = nullptr;
    for (const auto& candidate : s.catalogue.specs()) {
      if (candidate.name == family.name) spec = &candidate;
    }
    // Only the counters take closed-set labels (build_info's version is ours, not the peer's).
    if (spec == nullptr || spec->type != "counter") continue;
    std::size_t combinations = 1;
    for (const auto& label : spec->labels) combinations *= label.values.size();
    if (family.metric.size() > combinations) __builtin_trap();
    for (const auto& metric : family.metric) {
      if (metric.label.size() != spec->labels.size()) __builtin_trap();
      for (const auto& label : metric.label) {
        bool declared = false;
        for (const auto& want : spec->labels) {
          if (want.name != label.name) continue;
          for (const auto value : want.values) declared = declared || value == label.value;
        }
        if (!declared) __builtin_trap();
      }
    }
  }
}

void checkBounded(const milter::MilterSession& session) {
  const auto& t = session.tracker();
  constexpr std::size_t kMacro = core::SessionTracker::kMaxMacro;
  if (t.helo().size() > core::SessionTracker::kMaxHelo) __builtin_trap();
  const auto& tls = t.tlsFacts();
  for (const std::string* field :
       {&tls.version, &tls.cipher, &tls.bits, &tls.cert_subject, &tls.cert_issuer, &tls.verify}) {
    if (field->size() > kMacro) __builtin_trap();
  }
  const auto& c = t.connectFacts();
  for (const std::string* field :
       {&c.daemon_name, &c.client_address, &c.client_name, &c.client_resolve}) {
    if (field->size() > kMacro) __builtin_trap();
  }
}

// A client address as libmilter might hand it: none, IPv4, IPv6, or a family it does not know.
void connect(milter::MilterSession& session, const FuzzMacros& macros, FuzzedDataProvider& in) {
  sockaddr_storage storage{};
  const sockaddr* address = reinterpret_cast<const sockaddr*>(&storage);
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:
      address = nullptr;
      break;
    case 1: {
      auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
      sin->sin_family = AF_INET;
      sin->sin_addr.s_addr = in.ConsumeIntegral<std::uint32_t>();
      break;
    }
    case 2: {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
      sin6->sin6_family = AF_INET6;
      for (auto& byte : sin6->sin6_addr.s6_addr) byte = in.ConsumeIntegral<std::uint8_t>();
      break;
    }
    default:
      storage.ss_family = AF_UNIX;
      break;
  }
  session.connect(macros, address);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static std::size_t runs = 0;
  FuzzedDataProvider in(data, size);
  Sinks& s = sinks();
  CountingRecorder counts;
  metrics::FanOutRecorder recorder({&s.prometheus, &counts});

  auto config = std::make_shared<config::Config>();
  config->port_classes.mx_ports = {25};
  config->port_classes.submission_ports = {587, 465};
  config->port_classes.submission_daemon_names = {"MSA"};
  const bool leading_space = in.ConsumeBool();

  FuzzMacros macros;
  std::size_t sessions_started = 0;
  std::size_t ends_of_message = 0;
  auto session = std::make_unique<milter::MilterSession>(config, recorder);
  ++sessions_started;
  session->setHeaderLeadingSpaceKept(leading_space);

  for (std::size_t event = 0; event < kMaxEvents && in.remaining_bytes() > 0; ++event) {
    if (!session) {
      session = std::make_unique<milter::MilterSession>(config, recorder);
      ++sessions_started;
      session->setHeaderLeadingSpaceKept(leading_space);
    }
    switch (in.ConsumeEnum<Event>()) {
      case Event::kSetMacro: {
        const char* name = in.PickValueInArray(kMacroNames);
        if (in.ConsumeBool()) {
          macros.set(name, in.PickValueInArray(kMacroValues));
        } else {
          macros.set(name, in.ConsumeRandomLengthString(kMaxText));
        }
        break;
      }
      case Event::kClearMacros:
        macros.clear();
        break;
      case Event::kConnect:
        connect(*session, macros, in);
        break;
      case Event::kHelo:
        session->helo(macros, in.ConsumeRandomLengthString(kMaxText));
        break;
      case Event::kEnvelopeFrom:
        session->envelopeFrom(macros, in.ConsumeRandomLengthString(kMaxText));
        break;
      case Event::kUnknownCommand:
        session->unknownCommand(macros, in.ConsumeRandomLengthString(kMaxText));
        break;
      case Event::kHeader: {
        const std::string name = in.ConsumeRandomLengthString(256);
        session->header(name, in.ConsumeRandomLengthString(kMaxText));
        break;
      }
      case Event::kBody:
        session->body(in.ConsumeRandomLengthString(kMaxText));
        break;
      case Event::kEndOfMessage:
        session->endOfMessage(macros);
        ++ends_of_message;
        break;
      case Event::kAbort:
        session->abortMessage();
        break;
      case Event::kClose:
        session->close();
        checkBounded(*session);
        session.reset();
        break;
      case Event::kDrop:
        session.reset();
        break;
    }
    if (session) checkBounded(*session);
  }
  session.reset();

  if (counts.sessions > sessions_started) __builtin_trap();
  if (counts.messages > ends_of_message) __builtin_trap();
  if (counts.chains > ends_of_message) __builtin_trap();
  if (runs++ % 256 == 0) checkSeries(s);
  return 0;
}
