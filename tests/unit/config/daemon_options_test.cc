// Tests of config/daemon_options: --user, and reload() loading the file again with the same
// command-line overrides (the milter's SIGUSR1 reload).
#include "config/daemon_options.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

namespace mailsec::config {
namespace {

class DaemonOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "daemon_options_test_" + std::to_string(::getpid()) + ".yaml";
  }
  void TearDown() override { ::unlink(path_.c_str()); }

  void write(const std::string& text) { std::ofstream(path_) << text; }

  DaemonOptions parse(std::vector<std::string> args) {
    args.insert(args.begin(), {"mailsec-milter", "--config", path_});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    return parseDaemonOptions("mailsec-milter", static_cast<int>(argv.size()), argv.data(),
                              "usage\n");
  }

  std::string path_;
};

TEST_F(DaemonOptionsTest, UserIsKeptForMain) {
  write("");
  EXPECT_EQ(parse({"--user", "mailsec"}).user, "mailsec");
  EXPECT_EQ(parse({"--user=mailsec"}).user, "mailsec");
  EXPECT_EQ(parse({}).user, "");
  EXPECT_EQ(parse({"--user"}).exit_code, 2);
}

TEST_F(DaemonOptionsTest, ReloadReadsTheFileAgainWithTheSameOverrides) {
  write("port_classes: {mx: {ports: [25]}}\nlog: {level: info}\n");
  const auto options = parse({"--socket", "inet:18894@127.0.0.1", "--log-stderr"});
  ASSERT_TRUE(options.config);
  ASSERT_TRUE(options.reload);
  EXPECT_EQ(options.config->port_classes.mx_ports, (std::vector<std::uint16_t>{25}));

  write(
      "port_classes: {mx: {ports: [25, 2525]}}\nlog: {level: debug}\nmilter: {socket: "
      "unix:/run/other.sock}\n");
  const auto reloaded = options.reload();
  ASSERT_TRUE(reloaded.config);
  EXPECT_TRUE(reloaded.problems.empty());
  EXPECT_EQ(reloaded.config->port_classes.mx_ports, (std::vector<std::uint16_t>{25, 2525}));
  EXPECT_EQ(reloaded.config->log.level, log::Level::kDebug);
  EXPECT_EQ(reloaded.config->milter.socket, "inet:18894@127.0.0.1");  // --socket still wins
  EXPECT_TRUE(reloaded.config->log.to_stderr);
  EXPECT_EQ(options.config->port_classes.mx_ports, (std::vector<std::uint16_t>{25}));
}

TEST_F(DaemonOptionsTest, ReloadOfAnInvalidFileNamesTheProblem) {
  write("");
  const auto options = parse({});
  ASSERT_TRUE(options.config);
  write("port_classes: {mx: {ports: [nope]}}\n");
  const auto reloaded = options.reload();
  EXPECT_FALSE(reloaded.config);
  ASSERT_EQ(reloaded.problems.size(), 1u);
  EXPECT_EQ(reloaded.problems[0].rfind(path_ + ":1:", 0), 0u) << reloaded.problems[0];
}

}  // namespace
}  // namespace mailsec::config
