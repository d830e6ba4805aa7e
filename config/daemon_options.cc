#include "config/daemon_options.h"

#include <sys/stat.h>

#include <iostream>

#include "config/loader.h"

namespace mailsec::config {
namespace {

bool fileExists(const std::string& path) {
  struct stat st {};
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
  std::optional<std::string> config_path, socket, metrics_listen, user;
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
    } else if (arg == "--config" || arg == "--socket" || arg == "--metrics-listen" ||
               arg == "--user") {
      const auto v = value();
      if (!v) return usageError(arg + " needs a value");
      (arg == "--config"   ? config_path
       : arg == "--socket" ? socket
       : arg == "--user"   ? user
                           : metrics_listen) = *v;
    } else {
      return usageError("unknown option " + arg);
    }
  }

  // The file and the overrides, as at start and at every reload; problems are one line each.
  const std::string program_name = program;
  const auto load = [=, socket_override = socket_override,
                     metrics_override = metrics_override]() -> Reloaded {
    Reloaded out;
    LoadResult loaded;
    if (config_path || fileExists(kDefaultPath)) {
      loaded = loadConfigFile(config_path.value_or(kDefaultPath));
    }
    auto config = std::make_shared<Config>(loaded.config);
    for (const auto& error : loaded.errors) out.problems.push_back(error.toString());
    if (socket) {
      if (auto problem = socket_override(*config, *socket); !problem.empty()) {
        out.problems.push_back(program_name + ": --socket: " + problem);
      }
    }
    if (metrics_listen) {
      if (auto problem = validateListenAddress(*metrics_listen); !problem.empty()) {
        out.problems.push_back(program_name + ": --metrics-listen: " + problem);
      } else {
        metrics_override(*config, *metrics_listen);
      }
    }
    if (log_stderr) config->log.to_stderr = true;
    if (out.problems.empty()) out.config = std::move(config);
    return out;
  };
  auto loaded = load();
  for (const auto& problem : loaded.problems) std::cerr << problem << "\n";
  const bool ok = loaded.problems.empty();
  auto config = std::move(loaded.config);

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
  result.user = user.value_or("");
  result.reload = load;
  return result;
}

}  // namespace mailsec::config
