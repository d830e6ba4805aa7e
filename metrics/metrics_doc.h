// metrics_doc.h — renders the catalogue as the Markdown table of docs/metrics.md, so the
// documented contract is generated from the code that exports it.
#pragma once

#include <string>
#include <vector>

#include "metrics/family_spec.h"

namespace mailsec::metrics {

inline constexpr const char* kGeneratedBegin = "<!-- BEGIN GENERATED: mailsec-metrics-doc -->";
inline constexpr const char* kGeneratedEnd = "<!-- END GENERATED -->";

// The generated section, markers included.
std::string renderMetricsTable(const std::vector<FamilySpec>& specs);

}  // namespace mailsec::metrics
