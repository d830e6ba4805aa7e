// mailsec-metrics-doc — prints the generated metrics table for docs/metrics.md.
// Not installed; `cmake --build build --target update-metrics-doc` rewrites the doc.
#include <iostream>

#include <prometheus/registry.h>

#include "metrics/catalogue.h"
#include "metrics/metrics_doc.h"

int main() {
  prometheus::Registry registry;
  mailsec::metrics::Catalogue catalogue(registry);
  std::cout << mailsec::metrics::renderMetricsTable(catalogue.specs());
  return 0;
}
