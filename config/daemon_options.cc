#include "config/daemon_options.h"

#include <sys/stat.h>

#include <iostream>

#include "config/loader.h"

namespace mailsec::config {
namespace {

bool fileExists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

std::string overrideMilterSocket(Config& config, std::string_view spec) {
  if (auto problem = validateMilterSocket(spec); !problem.empty()) return problem;
  config.milter.socket = std::string(spec);
  return "";
}

std::string overridePolicydSocket(Config& config, std::string_view spec) {
  if (auto problem = validatePolicydSocket(spec); !problem.empty()) return problem;
  config.policyd.socket = std::string(spec);
  return "";
}

void overrideMetricsListen(Config& config, std::string_view address) {
  config.metrics.listen = std::string(address);
}

void overridePolicydMetricsListen(Config& config, std::string_view address) {
  config.policyd.metrics_listen = std::string(address);
}

DaemonOptions parseDaemonOptions(const char* program, int argc, char** argv, const char* usage,
                                 const SocketOverride& socket_override,
                                 const MetricsOverride& metrics_override) {
  DaemonOptions result;
  std::optional<std::string> config_path, socket, metrics_listen;
  bool check_only = false, log_stderr = false;

  const auto usageError = [&](const std::string& message) {
    std::cerr << program << ": " << message << " (see --help)\n";
    result.exit_code = 2;
    return result;
  };

  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::optional<std::string> inline_value;
    if (const auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      inline_value = arg.substr(eq + 1);
      arg.resize(eq);
    }
    const auto value = [&]() -> std::optional<std::string> {
      if (inline_value) return inline_value;
      if (i + 1 < argc) return std::string(argv[++i]);
      return std::nullopt;
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      result.exit_code = 0;
      return result;
    }
    if (arg == "--version") {
      std::cout << program << " " << MAILSEC_VERSION << "\n";
      result.exit_code = 0;
      return result;
    }
    if (arg == "--check-config") {
      check_only = true;
    } else if (arg == "--log-stderr") {
      log_stderr = true;
    } else if (arg == "--config" || arg == "--socket" || arg == "--metrics-listen") {
      const auto v = value();
      if (!v) return usageError(arg + " needs a value");
      (arg == "--config" ? config_path : arg == "--socket" ? socket : metrics_listen) = *v;
    } else {
      return usageError("unknown option " + arg);
    }
  }

  LoadResult loaded;
  if (config_path || fileExists(kDefaultPath)) {
    loaded = loadConfigFile(config_path.value_or(kDefaultPath));
  }
  auto config = std::make_shared<Config>(loaded.config);
  bool ok = loaded.ok();
  for (const auto& error : loaded.errors) std::cerr << error.toString() << "\n";

  if (socket) {
    if (auto problem = socket_override(*config, *socket); !problem.empty()) {
      std::cerr << program << ": --socket: " << problem << "\n";
      ok = false;
    }
  }
  if (metrics_listen) {
    if (auto problem = validateListenAddress(*metrics_listen); !problem.empty()) {
      std::cerr << program << ": --metrics-listen: " << problem << "\n";
      ok = false;
    } else {
      metrics_override(*config, *metrics_listen);
    }
  }
  if (log_stderr) config->log.to_stderr = true;

  if (!ok) {
    if (check_only) std::cerr << program << ": configuration is not valid\n";
    result.exit_code = 1;
    return result;
  }
  if (check_only) {
    std::cout << program << ": configuration OK (" << config->source << ")\n";
    result.exit_code = 0;
    return result;
  }
  result.config = std::move(config);
  return result;
}

}  // namespace mailsec::config
