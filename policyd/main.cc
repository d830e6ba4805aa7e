// mailsec-policyd — measures the TLS of every SMTP session and message Postfix shows it through
// its SMTPD policy delegation protocol (check_policy_service), and exports the counts on
// /metrics with source="policyd". It answers every request action=DUNNO: it never rejects,
// alters or delays mail. See docs/policyd.md.
#include <sys/signalfd.h>

#include <csignal>
#include <optional>
#include <string>

#include "common/log.h"
#include "common/privileges.h"
#include "common/signals.h"
#include "config/daemon_options.h"
#include "metrics/metrics.h"
#include "metrics/pipeline.h"
#include "policyd/server.h"

namespace {

constexpr const char* kUsage = R"(usage: mailsec-policyd [options]

A Postfix policy server (check_policy_service) that measures the TLS of every SMTP session and
message Postfix reports to it, and serves the counts for Prometheus. Always answers
action=DUNNO: never rejects, alters or delays mail.

options:
  --config PATH          configuration file (default /etc/mailsec/mailsec.yaml; when the
                         default is absent, built-in defaults are used)
  --check-config         validate the configuration, print problems as FILE:LINE:COLUMN, and
                         exit 0 (valid) or 1 (invalid)
  --socket SPEC          policy socket: inet:PORT@HOST, inet6:PORT@HOST, unix:/path
                         (overrides policyd.socket)
  --metrics-listen ADDR  serve /metrics on HOST:PORT (overrides policyd.metrics_listen)
  --log-stderr           log to stderr instead of syslog
  --user NAME            started as root: become NAME once the metrics address is bound,
                         before the store is opened and the policy socket is bound (a missing
                         user is a start-up error)
  --version              print the version and exit
  --help                 print this help and exit

exit status: 0 clean stop (SIGTERM, SIGINT) or valid config, 1 configuration or start-up
error, 2 usage error.
)";

mailsec::policyd::ServerOptions serverOptions(const mailsec::config::PolicydConfig& c) {
  mailsec::policyd::ServerOptions options;
  options.socket = c.socket;
  options.max_connections = c.max_connections;
  options.idle_timeout = std::chrono::seconds(c.idle_timeout_seconds);
  options.request_timeout = std::chrono::seconds(c.request_timeout_seconds);
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mailsec;
  const auto options = config::parseDaemonOptions("mailsec-policyd", argc, argv, kUsage,
                                                  config::overridePolicydSocket,
                                                  config::overridePolicydMetricsListen);
  if (options.exit_code) return *options.exit_code;
  const auto& cfg = options.config;

  log::init("mailsec-policyd", cfg->log.to_stderr, cfg->log.level);

  // Signals are read from a signalfd by the event loop; block them before the metrics server
  // starts its thread so that no thread takes them asynchronously.
  const sigset_t signals = common::blockDaemonSignals();
  // The milter's reload signal: sent to both daemons by mistake, it must not end this one.
  std::signal(SIGUSR1, SIG_IGN);
  const int signal_fd = ::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd < 0) {
    log::error("signalfd failed");
    return 1;
  }

  std::string user_problem;  // --user: looked up now, before anything is bound
  const auto run_as = common::lookUpRunAs(options.user, user_problem);
  if (!user_problem.empty()) {
    log::error(user_problem);
    return 1;
  }

  metrics::Metrics metrics;
  if (const auto problem = metrics.serve(cfg->policyd.metrics_listen)) {
    log::error(*problem);
    return 1;
  }
  // The store's files must belong to the user that writes them: drop before the pipeline
  // opens them (the Server, which binds the policy socket, needs the pipeline first).
  if (const auto problem = common::dropPrivileges(run_as); !problem.empty()) {
    log::error(problem);
    return 1;
  }
  // Peer analysis and the history store in front of Prometheus (the store file may be the
  // milter's: rows carry source=policyd).
  metrics::Pipeline pipeline(metrics::pipelineOptions(*cfg, core::Source::kPolicyd), metrics);
  policyd::Server server(serverOptions(cfg->policyd), cfg->port_classes, pipeline.recorder(),
                         metrics.catalogue());
  if (const auto problem = server.listen(); !problem.empty()) {
    log::error(problem);
    return 1;
  }
  log::info("started ", MAILSEC_VERSION, ": policy service on ", cfg->policyd.socket,
            ", metrics on http://", cfg->policyd.metrics_listen, "/metrics, config ", cfg->source);
  const int status = server.run(signal_fd);
  pipeline.stop();  // the last flush
  log::info("stopped");
  return status;
}
