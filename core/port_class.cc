#include "core/port_class.h"

#include <algorithm>

namespace mailsec::core {

PortClass classifyPort(const PortClassRules& rules, std::string_view daemon_name,
                       std::optional<std::uint16_t> daemon_port) {
  const auto has = [](const auto& list, const auto& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
  };
  if (!daemon_name.empty()) {
    if (has(rules.mx_daemon_names, daemon_name)) return PortClass::kMx;
    if (has(rules.submission_daemon_names, daemon_name)) return PortClass::kSubmission;
  }
  if (daemon_port) {
    if (has(rules.mx_ports, *daemon_port)) return PortClass::kMx;
    if (has(rules.submission_ports, *daemon_port)) return PortClass::kSubmission;
  }
  return PortClass::kOther;
}

}  // namespace mailsec::core
