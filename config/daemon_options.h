// daemon_options.h — the command line every mailsec daemon shares: --config, --check-config,
// --socket, --metrics-listen, --log-stderr, --user, --version, --help. Loads and validates the
// configuration, applies the command-line overrides, and says when main should exit; reload()
// does the same load again (same file, same overrides) for a configuration reload.
//
// Errors go to stderr as one line each (FILE:LINE:COLUMN for the file); reload() returns them.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace mailsec::config {

// What reload() found: a new configuration, or the problems that kept it from loading.
struct Reloaded {
  std::shared_ptr<const Config> config;  // null when `problems` is not empty
  std::vector<std::string> problems;     // FILE:LINE:COLUMN: MESSAGE, one per problem
};

struct DaemonOptions {
  std::optional<int> exit_code;          // set: main returns it now
  std::shared_ptr<const Config> config;  // set when exit_code is not
  std::string user;                      // --user: run as this user once sockets are bound
  std::function<Reloaded()> reload;      // loads the file again with the same overrides
};

// Applies a --socket value to the daemon's own socket setting; returns a problem or "".
using SocketOverride = std::function<std::string(Config&, std::string_view)>;

// The milter's: milter.socket.
std::string overrideMilterSocket(Config& config, std::string_view spec);
// mailsec-policyd's: policyd.socket.
std::string overridePolicydSocket(Config& config, std::string_view spec);

// Applies a (validated) --metrics-listen value to the daemon's own metrics address.
using MetricsOverride = std::function<void(Config&, std::string_view)>;

// The milter's: metrics.listen.
void overrideMetricsListen(Config& config, std::string_view address);
// mailsec-policyd's: policyd.metrics_listen.
void overridePolicydMetricsListen(Config& config, std::string_view address);

DaemonOptions parseDaemonOptions(const char* program, int argc, char** argv, const char* usage,
                                 const SocketOverride& socket_override = overrideMilterSocket,
                                 const MetricsOverride& metrics_override = overrideMetricsListen);

}  // namespace mailsec::config
