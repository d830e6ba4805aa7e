#include "metrics/metrics.h"

#include <exception>

#include <prometheus/exposer.h>
#include <prometheus/text_serializer.h>

namespace mailsec::metrics {

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      catalogue_(*registry_),
      recorder_(catalogue_) {}

Metrics::~Metrics() = default;

std::optional<std::string> Metrics::serve(const std::string& listen) {
  if (listen.empty() || listen.find(':') == std::string::npos) {
    return "metrics address \"" + listen + "\" is not HOST:PORT";
  }
  try {
    // One worker thread is plenty for a scrape every few seconds and bounds our footprint.
    exposer_ = std::make_unique<prometheus::Exposer>(listen, 1);
    exposer_->RegisterCollectable(registry_);
  } catch (const std::exception& e) {
    return "cannot serve metrics on " + listen + ": " + e.what();
  }
  return std::nullopt;
}

std::string Metrics::render() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace mailsec::metrics
