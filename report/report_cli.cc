#include "report/report_cli.h"

#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <optional>
#include <ostream>
#include <vector>

#include "config/loader.h"
#include "metrics/store/store.h"
#include "report/adoption_model.h"
#include "report/adoption_render.h"
#include "report/adoption_run.h"

namespace mailsec::report {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kDefaultSinceDays = 30;

struct Options {
  bool downgrades = false;
  std::optional<std::string> month;
  std::optional<std::string> out, format, prometheus, top, source;
  std::optional<std::string> since;
  std::optional<std::string> store;
  std::optional<std::string> config;
};

// What the downgrades table calls the ways a peer was identified.
std::string identifiedBy(const std::string& peer_source) {
  if (peer_source == "rdns") return "reverse DNS";
  if (peer_source == "helo") return "HELO";
  if (peer_source == "sender") return "sender";
  return "nothing";
}

int printDowngrades(metrics::store::Store& store, metrics::store::Day since, std::ostream& out,
                    std::ostream& err) {
  std::vector<metrics::store::DowngradeRow> rows;
  if (const auto error = store.downgrades(since, rows)) {
    err << "mailsec-report: " << error->message << '\n';
    return kExitFailure;
  }
  const std::string since_text = metrics::store::dayText(since);
  if (rows.empty()) {
    out << "No suspected STARTTLS downgrades since " << since_text << ".\n";
    return kExitOk;
  }
  out << "Suspected STARTTLS downgrades since " << since_text << " (" << rows.size()
      << " peer/signal pairs, newest first):\n\n";
  std::size_t width = 4;
  for (const auto& r : rows) width = std::max(width, r.peer_domain.size());
  out << std::left << std::setw(static_cast<int>(width)) << "peer"
      << "  " << std::setw(11) << "identified"
      << "  " << std::setw(23) << "signal"
      << "  " << std::setw(7) << "source"
      << "  " << std::right << std::setw(7) << "count"
      << "  " << std::left << std::setw(20) << "first seen"
      << "  last seen\n";
  for (const auto& r : rows) {
    out << std::left << std::setw(static_cast<int>(width))
        << (r.peer_domain.empty() ? "(unknown)" : r.peer_domain) << "  " << std::setw(11)
        << identifiedBy(r.peer_source) << "  " << std::setw(23) << r.signal << "  " << std::setw(7)
        << r.source << "  " << std::right << std::setw(7) << r.count << "  " << std::left
        << std::setw(20) << isoTime(r.first_seen) << "  " << isoTime(r.last_seen) << '\n';
  }
  return kExitOk;
}

}  // namespace

std::string reportUsage() {
  return R"(usage: mailsec-report --downgrades [--since YYYY-MM-DD] [--store PATH] [--config PATH]
       mailsec-report --month YYYY-MM|last [--out DIR] [--format LIST] [--top N]
                      [--source milter|policyd] [--store PATH | --prometheus URL] [--config PATH]
       mailsec-report --help | --version

Reads mailsec's history store (store.path in the configuration) and prints a report.

reports:
  --downgrades       peers suspected of a STARTTLS downgrade (a cleartext session from a peer
                     whose history is TLS, a masked or truncated STARTTLS), newest first
  --month YYYY-MM    the monthly adoption report against the month before (--month last:
                     the previous calendar month, UTC): HTML (inline
                     charts, prints well), Markdown, and CSV and JSON of every table, written
                     as DIR/mailsec-adoption-YYYY-MM.{html,md,json} and -TABLE.csv

options:
  --since DAY        from this UTC day on, YYYY-MM-DD (default: 30 days ago)
  --out DIR          where --month writes its files (default: the current directory)
  --format LIST      comma-separated: html, markdown, csv, json (default: all four)
  --top N            peer domains in the top-N table (default 20)
  --source NAME      milter or policyd (default: the one that counted more inbound sessions)
  --prometheus URL   build --month from this Prometheus (http://host:9090) instead of the
                     store: every instance it scrapes, summed
  --store PATH       the store file (overrides store.path)
  --config PATH      configuration file (default /etc/mailsec/mailsec.yaml)
  --help             print this help and exit
  --version          print the version and exit

exit status: 0 printed, 1 the configuration, the store or Prometheus could not be read, or
the month has no traffic (no report is written), 2 usage error.
)";
}

int runReport(std::span<const std::string> args, std::ostream& out, std::ostream& err,
              const ReportClock& now) {
  Options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const auto value = [&](std::optional<std::string>& field) {
      if (i + 1 >= args.size()) return false;
      field = args[++i];
      return true;
    };
    if (a == "--help") {
      out << reportUsage();
      return kExitOk;
    }
    if (a == "--version") {
      out << "mailsec-report " << MAILSEC_VERSION << '\n';
      return kExitOk;
    }
    bool ok = true;
    if (a == "--downgrades")
      o.downgrades = true;
    else if (a == "--month")
      ok = value(o.month);
    else if (a == "--out")
      ok = value(o.out);
    else if (a == "--format")
      ok = value(o.format);
    else if (a == "--prometheus")
      ok = value(o.prometheus);
    else if (a == "--top")
      ok = value(o.top);
    else if (a == "--source")
      ok = value(o.source);
    else if (a == "--since")
      ok = value(o.since);
    else if (a == "--store")
      ok = value(o.store);
    else if (a == "--config")
      ok = value(o.config);
    else {
      err << "mailsec-report: unknown argument \"" << a << "\"\n" << reportUsage();
      return kExitUsage;
    }
    if (!ok) {
      err << "mailsec-report: " << a << " needs a value\n";
      return kExitUsage;
    }
  }
  if (o.downgrades == o.month.has_value()) {
    err << "mailsec-report: choose one report (--downgrades or --month)\n" << reportUsage();
    return kExitUsage;
  }
  MonthlyOptions monthly;
  if (o.month) {
    if (*o.month == "last") {
      // The month before the one `now` is in (what a timer on the 1st reports).
      const std::string today =
          metrics::store::dayText(static_cast<metrics::store::Day>(now() / 86400));
      parseMonth(today.substr(0, 7), monthly.year, monthly.month);
      previousMonth(monthly.year, monthly.month);
    } else if (!parseMonth(*o.month, monthly.year, monthly.month)) {
      err << "mailsec-report: --month \"" << *o.month << "\" is not a month (YYYY-MM or last)\n";
      return kExitUsage;
    }
    if (o.format) {
      monthly.formats.clear();
      std::string list = *o.format + ",";
      for (std::size_t at = 0, comma; (comma = list.find(',', at)) != std::string::npos;
           at = comma + 1) {
        const std::string f = list.substr(at, comma - at);
        if (!knownFormat(f)) {
          err << "mailsec-report: --format \"" << f << "\" is not html, markdown, csv or json\n";
          return kExitUsage;
        }
        monthly.formats.insert(f);
      }
    }
    if (o.top) {
      char* end = nullptr;
      const unsigned long n = std::strtoul(o.top->c_str(), &end, 10);
      if (o.top->empty() || *end != '\0' || n == 0 || n > 1000) {
        err << "mailsec-report: --top \"" << *o.top << "\" is not a number from 1 to 1000\n";
        return kExitUsage;
      }
      monthly.top_n = n;
    }
    if (o.source && *o.source != "milter" && *o.source != "policyd") {
      err << "mailsec-report: --source must be milter or policyd\n";
      return kExitUsage;
    }
    if (o.prometheus && o.store) {
      err << "mailsec-report: give --store or --prometheus, not both\n";
      return kExitUsage;
    }
    monthly.out_dir = o.out.value_or(".");
    monthly.source = o.source.value_or("");
    if (o.prometheus) {
      monthly.prometheus_url = *o.prometheus;
      return writeMonthlyReport(monthly, out, err);
    }
  } else if (o.out || o.format || o.prometheus || o.top || o.source) {
    err << "mailsec-report: --out, --format, --top, --source and --prometheus go with --month\n";
    return kExitUsage;
  }
  metrics::store::Day since = static_cast<metrics::store::Day>(now() / 86400) - kDefaultSinceDays;
  if (o.since && !metrics::store::parseDay(*o.since, since)) {
    err << "mailsec-report: --since \"" << *o.since << "\" is not a date (YYYY-MM-DD)\n";
    return kExitUsage;
  }
  std::string path;
  if (o.store) {
    path = *o.store;
  } else {
    const std::string config_path = o.config.value_or(config::kDefaultPath);
    const auto loaded = config::loadConfigFile(config_path);
    for (const auto& e : loaded.errors) err << e.toString() << '\n';
    if (!loaded.ok()) return kExitFailure;
    path = loaded.config.store.path;
    if (path.empty()) {
      err << "mailsec-report: " << config_path
          << " sets no store.path (the history store is off); give --store PATH\n";
      return kExitFailure;
    }
  }
  if (!std::filesystem::exists(path)) {
    err << "mailsec-report: store " << path << " does not exist (has the daemon run with it?)\n";
    return kExitFailure;
  }
  std::optional<metrics::store::StoreError> error;
  auto store =
      metrics::store::Store::open(path, metrics::store::Store::Mode::kReadOnly, 5000, &error);
  if (error) {
    err << "mailsec-report: " << error->message << " (" << core::toLabel(error->kind) << ")\n";
    return kExitFailure;
  }
  if (o.month) {
    monthly.store_path = path;
    return writeMonthlyReport(monthly, out, err);
  }
  return printDowngrades(store, since, out, err);
}

}  // namespace mailsec::report
