// family_spec.h — the description of one metric family: name, help, type, and for each
// label its name and closed set of values. The catalogue produces these; docs/metrics.md and
// the contract tests are generated from them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mailsec::metrics {

struct LabelSpec {
  std::string name;
  std::vector<std::string_view> values;
};

struct FamilySpec {
  std::string name;
  std::string help;
  std::string type;  // counter, gauge, histogram
  std::vector<LabelSpec> labels;
};

}  // namespace mailsec::metrics
