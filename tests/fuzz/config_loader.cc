// Fuzz target: mailsec.yaml text through loadConfigText — yaml-cpp and every section reader
// (milter, policyd, metrics, port_classes, log, dns, auth, store, downgrade), the one entry
// point both daemons load their configuration with; then the first line of the input through
// the command-line overrides the daemons apply on top (--socket, --metrics-listen).
//
// Must not read files or resolve names: text in, Config and errors out. Invariants checked:
// every error names the text and has a position that is a position (or none), and whatever
// the loader kept — file valid or not — passes the validation the loader applies, so a
// rejected value never reaches a daemon.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/daemon_options.h"
#include "config/loader.h"
#include "core/auth/resolver.h"

namespace {

using namespace mailsec;

constexpr const char* kName = "fuzz.yaml";

bool absoluteOrEmpty(const std::string& path) { return path.empty() || path.front() == '/'; }

void checkErrors(const config::LoadResult& loaded) {
  for (const auto& e : loaded.errors) {
    if (e.file != kName || e.line < 0 || e.column < 0 || e.message.empty()) __builtin_trap();
    if (e.line == 0 && e.column != 0) __builtin_trap();
    if (e.toString().rfind(kName, 0) != 0) __builtin_trap();
  }
}

// What the loader keeps is what it validated (defaults included).
void checkConfig(const config::Config& c) {
  if (c.source != kName) __builtin_trap();
  if (!config::validateMilterSocket(c.milter.socket).empty()) __builtin_trap();
  if (c.milter.timeout_seconds < 1 || c.milter.timeout_seconds > 3600) __builtin_trap();
  if (!config::validatePolicydSocket(c.policyd.socket).empty()) __builtin_trap();
  if (!config::validateListenAddress(c.policyd.metrics_listen).empty()) __builtin_trap();
  if (!config::validateListenAddress(c.metrics.listen).empty()) __builtin_trap();
  if (c.policyd.max_connections < 1 || c.policyd.max_connections > 65536) __builtin_trap();
  if (c.policyd.idle_timeout_seconds < 1 || c.policyd.idle_timeout_seconds > 86400) {
    __builtin_trap();
  }
  if (c.policyd.request_timeout_seconds < 1 || c.policyd.request_timeout_seconds > 3600) {
    __builtin_trap();
  }
  for (const auto port : c.port_classes.mx_ports) {
    if (port == 0) __builtin_trap();
  }
  for (const auto port : c.port_classes.submission_ports) {
    if (port == 0) __builtin_trap();
  }
  for (const auto& forwarder : c.dns.forwarders) {
    if (!core::auth::validateForwarder(forwarder).empty()) __builtin_trap();
  }
  if (c.dns.timeout_ms < 50 || c.dns.timeout_ms > 60000) __builtin_trap();
  for (const auto& file : c.dns.trust_anchor_files) {
    if (file.empty() || file.front() != '/') __builtin_trap();
  }
  if (c.auth.workers < 1 || c.auth.workers > 256) __builtin_trap();
  if (c.auth.queue < 1 || c.auth.queue > 1000000) __builtin_trap();
  if (!absoluteOrEmpty(c.store.path) || !absoluteOrEmpty(c.store.public_suffix_list)) {
    __builtin_trap();
  }
  if (c.store.flush_seconds < 1 || c.store.flush_seconds > 60) __builtin_trap();
  if (c.store.retention_days < 1 || c.store.retention_days > 3650) __builtin_trap();
  if (c.downgrade.min_sessions < 1 || c.downgrade.min_sessions > 1000000) __builtin_trap();
  if (c.downgrade.window_days < 1 || c.downgrade.window_days > 366) __builtin_trap();
  if (!(c.downgrade.min_tls_share > 0.0 && c.downgrade.min_tls_share <= 1.0)) __builtin_trap();
  for (const auto source : c.downgrade.identity_sources) {
    if (source == core::PeerDomainSource::kNone) __builtin_trap();
  }
}

// The overrides either refuse the value or apply exactly it.
void checkOverrides(config::Config c, std::string_view line) {
  if (config::overrideMilterSocket(c, line).empty() && c.milter.socket != line) __builtin_trap();
  if (config::overridePolicydSocket(c, line).empty() && c.policyd.socket != line) {
    __builtin_trap();
  }
  if (config::validateListenAddress(line).empty()) {
    config::overrideMetricsListen(c, line);
    config::overridePolicydMetricsListen(c, line);
    if (c.metrics.listen != line || c.policyd.metrics_listen != line) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const config::LoadResult loaded = config::loadConfigText(text, kName);
  checkErrors(loaded);
  checkConfig(loaded.config);
  checkOverrides(loaded.config, text.substr(0, text.find('\n')));
  return 0;
}
