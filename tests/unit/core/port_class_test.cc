#include "core/port_class.h"

#include <gtest/gtest.h>

namespace mailsec::core {
namespace {

TEST(PortClass, PortsAndDaemonNames) {
  PortClassRules rules;
  rules.mx_ports = {25, 10025};
  rules.submission_ports = {587};
  rules.submission_daemon_names = {"MSA"};
  EXPECT_EQ(classifyPort(rules, "", 25), PortClass::kMx);
  EXPECT_EQ(classifyPort(rules, "", 10025), PortClass::kMx);
  EXPECT_EQ(classifyPort(rules, "", 587), PortClass::kSubmission);
  EXPECT_EQ(classifyPort(rules, "", 2525), PortClass::kOther);
  EXPECT_EQ(classifyPort(rules, "", std::nullopt), PortClass::kOther);
  // A daemon name wins over the port.
  EXPECT_EQ(classifyPort(rules, "MSA", 25), PortClass::kSubmission);
  EXPECT_EQ(classifyPort(rules, "MTA", 587), PortClass::kSubmission);
}

TEST(PortClass, DefaultsAreTheStandardPorts) {
  const PortClassRules rules;
  EXPECT_EQ(classifyPort(rules, "mx.example", 25), PortClass::kMx);
  EXPECT_EQ(classifyPort(rules, "mx.example", 587), PortClass::kSubmission);
  EXPECT_EQ(classifyPort(rules, "mx.example", 465), PortClass::kSubmission);
}

}  // namespace
}  // namespace mailsec::core
