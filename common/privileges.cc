#include "common/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace mailsec::common {

std::optional<RunAs> lookUpRunAs(const std::string& name, std::string& problem) {
  if (name.empty()) return std::nullopt;
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  const int rc = ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (found == nullptr) {
    problem = "--user " + name + ": " + (rc != 0 ? std::strerror(rc) : "no such user");
    return std::nullopt;
  }
  RunAs user{name, entry.pw_uid, entry.pw_gid};
  if (::geteuid() != 0 && ::geteuid() != user.uid) {
    problem = "--user " + name + ": only root can switch to another user";
    return std::nullopt;
  }
  return user;
}

std::string dropPrivileges(const std::optional<RunAs>& run_as) {
  if (!run_as) return "";
  const RunAs& user = *run_as;
  if (::geteuid() == user.uid && ::getuid() == user.uid) return "";
  const auto failed = [&](const char* what) {
    return "--user " + user.name + ": " + what + ": " + std::strerror(errno);
  };
  if (::initgroups(user.name.c_str(), user.gid) != 0) return failed("initgroups");
  if (::setgid(user.gid) != 0) return failed("setgid");
  if (::setuid(user.uid) != 0) return failed("setuid");
  // setuid as root changes the real, effective and saved ids: root must be gone for good.
  if (user.uid != 0 && ::setuid(0) == 0) return "--user " + user.name + ": root could be regained";
  return "";
}

std::string handOver(const std::string& path, const std::optional<RunAs>& user) {
  if (!user || path.empty()) return "";
  if (::chown(path.c_str(), user->uid, user->gid) != 0) {
    return "--user " + user->name + ": chown " + path + ": " + std::strerror(errno);
  }
  return "";
}

}  // namespace mailsec::common
