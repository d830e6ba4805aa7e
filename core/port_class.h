// port_class.h — which configured class (mx, submission, other) a listening port or MTA
// daemon name belongs to. The rules come from the operator's configuration.
//
// Pure; thread-safe once built (read-only).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/observation.h"

namespace mailsec::core {

struct PortClassRules {
  std::vector<std::uint16_t> mx_ports{25};
  std::vector<std::uint16_t> submission_ports{587, 465};
  // Daemon names (Sendmail's DaemonPortOptions Name=, Postfix's milter_macro_daemon_name) are
  // matched exactly and take precedence over ports.
  std::vector<std::string> mx_daemon_names;
  std::vector<std::string> submission_daemon_names;
};

PortClass classifyPort(const PortClassRules& rules, std::string_view daemon_name,
                       std::optional<std::uint16_t> daemon_port);

}  // namespace mailsec::core
