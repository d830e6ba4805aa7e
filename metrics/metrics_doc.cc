#include "metrics/metrics_doc.h"

namespace mailsec::metrics {

std::string renderMetricsTable(const std::vector<FamilySpec>& specs) {
  std::string out;
  out += kGeneratedBegin;
  out += "\n| metric | type | labels and their allowed values | meaning |\n";
  out += "| --- | --- | --- | --- |\n";
  for (const auto& spec : specs) {
    out += "| `" + spec.name + "` | " + spec.type + " | ";
    bool firstLabel = true;
    for (const auto& label : spec.labels) {
      if (!firstLabel) out += "<br>";
      firstLabel = false;
      out += "`" + label.name + "`: ";
      bool firstValue = true;
      for (const auto& value : label.values) {
        if (!firstValue) out += ", ";
        firstValue = false;
        out += "`" + std::string(value) + "`";
      }
    }
    if (spec.labels.empty()) out += "—";
    out += " | " + spec.help + " |\n";
  }
  out += kGeneratedEnd;
  out += "\n";
  return out;
}

}  // namespace mailsec::metrics
