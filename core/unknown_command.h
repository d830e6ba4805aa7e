// unknown_command.h — classifies an unknown SMTP command line. Postfix hands milters the
// first word only, Sendmail the whole line; both classify the same.
//
// Trusts nothing (any bytes, any length). Pure; thread-safe.
#pragma once

#include <string_view>

#include "core/observation.h"

namespace mailsec::core {

// starttls_masked:    the verb is exactly eight X's (any case) — STARTTLS overwritten in place.
// starttls_truncated: the verb is a proper prefix or suffix of STARTTLS of at least 4
//                     characters (STAR, START, …, TTLS, RTTLS, …), any case.
// other:              anything else, including an empty line.
UnknownCommandSignature classifyUnknownCommand(std::string_view line);

}  // namespace mailsec::core
