#include "report/report_cli.h"

#include <ctime>
#include <filesystem>
#include <iomanip>
#include <optional>
#include <ostream>
#include <vector>

#include "config/loader.h"
#include "metrics/store/store.h"

namespace mailsec::report {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kDefaultSinceDays = 30;

struct Options {
  bool downgrades = false;
  std::optional<std::string> since;
  std::optional<std::string> store;
  std::optional<std::string> config;
};

std::string isoTime(std::int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

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
       mailsec-report --help | --version

Reads mailsec's history store (store.path in the configuration) and prints a report.

reports:
  --downgrades       peers suspected of a STARTTLS downgrade (a cleartext session from a peer
                     whose history is TLS, a masked or truncated STARTTLS), newest first

options:
  --since DAY        from this UTC day on, YYYY-MM-DD (default: 30 days ago)
  --store PATH       the store file (overrides store.path)
  --config PATH      configuration file (default /etc/mailsec/mailsec.yaml)
  --help             print this help and exit
  --version          print the version and exit

exit status: 0 printed, 1 the configuration or the store could not be read, 2 usage error.
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
  if (!o.downgrades) {
    err << "mailsec-report: choose a report (--downgrades)\n" << reportUsage();
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
  return printDowngrades(store, since, out, err);
}

}  // namespace mailsec::report
