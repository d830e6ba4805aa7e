// store_reader.h — read-only access to the history store's rollups for reports: every session,
// message and downgrade row of a range of days, as the store keeps them (mailsec-report sums
// them into its tables).
//
// Input: a trusted path; the file is not trusted (it may be missing, not a mailsec store, locked
// or corrupt): every failure is a StoreError, never an exception. Text columns are returned as
// stored (closed-set spellings and PSL-reduced domains); reports print them as data.
// Thread-safety: a plain function, its own SQLite connection per call. Errors: StoreError.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "metrics/store/store.h"

namespace mailsec::metrics::store {

struct SessionRollup {
  SessionKey key;
  std::uint64_t sessions = 0;
};

struct MessageRollup {
  MessageKey key;
  std::uint64_t messages = 0;
};

struct DowngradeRollup {
  DowngradeKey key;
  DowngradeCount count;
};

struct Rollups {
  std::vector<SessionRollup> sessions;
  std::vector<MessageRollup> messages;
  std::vector<DowngradeRollup> downgrades;
};

// Appends every row of the days first..last (inclusive) to `out`. The file is opened read-only
// (and checked to be a mailsec store) and closed again.
std::optional<StoreError> readRollups(const std::string& path, Day first, Day last, Rollups& out,
                                      int busy_timeout_ms = 5000);

}  // namespace mailsec::metrics::store
