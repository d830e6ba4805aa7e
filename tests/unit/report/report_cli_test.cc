#include "report/report_cli.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "metrics/store/store.h"

namespace mailsec::report {
namespace {

constexpr std::int64_t kNow = 20000LL * 86400 + 3600;  // 2024-10-04T01:00:00Z

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mailsec-report-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "h.sqlite").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void seed() {
    std::optional<metrics::store::StoreError> error;
    auto store =
        metrics::store::Store::open(path_, metrics::store::Store::Mode::kReadWrite, 100, &error);
    ASSERT_FALSE(error);
    metrics::store::Batch b;
    b.downgrades[{20000, "example.com", "rdns", "cleartext_from_tls_peer", "milter"}] = {
        3, kNow - 60, kNow};
    b.downgrades[{19990, "old.example", "helo", "starttls_masked", "milter"}] = {1, kNow - 864000,
                                                                                 kNow - 864000};
    ASSERT_FALSE(store.write(b));
  }

  int run(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    return runReport(args, out_, err_, [] { return kNow; });
  }

  std::filesystem::path dir_;
  std::string path_;
  std::ostringstream out_, err_;
};

TEST_F(ReportTest, ListsSuspectedPeersNewestFirst) {
  seed();
  ASSERT_EQ(run({"--downgrades", "--store", path_}), 0) << err_.str();
  const std::string text = out_.str();
  const auto recent = text.find("example.com");
  const auto old = text.find("old.example");
  ASSERT_NE(recent, std::string::npos) << text;
  ASSERT_NE(old, std::string::npos) << text;
  EXPECT_LT(recent, old);
  EXPECT_NE(text.find("cleartext_from_tls_peer"), std::string::npos);
  EXPECT_NE(text.find("reverse DNS"), std::string::npos);
  EXPECT_NE(text.find("2024-10-04T01:00:00Z"), std::string::npos) << text;
}

TEST_F(ReportTest, SinceLimitsTheDays) {
  seed();
  ASSERT_EQ(run({"--downgrades", "--since", "2024-10-01", "--store", path_}), 0);
  EXPECT_NE(out_.str().find("example.com"), std::string::npos);
  EXPECT_EQ(out_.str().find("old.example"), std::string::npos) << out_.str();
  ASSERT_EQ(run({"--downgrades", "--since", "2024-10-05", "--store", path_}), 0);
  EXPECT_NE(out_.str().find("No suspected STARTTLS downgrades since 2024-10-05"), std::string::npos)
      << out_.str();
}

TEST_F(ReportTest, StoreFromTheConfiguration) {
  seed();
  const std::string config = (dir_ / "mailsec.yaml").string();
  std::ofstream(config) << "store:\n  path: " << path_ << "\n";
  ASSERT_EQ(run({"--downgrades", "--config", config}), 0) << err_.str();
  EXPECT_NE(out_.str().find("example.com"), std::string::npos);
}

TEST_F(ReportTest, ErrorsAndUsage) {
  EXPECT_EQ(run({}), 2);
  EXPECT_EQ(run({"--downgrades", "--since", "yesterday", "--store", path_}), 2);
  EXPECT_NE(err_.str().find("--since \"yesterday\""), std::string::npos);
  EXPECT_EQ(run({"--downgrades", "--bogus"}), 2);
  EXPECT_EQ(run({"--downgrades", "--store"}), 2);
  EXPECT_EQ(run({"--downgrades", "--store", path_}), 1) << "no such store";
  EXPECT_NE(err_.str().find("does not exist"), std::string::npos);
  std::ofstream(path_) << "not a database, not at all, no";
  EXPECT_EQ(run({"--downgrades", "--store", path_}), 1);
  EXPECT_NE(err_.str().find(path_), std::string::npos) << err_.str();
  const std::string config = (dir_ / "nostore.yaml").string();
  std::ofstream(config) << "log:\n  level: info\n";
  EXPECT_EQ(run({"--downgrades", "--config", config}), 1);
  EXPECT_NE(err_.str().find("sets no store.path"), std::string::npos);
  EXPECT_EQ(run({"--help"}), 0);
  EXPECT_NE(out_.str().find("--downgrades"), std::string::npos);
}

}  // namespace
}  // namespace mailsec::report
