// adoption_store.h — the monthly report's data from the history store: one month and the one
// before it, read from the daily rollups (metrics/store/store_reader.h) and summed into
// MonthData. Inbound means port_class mx; one source (milter or policyd) is reported, since a
// site that runs both counts every session twice.
//
// Input: a trusted path; the file's contents are data. Thread-safety: a plain function.
// Errors: false and a message (missing or unreadable store, not a mailsec store).
#pragma once

#include <optional>
#include <string>

#include "metrics/store/store_reader.h"
#include "report/adoption_model.h"

namespace mailsec::report {

// Sums the rows of `rollups` of one month into `out` (out.year and out.month say which),
// counting only `source`'s rows.
void monthFromRollups(const metrics::store::Rollups& rollups, const std::string& source,
                      MonthData& out);

// The source with the most inbound sessions in days first..last ("milter" when none).
std::string busiestSource(const metrics::store::Rollups& rollups, DayNumber first, DayNumber last);

// Reads `current` (its year and month set) and `previous` (likewise) from the store at `path`;
// `source` empty: the busiest source of the current month (set in `source`).
bool loadStoreMonths(const std::string& path, std::string& source, MonthData& current,
                     MonthData& previous, std::string& error);

}  // namespace mailsec::report
