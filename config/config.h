// config.h — mailsec's configuration (/etc/mailsec/mailsec.yaml) as plain values, with the
// defaults a daemon runs with when no file is given.
//
// Thread-safety: plain values; daemons share one immutable snapshot.
#pragma once

#include <cstdint>
#include <string>

#include <vector>

#include "common/log.h"
#include "core/auth/resolver.h"
#include "core/observation.h"
#include "core/port_class.h"

namespace mailsec::config {

inline constexpr const char* kDefaultPath = "/etc/mailsec/mailsec.yaml";

struct MilterConfig {
  // libmilter connection spec: unix:/path, local:/path, inet:PORT@HOST, inet6:PORT@HOST.
  std::string socket = "unix:/run/mailsec/milter.sock";
  // How long libmilter waits on the MTA for I/O.
  std::uint32_t timeout_seconds = 30;
};

struct PolicydConfig {
  // Where mailsec-policyd listens for Postfix's check_policy_service: inet:PORT@HOST,
  // inet6:PORT@HOST, unix:/path.
  std::string socket = "inet:10040@127.0.0.1";
  // HOST:PORT of mailsec-policyd's /metrics (the milter's is metrics.listen).
  std::string metrics_listen = "127.0.0.1:9701";
  // Policy connections served at once; more are closed at once and counted.
  std::uint32_t max_connections = 1024;
  // A policy connection without a request for this long is closed (Postfix reconnects).
  std::uint32_t idle_timeout_seconds = 3600;
  // A request left incomplete for this long closes its connection.
  std::uint32_t request_timeout_seconds = 30;
};

struct MetricsConfig {
  std::string listen = "127.0.0.1:9700";
};

struct LogConfig {
  log::Level level = log::Level::kInfo;
  bool to_stderr = false;  // stderr instead of syslog (foreground runs, tests)
};

// SPF/DKIM/DMARC verification (issue 4): after the milter has answered, on a bounded pool.
struct AuthConfig {
  bool enabled = true;
  std::uint32_t workers = 2;   // verification threads
  std::uint32_t queue = 1000;  // messages waiting for a worker; beyond it, dropped and counted
  // Authentication-Results headers (RFC 8601) from these authserv-ids are read instead of
  // verifying again; all others are ignored and counted.
  std::vector<std::string> trusted_authserv_ids;
};

// The history store (issue 7; docs/operations.md).
struct StoreConfig {
  std::string path;                    // SQLite file; empty: no store (Prometheus only)
  std::uint32_t flush_seconds = 60;    // writer flush interval, 1-60
  std::uint32_t retention_days = 400;  // rows of older days are deleted
  std::string public_suffix_list = "/usr/share/publicsuffix/public_suffix_list.dat";
};

// When a cleartext session from a peer counts as a suspected STARTTLS downgrade.
struct DowngradeConfig {
  std::uint32_t min_sessions = 20;  // sessions in the window before a peer has a history
  double min_tls_share = 0.99;      // share of them over TLS that makes it a TLS peer
  std::uint32_t window_days = 30;
  // Which peer identities build history (rdns, helo, sender); HELO and sender are forgeable.
  std::vector<core::PeerDomainSource> identity_sources = {core::PeerDomainSource::kReverseDns};
};

struct Config {
  std::string source = "(defaults)";  // the file it came from
  MilterConfig milter;
  PolicydConfig policyd;
  MetricsConfig metrics;
  core::PortClassRules port_classes;
  LogConfig log;
  core::auth::ResolverOptions dns;  // the `dns:` section
  AuthConfig auth;
  StoreConfig store;
  DowngradeConfig downgrade;
};

}  // namespace mailsec::config
