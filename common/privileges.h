// privileges.h — running a daemon as an unprivileged user: resolve the user early (a missing
// user is a start-up error, never a silent run as root), then, once every socket is bound,
// switch for good (supplementary groups, group, user) and check that root cannot be regained.
//
// Input: a user name from the command line (trusted: the operator's). Thread-safety: call
// dropPrivileges from main; glibc applies set*id to every thread of the process. Errors: a
// problem string ("" on success); the caller logs it and exits.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace mailsec::common {

struct RunAs {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Looks `name` up. Empty `name`: nullopt, no problem (keep the current user). Otherwise
// nullopt with `problem` set when it does not exist, or when the process is neither root nor
// already that user (it could not switch).
std::optional<RunAs> lookUpRunAs(const std::string& name, std::string& problem);

// Becomes `user` (initgroups, setgid, setuid). Nullopt, or already that user: nothing to do.
// Returns a problem, or "".
std::string dropPrivileges(const std::optional<RunAs>& user);

// Gives `path` (a unix socket bound before the drop) to `user` and its group, so that the
// group's members (the MTA) keep the access they would have had. Nullopt or an empty path:
// nothing to do. Returns a problem, or "".
std::string handOver(const std::string& path, const std::optional<RunAs>& user);

}  // namespace mailsec::common
