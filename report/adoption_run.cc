#include "report/adoption_run.h"

#include <filesystem>
#include <fstream>
#include <ostream>

#include "report/adoption_model.h"
#include "report/adoption_prometheus.h"
#include "report/adoption_render.h"
#include "report/adoption_store.h"

namespace mailsec::report {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;

bool writeFile(const std::filesystem::path& path, const std::string& text, std::ostream& out,
               std::ostream& err) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) {
    err << "mailsec-report: cannot write " << path.string() << '\n';
    return false;
  }
  out << path.string() << '\n';
  return true;
}

}  // namespace

bool knownFormat(const std::string& format) {
  return format == "html" || format == "markdown" || format == "csv" || format == "json";
}

int writeMonthlyReport(const MonthlyOptions& o, std::ostream& out, std::ostream& err) {
  MonthData current, previous;
  current.year = previous.year = o.year;
  current.month = previous.month = o.month;
  previousMonth(previous.year, previous.month);
  const std::string month = monthText(o.year, o.month);
  std::string source = o.source;
  std::string error;
  bool loaded = false;
  if (!o.prometheus_url.empty()) {
    PrometheusSource prometheus(o.prometheus_url, o.prometheus_timeout_s);
    loaded = prometheus.load(source, current, previous, error);
  } else {
    loaded = loadStoreMonths(o.store_path, source, current, previous, error);
  }
  if (!loaded) {
    err << "mailsec-report: " << error << '\n';
    return kExitFailure;
  }
  const Report report = buildReport(current, previous, ReportOptions{o.top_n});
  if (report.empty()) {
    err << "mailsec-report: no traffic recorded for " << month << " (" << report.source
        << "); no report written\n";
    return kExitFailure;
  }
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  if (ec) {
    err << "mailsec-report: cannot create " << o.out_dir << ": " << ec.message() << '\n';
    return kExitFailure;
  }
  const std::filesystem::path dir(o.out_dir);
  const std::string base = "mailsec-adoption-" + month;
  bool ok = true;
  if (o.formats.contains("html"))
    ok &= writeFile(dir / (base + ".html"), renderHtml(report), out, err);
  if (o.formats.contains("markdown")) {
    ok &= writeFile(dir / (base + ".md"), renderMarkdown(report), out, err);
  }
  if (o.formats.contains("json"))
    ok &= writeFile(dir / (base + ".json"), renderJson(report), out, err);
  if (o.formats.contains("csv")) {
    for (const auto& [name, text] : renderCsv(report)) {
      ok &= writeFile(dir / (base + "-" + name), text, out, err);
    }
  }
  return ok ? kExitOk : kExitFailure;
}

}  // namespace mailsec::report
