#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "metrics/metrics.h"
#include "metrics/metrics_doc.h"

namespace mailsec::metrics {
namespace {

using core::Flag;
using core::PortClass;
using core::Source;

int seriesCount(const std::string& exposition) {
  int count = 0;
  std::istringstream in(exposition);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '#') ++count;
  }
  return count;
}

TEST(Catalogue, SmallFamiliesArePreallocatedLargeOnesAreNot) {
  Metrics m;
  const std::string text = m.render();
  // sessions: 2 sources x 3 port classes x 2 = 12 series, all present at zero.
  EXPECT_NE(text.find("mailsec_sessions_total{port_class=\"submission\",source=\"policyd\","
                      "tls=\"true\"} 0"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("mailsec_tls_sessions_total{"), std::string::npos)
      << "the TLS family is too large to preallocate";
  EXPECT_NE(text.find("mailsec_build_info{version=\"" MAILSEC_VERSION "\"} 1"), std::string::npos);
}

TEST(Catalogue, RecorderCountsExactly) {
  Metrics m;
  core::SessionSummary s;
  s.source = Source::kMilter;
  s.port_class = PortClass::kMx;
  s.tls = true;
  s.tls_profile = core::tls::analyse("TLSv1.3", "TLS_AES_128_GCM_SHA256");
  s.client_certificate = core::ClientCertificate::kVerified;
  for (int i = 0; i < 3; ++i) m.recorder().sessionClosed(s);
  m.recorder().messageReceived({Source::kMilter, PortClass::kMx, true});
  m.recorder().unknownCommand(Source::kMilter, core::UnknownCommandSignature::kStarttlsMasked);

  auto& c = m.catalogue();
  EXPECT_EQ(c.sessions.value(Source::kMilter, PortClass::kMx, Flag::kTrue), 3);
  EXPECT_EQ(c.sessions.value(Source::kMilter, PortClass::kMx, Flag::kFalse), 0);
  EXPECT_EQ(c.client_certificates.value(Source::kMilter, core::CertVerified::kTrue), 3);
  EXPECT_EQ(c.messages.value(Source::kMilter, PortClass::kMx, Flag::kTrue), 1);
  const std::string text = m.render();
  EXPECT_NE(text.find("mailsec_tls_sessions_total{cipher=\"AES-128-GCM\",class=\"recommended\","
                      "kex=\"any\",mac=\"AEAD\",pfs=\"true\",source=\"milter\",version=\"TLSv1.3\"}"
                      " 3"),
            std::string::npos)
      << text;
}

TEST(Catalogue, OutOfRangeEnumValuesFoldIntoTheLastValue) {
  Metrics m;
  const int before = seriesCount(m.render());
  m.catalogue().unknown_commands.inc(Source::kMilter,
                                     static_cast<core::UnknownCommandSignature>(200));
  EXPECT_EQ(m.catalogue().unknown_commands.value(Source::kMilter,
                                                 core::UnknownCommandSignature::kOther),
            1);
  EXPECT_EQ(seriesCount(m.render()), before);
}

TEST(Catalogue, EveryNameFollowsPrometheusConventions) {
  Metrics m;
  const std::regex name("mailsec_[a-z_]+");
  std::set<std::string> seen;
  for (const auto& spec : m.catalogue().specs()) {
    EXPECT_TRUE(std::regex_match(spec.name, name)) << spec.name;
    EXPECT_TRUE(seen.insert(spec.name).second) << "declared twice: " << spec.name;
    if (spec.type == "counter") {
      EXPECT_TRUE(spec.name.ends_with("_total")) << spec.name;
    }
    EXPECT_FALSE(spec.help.empty()) << spec.name;
  }
}

// docs/metrics.md is the contract dashboards and reports are built on: its generated table
// must be exactly what the catalogue declares. Regenerate with
// `cmake --build build --target update-metrics-doc`.
TEST(Catalogue, DocsMetricsMdIsInStep) {
  std::ifstream in(MAILSEC_METRICS_DOC);
  ASSERT_TRUE(in) << "cannot read " << MAILSEC_METRICS_DOC;
  std::stringstream doc;
  doc << in.rdbuf();
  Metrics m;
  const std::string want = renderMetricsTable(m.catalogue().specs());
  EXPECT_NE(doc.str().find(want), std::string::npos)
      << "docs/metrics.md is out of step with metrics/catalogue.cc; regenerate it with "
         "`cmake --build build --target update-metrics-doc`. Want:\n"
      << want;
}

}  // namespace
}  // namespace mailsec::metrics
