// Tests of common/privileges (--user) and common/signals' ReloadSignal (SIGUSR1 reload).
#include "common/privileges.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "common/signals.h"

namespace mailsec::common {
namespace {

TEST(Privileges, UnknownUserIsAProblem) {
  std::string problem;
  EXPECT_FALSE(lookUpRunAs("no-such-user-mailsec-test", problem));
  EXPECT_EQ(problem, "--user no-such-user-mailsec-test: no such user");
}

TEST(Privileges, NoUserKeepsTheCurrentOne) {
  std::string problem;
  const auto none = lookUpRunAs("", problem);
  EXPECT_FALSE(none);
  EXPECT_EQ(problem, "");
  EXPECT_EQ(dropPrivileges(none), "");
}

TEST(Privileges, OnlyRootSwitchesToAnotherUser) {
  std::string problem;
  const auto root = lookUpRunAs("root", problem);
  if (::geteuid() == 0) {
    ASSERT_TRUE(root) << problem;
    EXPECT_EQ(root->uid, 0u);
    EXPECT_EQ(dropPrivileges(*root), "");  // already root: nothing to do
  } else {
    EXPECT_FALSE(root);
    EXPECT_EQ(problem, "--user root: only root can switch to another user");
  }
}

TEST(Privileges, DropsForGoodInAChild) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  std::string problem;
  const auto nobody = lookUpRunAs("nobody", problem);
  ASSERT_TRUE(nobody) << problem;
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        const bool dropped = dropPrivileges(*nobody).empty();
        const bool is_nobody = ::getuid() == nobody->uid && ::geteuid() == nobody->uid &&
                               ::getgid() == nobody->gid && ::getegid() == nobody->gid;
        const bool root_gone = ::setuid(0) != 0;
        std::exit(dropped && is_nobody && root_gone ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(Privileges, HandsABoundSocketToTheUser) {
  std::string problem;
  EXPECT_EQ(handOver("/nonexistent", std::nullopt), "");  // no --user: nothing to do
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  const auto nobody = lookUpRunAs("nobody", problem);
  ASSERT_TRUE(nobody) << problem;
  const std::string path = ::testing::TempDir() + "privileges_test_" + std::to_string(::getpid());
  std::ofstream(path) << "";
  EXPECT_EQ(handOver(path, nobody), "");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, nobody->uid);
  EXPECT_EQ(st.st_gid, nobody->gid);
  ::unlink(path.c_str());
  EXPECT_EQ(handOver(path, nobody), "--user nobody: chown " + path + ": No such file or directory");
}

TEST(ReloadSignal, RunsTheCallbackOncePerSignal) {
  std::atomic<int> reloads{0};
  {
    ReloadSignal reload;
    reload.start([&] { ++reloads; });
    for (int want = 1; want <= 2; ++want) {
      ASSERT_EQ(::kill(::getpid(), SIGUSR1), 0);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (reloads < want && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      EXPECT_EQ(reloads, want);
    }
  }  // the destructor stops the thread without running the callback again
  EXPECT_EQ(reloads, 2);
}

}  // namespace
}  // namespace mailsec::common
