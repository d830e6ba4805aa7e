// negotiation.h — which milter protocol steps mailsec asks the MTA to skip, and which it
// observes without answering (SMFIP_NR_*), decided once for every connection.
//
// Why this is subtle: over a TCP milter socket, the MTA's writes for a step the milter does not
// answer are small and leave the milter nothing to send back, so its kernel delays the ACK
// (40 ms on Linux) and the MTA's next small write waits for that ACK (Nagle). Postfix flushes
// the unanswered steps of a transaction (CONNECT … RCPT, DATA's macros, headers) in bursts: a
// burst not closed by a step mailsec answers costs ~40 ms per message — measured here as 18
// messages/s instead of ~400 for one SMTP session (tests/bench/postfix_milter_throughput.py).
// So mailsec answers DATA, end of headers, every body chunk and end of message at once (each
// answer carries the ACK), and leaves unanswered only steps that are always followed, within
// the same burst, by one of those: CONNECT, HELO, MAIL, unknown commands and single headers.
//
// Pure; thread-safe. Errors: none.
#pragma once

#include <libmilter/mfdef.h>

namespace mailsec::milter {

// libmilter's SMFIP_* constants are signed longs; the negotiate masks are unsigned.
constexpr unsigned long stepFlag(long value) { return static_cast<unsigned long>(value); }

// The steps mailsec observes without answering; their callbacks return SMFIS_NOREPLY and
// every other callback SMFIS_CONTINUE (libmilter fakes NR for MTAs that lack it).
inline constexpr unsigned long kUnansweredSteps =
    stepFlag(SMFIP_NR_CONN) | stepFlag(SMFIP_NR_HELO) | stepFlag(SMFIP_NR_MAIL) |
    stepFlag(SMFIP_NR_UNKN) | stepFlag(SMFIP_NR_HDR);

// Header values with their leading whitespace (DKIM "simple" canonicalization signs it).
inline constexpr unsigned long kHeaderLeadingSpace = stepFlag(SMFIP_HDR_LEADSPC);

// The steps to request, given those the MTA offers to skip or leave unanswered (`offered`)
// and whether message bodies are read (DKIM verification).
unsigned long negotiateSteps(unsigned long offered, bool read_body);

}  // namespace mailsec::milter
