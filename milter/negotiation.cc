#include "milter/negotiation.h"

namespace mailsec::milter {

unsigned long negotiateSteps(unsigned long offered, bool read_body) {
  // Only what the MTA offers may be requested (libmilter refuses the connection otherwise).
  unsigned long wanted = kUnansweredSteps & offered;
  // RCPT carries nothing mailsec reads; its macros still reach libmilter before DATA.
  wanted |= stepFlag(SMFIP_NORCPT) & offered;
  wanted |= kHeaderLeadingSpace & offered;
  if (!read_body) wanted |= stepFlag(SMFIP_NOBODY) & offered;
  // Never skipped or left unanswered: DATA, end of headers, body chunks (see the header).
  return wanted;
}

}  // namespace mailsec::milter
