#include "config/loader.h"

#include <gtest/gtest.h>

namespace mailsec::config {
namespace {

TEST(ConfigLoader, ExampleFileIsValidAndMatchesDefaults) {
  const auto loaded = loadConfigFile(MAILSEC_EXAMPLE_CONFIG);
  ASSERT_TRUE(loaded.ok()) << loaded.errors.front().toString();
  const Config defaults;
  EXPECT_EQ(loaded.config.milter.socket, defaults.milter.socket);
  EXPECT_EQ(loaded.config.milter.timeout_seconds, defaults.milter.timeout_seconds);
  EXPECT_EQ(loaded.config.metrics.listen, defaults.metrics.listen);
  EXPECT_EQ(loaded.config.port_classes.mx_ports, defaults.port_classes.mx_ports);
  EXPECT_EQ(loaded.config.port_classes.submission_ports, defaults.port_classes.submission_ports);
}

TEST(ConfigLoader, EmptyTextGivesDefaults) {
  const auto loaded = loadConfigText("", "empty.yaml");
  EXPECT_TRUE(loaded.ok());
  EXPECT_EQ(loaded.config.metrics.listen, "127.0.0.1:9700");
}

TEST(ConfigLoader, ReadsEverySetting) {
  const auto loaded = loadConfigText(R"(
milter:
  socket: inet:8894@127.0.0.1
  timeout_seconds: 5
metrics:
  listen: "[::1]:9999"
port_classes:
  mx: {ports: [25, 2525], daemon_names: [MTA]}
  submission: {ports: [587]}
log: {level: debug, stderr: yes}
)",
                                     "t.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.errors.front().toString();
  const auto& c = loaded.config;
  EXPECT_EQ(c.milter.socket, "inet:8894@127.0.0.1");
  EXPECT_EQ(c.milter.timeout_seconds, 5u);
  EXPECT_EQ(c.metrics.listen, "[::1]:9999");
  EXPECT_EQ(c.port_classes.mx_ports, (std::vector<std::uint16_t>{25, 2525}));
  EXPECT_EQ(c.port_classes.mx_daemon_names, (std::vector<std::string>{"MTA"}));
  EXPECT_EQ(c.port_classes.submission_ports, (std::vector<std::uint16_t>{587}));
  EXPECT_EQ(c.log.level, log::Level::kDebug);
  EXPECT_TRUE(c.log.to_stderr);
}

struct ErrorCase {
  const char* name;
  const char* text;
  const char* want;  // the whole first error line
};

TEST(ConfigLoader, ErrorsNameFileLineAndColumn) {
  const ErrorCase cases[] = {
      {"unknown top-level key", "milter: {}\nmetricz: {}\n",
       "c.yaml:2:1: unknown key \"metricz\" in the top level (known keys: milter, metrics, "
       "port_classes, log, policyd, dns, auth, store, downgrade)"},
      {"unknown nested key", "milter:\n  sockett: unix:/x\n",
       "c.yaml:2:3: unknown key \"sockett\" in milter (known keys: socket, timeout_seconds)"},
      {"wrong type", "milter:\n  timeout_seconds: soon\n",
       "c.yaml:2:20: milter.timeout_seconds must be a whole number from 1 to 3600, found "
       "\"soon\""},
      {"out of range", "milter:\n  timeout_seconds: 0\n",
       "c.yaml:2:20: milter.timeout_seconds must be a whole number from 1 to 3600, found \"0\""},
      {"bad socket", "milter:\n  socket: tcp:25\n",
       "c.yaml:2:11: milter socket \"tcp:25\" must start with unix:, local:, inet: or inet6:"},
      {"relative unix socket", "milter:\n  socket: unix:milter.sock\n",
       "c.yaml:2:11: milter socket \"unix:milter.sock\": the path must be absolute"},
      {"bad listen", "metrics:\n  listen: localhost\n",
       "c.yaml:2:11: metrics address \"localhost\" must be HOST:PORT (port 1-65535)"},
      {"section not a map", "metrics: 9700\n",
       "c.yaml:1:10: metrics must be a mapping, found \"9700\""},
      {"bad port in list", "port_classes:\n  mx:\n    ports: [25, 70000]\n",
       "c.yaml:3:17: port_classes.mx.ports entry must be a whole number from 1 to 65535, found "
       "\"70000\""},
      {"bad level", "log:\n  level: loud\n",
       "c.yaml:2:10: log.level must be one of debug, info, warning, error, found \"loud\""},
      {"syntax error", "milter:\n  socket: [unclosed\n",
       "c.yaml:3:1: end of sequence flow not found"},
      {"top level not a map", "- a\n- b\n",
       "c.yaml:1:1: the top level must be a mapping, found a list"},
  };
  for (const auto& c : cases) {
    const auto loaded = loadConfigText(c.text, "c.yaml");
    ASSERT_FALSE(loaded.ok()) << c.name << ": accepted";
    EXPECT_EQ(loaded.errors.front().toString(), c.want) << c.name;
  }
}

TEST(ConfigLoader, ReportsEveryErrorNotJustTheFirst) {
  const auto loaded =
      loadConfigText("milter:\n  socket: x\n  timeout_seconds: -1\nfoo: 1\n", "c.yaml");
  EXPECT_EQ(loaded.errors.size(), 3u);
}

TEST(ConfigLoader, MissingFile) {
  const auto loaded = loadConfigFile("/nonexistent/mailsec.yaml");
  ASSERT_EQ(loaded.errors.size(), 1u);
  EXPECT_EQ(loaded.errors[0].toString(),
            "/nonexistent/mailsec.yaml: cannot open the configuration file");
}

TEST(ConfigLoader, HostileYamlDoesNotCrash) {
  const char* texts[] = {"*alias",         "a: &x [*x]",         "{{{{{{{{{{",
                         "\t\t: :",        "milter: !!binary x", "milter:\n  socket:\n    - a\n",
                         "? [a, b]\n: c\n"};
  for (const char* text : texts) {
    const auto loaded = loadConfigText(text, "h.yaml");
    (void)loaded;  // any outcome but a crash or an escaping exception is fine
  }
  SUCCEED();
}

TEST(ConfigLoader, ReadsDnsAndAuth) {
  const auto loaded = loadConfigText(R"(
dns:
  forwarders: ["127.0.0.1@5353", "::1"]
  timeout_ms: 700
  dnssec: off
  trust_anchor_files: [/tmp/ta.ds]
auth:
  enabled: false
  workers: 3
  queue: 10
  trusted_authserv_ids: [mx.example.org]
)",
                                     "t.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.errors.front().toString();
  const auto& c = loaded.config;
  EXPECT_EQ(c.dns.forwarders, (std::vector<std::string>{"127.0.0.1@5353", "::1"}));
  EXPECT_EQ(c.dns.timeout_ms, 700u);
  EXPECT_FALSE(c.dns.dnssec_validate);
  EXPECT_EQ(c.dns.trust_anchor_files, (std::vector<std::string>{"/tmp/ta.ds"}));
  EXPECT_FALSE(c.auth.enabled);
  EXPECT_EQ(c.auth.workers, 3u);
  EXPECT_EQ(c.auth.queue, 10u);
  EXPECT_EQ(c.auth.trusted_authserv_ids, (std::vector<std::string>{"mx.example.org"}));
}

TEST(ConfigLoader, DnsAndAuthDefaults) {
  const auto loaded = loadConfigText("dns: {}\nauth: {}\n", "t.yaml");
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded.config.dns.forwarders.empty());
  EXPECT_EQ(loaded.config.dns.timeout_ms, 1500u);
  EXPECT_TRUE(loaded.config.dns.dnssec_validate);
  EXPECT_TRUE(loaded.config.auth.enabled);
  EXPECT_EQ(loaded.config.auth.workers, 2u);
  EXPECT_EQ(loaded.config.auth.queue, 1000u);
}

TEST(ConfigLoader, DnsAndAuthErrorsNameLineAndColumn) {
  const ErrorCase cases[] = {
      {"forwarder not an IP", "dns:\n  forwarders: [127.0.0.1, ns.example]\n",
       "c.yaml:2:27: dns.forwarders: forwarder \"ns.example\" must be an IP address, "
       "optionally @PORT"},
      {"forwarder port", "dns:\n  forwarders: [\"127.0.0.1@99999\"]\n",
       "c.yaml:2:16: dns.forwarders: forwarder \"127.0.0.1@99999\": the port after @ must be "
       "1-65535"},
      {"dnssec value", "dns:\n  dnssec: yes\n",
       "c.yaml:2:11: dns.dnssec must be validate or off, found \"yes\""},
      {"relative anchor", "dns:\n  trust_anchor_files: [ta.ds]\n",
       "c.yaml:2:24: dns.trust_anchor_files: \"ta.ds\" must be an absolute path"},
      {"unknown auth key", "auth:\n  worker: 2\n",
       "c.yaml:2:3: unknown key \"worker\" in auth (known keys: enabled, workers, queue, "
       "trusted_authserv_ids)"},
  };
  for (const auto& c : cases) {
    const auto loaded = loadConfigText(c.text, "c.yaml");
    ASSERT_FALSE(loaded.ok()) << c.name;
    EXPECT_EQ(loaded.errors.front().toString(), c.want) << c.name;
  }
}

TEST(ConfigLoader, ReadsStoreAndDowngrade) {
  const auto loaded = loadConfigText(R"(
store:
  path: /var/lib/mailsec/h.sqlite
  flush_seconds: 5
  retention_days: 30
  public_suffix_list: /tmp/psl.dat
downgrade:
  min_sessions: 5
  min_tls_share: 0.95
  window_days: 7
  identity_sources: [rdns, helo]
)",
                                     "s.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.errors.front().toString();
  const auto& c = loaded.config;
  EXPECT_EQ(c.store.path, "/var/lib/mailsec/h.sqlite");
  EXPECT_EQ(c.store.flush_seconds, 5u);
  EXPECT_EQ(c.store.retention_days, 30u);
  EXPECT_EQ(c.store.public_suffix_list, "/tmp/psl.dat");
  EXPECT_EQ(c.downgrade.min_sessions, 5u);
  EXPECT_DOUBLE_EQ(c.downgrade.min_tls_share, 0.95);
  EXPECT_EQ(c.downgrade.window_days, 7u);
  EXPECT_EQ(c.downgrade.identity_sources,
            (std::vector<core::PeerDomainSource>{core::PeerDomainSource::kReverseDns,
                                                 core::PeerDomainSource::kHelo}));
}

TEST(ConfigLoader, StoreAndDowngradeDefaults) {
  const auto loaded = loadConfigText("", "empty.yaml");
  EXPECT_EQ(loaded.config.store.path, "") << "no store unless configured";
  EXPECT_EQ(loaded.config.store.flush_seconds, 60u);
  EXPECT_EQ(loaded.config.downgrade.min_sessions, 20u);
  EXPECT_DOUBLE_EQ(loaded.config.downgrade.min_tls_share, 0.99);
  EXPECT_EQ(loaded.config.downgrade.window_days, 30u);
}

TEST(ConfigLoader, StoreAndDowngradeErrorsNameLineAndColumn) {
  const ErrorCase cases[] = {
      {"relative path", "store:\n  path: history.sqlite\n",
       "c.yaml:2:9: store.path must be an absolute path, found \"history.sqlite\""},
      {"flush over a minute", "store:\n  flush_seconds: 120\n",
       "c.yaml:2:18: store.flush_seconds must be a whole number from 1 to 60, found \"120\""},
      {"share over 1", "downgrade:\n  min_tls_share: 1.5\n",
       "c.yaml:2:18: downgrade.min_tls_share must be a number in (0, 1], e.g. 0.99, found "
       "\"1.5\""},
      {"share not a number", "downgrade:\n  min_tls_share: most\n",
       "c.yaml:2:18: downgrade.min_tls_share must be a number in (0, 1], e.g. 0.99, found "
       "\"most\""},
      {"unknown source", "downgrade:\n  identity_sources: [rdns, ptr]\n",
       "c.yaml:2:21: downgrade.identity_sources: \"ptr\" is not one of rdns, helo, sender"},
      {"unknown key", "store:\n  flush: 5\n",
       "c.yaml:2:3: unknown key \"flush\" in store (known keys: path, flush_seconds, "
       "retention_days, public_suffix_list)"},
  };
  for (const auto& c : cases) {
    const auto loaded = loadConfigText(c.text, "c.yaml");
    ASSERT_FALSE(loaded.ok()) << c.name;
    EXPECT_EQ(loaded.errors.front().toString(), c.want) << c.name;
  }
}

TEST(ConfigLoader, ReadsPolicyd) {
  const auto loaded = loadConfigText(R"(
policyd:
  socket: unix:/var/spool/postfix/private/mailsec-policyd
  metrics_listen: 127.0.0.1:9801
  max_connections: 64
  idle_timeout_seconds: 600
  request_timeout_seconds: 5
)",
                                     "p.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.errors.front().toString();
  const auto& p = loaded.config.policyd;
  EXPECT_EQ(p.socket, "unix:/var/spool/postfix/private/mailsec-policyd");
  EXPECT_EQ(p.metrics_listen, "127.0.0.1:9801");
  EXPECT_EQ(p.max_connections, 64u);
  EXPECT_EQ(p.idle_timeout_seconds, 600u);
  EXPECT_EQ(p.request_timeout_seconds, 5u);
}

TEST(ConfigLoader, PolicydExampleAndDefaultsAgree) {
  const auto loaded = loadConfigFile(MAILSEC_EXAMPLE_CONFIG);
  ASSERT_TRUE(loaded.ok()) << loaded.errors.front().toString();
  const PolicydConfig defaults;
  const auto& p = loaded.config.policyd;
  EXPECT_EQ(p.socket, defaults.socket);
  EXPECT_EQ(p.metrics_listen, defaults.metrics_listen);
  EXPECT_EQ(p.max_connections, defaults.max_connections);
  EXPECT_EQ(p.idle_timeout_seconds, defaults.idle_timeout_seconds);
  EXPECT_EQ(p.request_timeout_seconds, defaults.request_timeout_seconds);
}

TEST(ConfigLoader, PolicydErrorsNameLineAndColumn) {
  const ErrorCase cases[] = {
      {"bad socket", "policyd:\n  socket: tcp:1\n",
       "c.yaml:2:11: policyd socket \"tcp:1\" must start with unix:, local:, inet: or inet6:"},
      {"zero connections", "policyd:\n  max_connections: 0\n",
       "c.yaml:2:20: policyd.max_connections must be a whole number from 1 to 65536, found \"0\""},
      {"unknown key", "policyd:\n  sockett: inet:1@h\n",
       "c.yaml:2:3: unknown key \"sockett\" in policyd (known keys: socket, metrics_listen, "
       "max_connections, idle_timeout_seconds, request_timeout_seconds)"},
  };
  for (const auto& c : cases) {
    const auto loaded = loadConfigText(c.text, "c.yaml");
    ASSERT_FALSE(loaded.ok()) << c.name;
    EXPECT_EQ(loaded.errors.front().toString(), c.want) << c.name;
  }
}

}  // namespace
}  // namespace mailsec::config
