// mailsec-milter — measures the TLS and authentication of every SMTP session and message an
// MTA (Postfix, Sendmail) hands it over the milter protocol, and exports the counts on
// /metrics. It never rejects, alters or delays mail.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include "common/log.h"
#include "common/privileges.h"
#include "common/signals.h"
#include "config/daemon_options.h"
#include "core/auth/authenticator.h"
#include "core/auth/unbound_resolver.h"
#include "metrics/metrics.h"
#include "metrics/pipeline.h"
#include "milter/libmilter_glue.h"

namespace {

constexpr const char* kUsage = R"(usage: mailsec-milter [options]

Measures the TLS of every SMTP session and message the MTA shows it over the milter
protocol, and serves the counts for Prometheus. Never rejects, alters or delays mail.

options:
  --config PATH          configuration file (default /etc/mailsec/mailsec.yaml; when the
                         default is absent, built-in defaults are used)
  --check-config         validate the configuration, print problems as FILE:LINE:COLUMN, and
                         exit 0 (valid) or 1 (invalid)
  --socket SPEC          milter socket: unix:/path, inet:PORT@HOST, inet6:PORT@HOST
                         (overrides milter.socket)
  --metrics-listen ADDR  serve /metrics on HOST:PORT (overrides metrics.listen)
  --log-stderr           log to stderr instead of syslog
  --user NAME            started as root: become NAME once the sockets are bound (a missing
                         user is a start-up error)
  --version              print the version and exit
  --help                 print this help and exit

signals: SIGTERM, SIGINT, SIGHUP stop (libmilter's); SIGUSR1 reloads the configuration file
(port_classes and log.level take effect; other keys at the next restart).

exit status: 0 clean stop (SIGTERM, SIGINT, SIGHUP) or valid config, 1 configuration or
start-up error, 2 usage error.
)";

// The keys a reload cannot apply (sockets, threads and files opened at start) that differ
// between the running configuration and `next`, as ", a, b".
std::string needRestart(const mailsec::config::Config& running,
                        const mailsec::config::Config& next) {
  std::string changed;
  const auto check = [&](bool differs, const char* key) {
    if (differs) changed += std::string(changed.empty() ? "" : ", ") + key;
  };
  check(running.milter.socket != next.milter.socket, "milter.socket");
  check(running.milter.timeout_seconds != next.milter.timeout_seconds, "milter.timeout_seconds");
  check(running.metrics.listen != next.metrics.listen, "metrics.listen");
  check(running.store.path != next.store.path, "store.path");
  check(running.store.flush_seconds != next.store.flush_seconds, "store.flush_seconds");
  check(running.auth.enabled != next.auth.enabled, "auth.enabled");
  check(running.auth.workers != next.auth.workers, "auth.workers");
  check(running.auth.queue != next.auth.queue, "auth.queue");
  return changed;
}

// The file of a unix:/local: milter socket spec, or "".
std::string unixSocketPath(const std::string& spec) {
  for (const std::string_view prefix : {"unix:", "local:"}) {
    if (spec.starts_with(prefix)) return spec.substr(prefix.size());
  }
  return "";
}

// SIGUSR1: the configuration file again, with the same command-line overrides. The counters
// live in this process and are untouched. An invalid file changes nothing.
void reload(const mailsec::config::DaemonOptions& options, const mailsec::config::Config& running) {
  using namespace mailsec;
  const auto next = options.reload();
  if (!next.config) {
    for (const auto& problem : next.problems) log::error("reload: ", problem);
    log::error("reload: configuration not valid; the running one stays");
    return;
  }
  log::setLevel(next.config->log.level);
  milter::replaceConfig(next.config);
  const std::string restart = needRestart(running, *next.config);
  log::info("reloaded ", next.config->source, ": port_classes and log.level in effect",
            restart.empty() ? "" : "; changed, in effect at the next restart: ", restart);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mailsec;
  const auto options = config::parseDaemonOptions("mailsec-milter", argc, argv, kUsage);
  if (options.exit_code) return *options.exit_code;
  const auto& cfg = options.config;

  log::init("mailsec-milter", cfg->log.to_stderr, cfg->log.level);

  // libmilter handles SIGHUP, SIGTERM and SIGINT with sigwait in its own thread; block them
  // before any other thread (the metrics server's) starts, so they all inherit the mask.
  common::blockDaemonSignals();
  common::ReloadSignal reload_signal;  // blocks SIGUSR1 too, before any thread starts
  std::string user_problem;            // --user: looked up now, before anything is bound
  const auto run_as = common::lookUpRunAs(options.user, user_problem);
  if (!user_problem.empty()) {
    log::error(user_problem);
    return 1;
  }

  metrics::Metrics metrics;
  if (const auto problem = metrics.serve(cfg->metrics.listen)) {
    log::error(*problem);
    return 1;
  }
  // Every socket is bound before privileges go, and every file is opened after.
  if (const auto problem = milter::openLibmilterSocket(*cfg); !problem.empty()) {
    log::error(problem);
    return 1;
  }
  // A unix socket bound as root goes to the user (and group) the milter becomes.
  std::string drop_problem = common::handOver(unixSocketPath(cfg->milter.socket), run_as);
  if (drop_problem.empty()) drop_problem = common::dropPrivileges(run_as);
  if (!drop_problem.empty()) {
    log::error(drop_problem);
    return 1;
  }
  // Peer analysis and the history store in front of Prometheus; its writer thread starts
  // here, after the signal mask, like the metrics server's.
  metrics::Pipeline pipeline(metrics::pipelineOptions(*cfg, core::Source::kMilter), metrics);
  // SPF/DKIM/DMARC verification: the resolver's and the pool's threads start after the mask.
  std::unique_ptr<core::auth::UnboundResolver> resolver;
  std::unique_ptr<core::auth::Authenticator> authenticator;
  if (cfg->auth.enabled) {
    std::string problem;
    // With validation on, one bounded look-up of ". DNSKEY" (before smfi_main, never on the
    // SMTP path): a forwarder that strips signatures turns validation off, logged and counted.
    core::auth::DnssecProbe probe;
    resolver = core::auth::UnboundResolver::createProbed(cfg->dns, probe, problem);
    if (!resolver) {
      log::error("dns: ", problem);
      return 1;
    }
    if (const auto message =
            core::auth::dnssecProbeMessage(probe, core::auth::UnboundResolver::kProbeTimeoutMs);
        !message.empty()) {
      log::warning(message);
    }
    if (probe.outcome == core::auth::DnssecProbe::Outcome::kUnsigned) {
      pipeline.recorder().internalError(core::Component::kCore);
    }
    core::auth::AuthenticatorOptions auth;
    auth.workers = cfg->auth.workers;
    auth.queue = cfg->auth.queue;
    auth.trusted_authserv_ids = cfg->auth.trusted_authserv_ids;
    try {
      // Verdicts go through the recorder chain: the Prometheus families and the store's
      // auth_rollups.
      authenticator = std::make_unique<core::auth::Authenticator>(
          *resolver, pipeline.recorder(), core::Source::kMilter, std::move(auth));
    } catch (const std::exception& e) {
      log::error("auth: ", e.what());
      return 1;
    }
  }
  if (const auto problem = milter::setUpLibmilter(cfg, pipeline.recorder(), authenticator.get());
      !problem.empty()) {
    log::error(problem);
    return 1;
  }
  log::info("started ", MAILSEC_VERSION, ": milter on ", cfg->milter.socket, ", metrics on http://",
            cfg->metrics.listen, "/metrics, config ", cfg->source);
  reload_signal.start([&] { reload(options, *cfg); });
  const int status = milter::runLibmilter();
  // Verifications still queued get a short while; the rest are counted as dropped.
  if (authenticator) authenticator->stop(std::chrono::seconds(2));
  pipeline.stop();  // the last flush: a clean stop loses nothing
  log::info("stopped");
  return status;
}
