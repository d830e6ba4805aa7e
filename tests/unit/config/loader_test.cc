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
       "port_classes, log, policyd)"},
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
      {"top level not a map", "- a\n- b\n", "c.yaml:1:1: the top level must be a mapping, found a list"},
  };
  for (const auto& c : cases) {
    const auto loaded = loadConfigText(c.text, "c.yaml");
    ASSERT_FALSE(loaded.ok()) << c.name << ": accepted";
    EXPECT_EQ(loaded.errors.front().toString(), c.want) << c.name;
  }
}

TEST(ConfigLoader, ReportsEveryErrorNotJustTheFirst) {
  const auto loaded = loadConfigText("milter:\n  socket: x\n  timeout_seconds: -1\nfoo: 1\n",
                                     "c.yaml");
  EXPECT_EQ(loaded.errors.size(), 3u);
}

TEST(ConfigLoader, MissingFile) {
  const auto loaded = loadConfigFile("/nonexistent/mailsec.yaml");
  ASSERT_EQ(loaded.errors.size(), 1u);
  EXPECT_EQ(loaded.errors[0].toString(),
            "/nonexistent/mailsec.yaml: cannot open the configuration file");
}

TEST(ConfigLoader, HostileYamlDoesNotCrash) {
  const char* texts[] = {"*alias", "a: &x [*x]", "{{{{{{{{{{", "\t\t: :", "milter: !!binary x",
                         "milter:\n  socket:\n    - a\n", "? [a, b]\n: c\n"};
  for (const char* text : texts) {
    const auto loaded = loadConfigText(text, "h.yaml");
    (void)loaded;  // any outcome but a crash or an escaping exception is fine
  }
  SUCCEED();
}

}  // namespace
}  // namespace mailsec::config
