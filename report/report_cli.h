// report_cli.h — the mailsec-report command: reads the history store and prints what it holds.
//
//   mailsec-report --downgrades [--since YYYY-MM-DD] [--store PATH] [--config PATH]
//   mailsec-report --month YYYY-MM|last [--out DIR] [--format LIST] [--top N] [--source NAME]
//                  [--store PATH | --prometheus URL] [--config PATH]
//   mailsec-report --help | --version
//
// --downgrades lists the peers suspected of a STARTTLS downgrade (from the store's downgrades
// table: never in Prometheus labels), newest first. --month writes the monthly adoption report
// (adoption_run.h) from the store or from a Prometheus. This file only parses and dispatches.
//
// The store is store.path from the configuration (--config, default /etc/mailsec/mailsec.yaml)
// unless --store names it. Exit codes: 0 printed (also when there is nothing to list); 1 the
// configuration, the store or Prometheus could not be read, or --month found no traffic;
// 2 usage error.
//
// Trusts: the command line and configuration as an operator's; the store's contents as data
// (printed as text, never interpreted). Thread-safety: touches only the streams it is given.
// Errors: reported on `err`, never thrown.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <span>
#include <string>

namespace mailsec::report {

// Seconds since the Unix epoch (the default --since is 30 days before now).
using ReportClock = std::function<std::int64_t()>;

int runReport(std::span<const std::string> args, std::ostream& out, std::ostream& err,
              const ReportClock& now);

std::string reportUsage();

}  // namespace mailsec::report
