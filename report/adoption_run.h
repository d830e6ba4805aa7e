// adoption_run.h — mailsec-report --month: loads a month and the one before from a source (the
// history store, or a Prometheus that scrapes the fleet), builds the adoption report and writes
// the formats asked for into a directory:
//   mailsec-adoption-YYYY-MM.html, .md, .json and mailsec-adoption-YYYY-MM-<table>.csv.
//
// Input: the operator's options. Thread-safety: touches the file system and the streams it is
// given. Errors: reported on `err` with a non-zero exit (1: no data, an unreadable source, a
// month without traffic, an unwritable directory); never an empty report.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <set>
#include <string>

namespace mailsec::report {

struct MonthlyOptions {
  int year = 0;
  unsigned month = 0;
  std::string out_dir = ".";
  std::set<std::string> formats = {"html", "markdown", "csv", "json"};
  std::string store_path;      // one of these two
  std::string prometheus_url;  // http://host:port[/prefix]
  std::string source;          // milter | policyd | "" (the busiest)
  std::size_t top_n = 20;
  int prometheus_timeout_s = 30;
};

// The formats --format accepts.
bool knownFormat(const std::string& format);

int writeMonthlyReport(const MonthlyOptions& options, std::ostream& out, std::ostream& err);

}  // namespace mailsec::report
