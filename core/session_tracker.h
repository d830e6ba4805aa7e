// session_tracker.h — follows one SMTP session from connect to close and decides what it
// counts as: the single place where "a session", "a TLS session", "a client certificate",
// "a message" and "an unknown command" are defined, whichever MTA or front-end reported them.
//
// Input: facts the front-end copied from the MTA (macros, policy attributes), untrusted.
// Bad input is bounded, classified, reported as an input error, and never stops counting.
// Thread-safety: one tracker per connection, used by one thread at a time (libmilter may
// move a connection between worker threads; it serialises callbacks). The Recorder must be
// thread-safe. Errors: never throws on any input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/observation.h"
#include "core/port_class.h"
#include "core/recorder.h"

namespace mailsec::core {

class SessionTracker {
 public:
  // Bounds on what is kept of peer text.
  static constexpr std::size_t kMaxHelo = 255;
  static constexpr std::size_t kMaxCommand = 512;
  static constexpr std::size_t kMaxMacro = 1024;

  SessionTracker(Source source, const PortClassRules& rules, Recorder& recorder);
  ~SessionTracker();  // closes the session if the front-end did not
  SessionTracker(const SessionTracker&) = delete;
  SessionTracker& operator=(const SessionTracker&) = delete;

  void connected(const ConnectFacts& facts);
  // The HELO/EHLO argument; called again after STARTTLS.
  void greeted(std::string_view helo);
  // What the MTA reports of TLS at any stage; empty facts do not undo an earlier TLS report
  // (STARTTLS cannot be undone within a session).
  void tlsReported(const TlsFacts& facts);
  void unknownCommand(std::string_view line);
  // MAIL FROM's address (with or without <>); only its domain is kept, lower-cased.
  void mailFrom(std::string_view sender);
  // A message reached end of data: reports it (messageReceived) and returns what it reported.
  // `path`: its Received path class, when the front-end saw its headers; `verdicts_follow`:
  // the front-end hands it to verification, which reports the verdicts with this summary.
  MessageSummary messageEnded(received::PathClass path = received::PathClass::kUnknown,
                              bool verdicts_follow = false);
  // The session ended; counts it once. Later calls do nothing.
  void closed();
  // The front-end's connection ended before any SMTP session began on it (a milter connection
  // that was only negotiated): nothing is counted, now or later.
  void abandoned() { closed_ = true; }

  bool tls() const { return tls_; }
  PortClass portClass() const { return port_class_; }
  const std::string& helo() const { return helo_; }
  const ConnectFacts& connectFacts() const { return connect_; }
  // The TLS facts reported so far (bounded copies; empty fields when cleartext).
  const TlsFacts& tlsFacts() const { return tls_facts_; }
  const std::string& senderDomain() const { return sender_domain_; }
  std::uint32_t messages() const { return messages_; }

  // The client-certificate verdict from the MTA's TLS facts (Postfix gives a subject only for
  // a verified certificate; Sendmail says so in {verify}).
  static ClientCertificate clientCertificate(const TlsFacts& facts);

 private:
  std::string boundedMacro(std::string_view value);
  PeerFacts peerFacts() const;
  // Input errors are counted once per session and kind (HELO comes twice with STARTTLS, TLS
  // macros at several stages).
  void reportOnce(InputErrorKind kind);

  Source source_;
  const PortClassRules& rules_;
  Recorder& recorder_;
  ConnectFacts connect_;
  PortClass port_class_ = PortClass::kOther;
  std::string helo_;
  bool tls_ = false;
  TlsFacts tls_facts_;
  std::uint32_t messages_ = 0;
  std::uint32_t unknown_commands_ = 0;
  std::uint32_t starttls_masked_ = 0;
  std::uint32_t starttls_truncated_ = 0;
  std::string sender_domain_;
  std::uint32_t reported_errors_ = 0;
  bool closed_ = false;
};

}  // namespace mailsec::core
