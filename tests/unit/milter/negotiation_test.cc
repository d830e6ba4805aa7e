#include "milter/negotiation.h"

#include <gtest/gtest.h>

namespace mailsec::milter {
namespace {

// Everything Postfix 3.7 and Sendmail 8.17 offer to skip or leave unanswered.
constexpr unsigned long kAllOffered = 0x001FFFFFUL;

TEST(Negotiation, AnswersDataEndOfHeadersAndBodySoNoBurstIsLeftWithoutAnAnswer) {
  for (const bool read_body : {false, true}) {
    const unsigned long wanted = negotiateSteps(kAllOffered, read_body);
    for (const long never :
         {SMFIP_NODATA, SMFIP_NR_DATA, SMFIP_NOEOH, SMFIP_NR_EOH, SMFIP_NR_BODY, SMFIP_NR_RCPT,
          SMFIP_NOHDRS, SMFIP_NOCONNECT, SMFIP_NOHELO, SMFIP_NOMAIL, SMFIP_NOUNKNOWN}) {
      EXPECT_EQ(wanted & stepFlag(never), 0u)
          << "step bit 0x" << std::hex << never << " must be neither skipped nor unanswered";
    }
  }
}

TEST(Negotiation, LeavesOnlyStepsFollowedByAnAnsweredOneUnanswered) {
  const unsigned long wanted = negotiateSteps(kAllOffered, /*read_body=*/true);
  EXPECT_EQ(wanted, kUnansweredSteps | stepFlag(SMFIP_NORCPT) | kHeaderLeadingSpace);
}

TEST(Negotiation, SkipsTheBodyOnlyWhenNotReadingIt) {
  EXPECT_NE(negotiateSteps(kAllOffered, false) & stepFlag(SMFIP_NOBODY), 0u);
  EXPECT_EQ(negotiateSteps(kAllOffered, true) & stepFlag(SMFIP_NOBODY), 0u);
}

TEST(Negotiation, KeepsHeaderLeadingSpaceWhenOffered) {
  // DKIM "simple" header canonicalization signs the space after the colon.
  EXPECT_NE(negotiateSteps(kAllOffered, true) & kHeaderLeadingSpace, 0u);
  EXPECT_EQ(negotiateSteps(kAllOffered & ~kHeaderLeadingSpace, true) & kHeaderLeadingSpace, 0u);
}

TEST(Negotiation, RequestsNothingTheMtaDidNotOffer) {
  EXPECT_EQ(negotiateSteps(0, false), 0u);
  const unsigned long only_nr_connect = stepFlag(SMFIP_NR_CONN);
  EXPECT_EQ(negotiateSteps(only_nr_connect, false), only_nr_connect);
}

}  // namespace
}  // namespace mailsec::milter
