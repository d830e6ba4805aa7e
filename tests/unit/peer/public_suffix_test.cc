#include "core/peer/public_suffix.h"

#include <gtest/gtest.h>

namespace mailsec::core::peer {
namespace {

// The rules of the list's own test cases (publicsuffix.org's test_psl.txt), abridged.
constexpr const char* kList = R"(// comment
com
uk
co.uk
jp
*.kobe.jp
!city.kobe.jp
*.ck
!www.ck
  // indented comment

example.org  trailing words are ignored
)";

TEST(PublicSuffix, OrganisationDomainsTable) {
  const auto psl = PublicSuffixList::parse(kList);
  struct Case {
    const char* host;
    const char* want;
  };
  const Case cases[] = {
      {"mail.example.com", "example.com"},
      {"Example.COM.", "example.com"},
      {"a.b.example.co.uk", "example.co.uk"},
      {"co.uk", ""},            // a public suffix itself
      {"com", ""},              // one label
      {"example.kobe.jp", ""},  // *.kobe.jp makes example.kobe.jp a suffix
      {"a.example.kobe.jp", "a.example.kobe.jp"},
      {"city.kobe.jp", "city.kobe.jp"},  // exception
      {"www.city.kobe.jp", "city.kobe.jp"},
      {"www.ck", "www.ck"},
      {"foo.www.ck", "www.ck"},
      {"other.ck", ""},
      {"x.other.ck", "x.other.ck"},
      {"host.unlisted", "host.unlisted"},  // default rule *
      {"mx.host.unlisted", "host.unlisted"},
      {"x.example.org", "x.example.org"},  // "example.org" rule, rest of line ignored
      {"192.0.2.1", ""},
      {"[192.0.2.1]", ""},
      {"bad..name.com", ""},
      {"under_score.example.com", "example.com"},
      {"sp ace.example.com", ""},
      {"", ""},
      {".", ""},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(psl.organisationDomain(c.host), c.want) << "host " << c.host;
  }
}

TEST(PublicSuffix, EmptyListUsesTheDefaultRule) {
  const PublicSuffixList psl;
  EXPECT_EQ(psl.organisationDomain("mx1.mail.example.co.uk"), "co.uk");
  EXPECT_EQ(psl.organisationDomain("example"), "");
}

TEST(PublicSuffix, LabelAndNameLengthBounds) {
  const std::string label63(63, 'a');
  EXPECT_EQ(normaliseHostName(label63 + ".com"), label63 + ".com");
  EXPECT_EQ(normaliseHostName(std::string(64, 'a') + ".com"), "");
  std::string long_name;
  while (long_name.size() < 250) long_name += "abcdefgh.";
  EXPECT_EQ(normaliseHostName(long_name + "com"), "");
}

TEST(PublicSuffix, LoadsDebiansList) {
  std::string problem;
  const auto psl = PublicSuffixList::load(MAILSEC_SYSTEM_PSL, &problem);
  ASSERT_TRUE(psl.has_value()) << problem;
  EXPECT_GT(psl->size(), 5000u);
  EXPECT_EQ(psl->organisationDomain("mail-ej1-f41.google.com"), "google.com");
  EXPECT_EQ(psl->organisationDomain("smtp.example.co.uk"), "example.co.uk");
  EXPECT_EQ(psl->organisationDomain("a.b.example.s3.amazonaws.com"), "example.s3.amazonaws.com");
}

TEST(PublicSuffix, MissingFileIsReported) {
  std::string problem;
  EXPECT_FALSE(PublicSuffixList::load("/nonexistent/psl.dat", &problem).has_value());
  EXPECT_NE(problem.find("/nonexistent/psl.dat"), std::string::npos);
}

}  // namespace
}  // namespace mailsec::core::peer
