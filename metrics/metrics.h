// metrics.h — one process's metrics: the Prometheus registry, the catalogue of families on it,
// the recorder core writes through, and the HTTP exposer that serves /metrics.
//
// Thread-safety: construct and start() on the main thread before traffic; afterwards
// recorder() and render() are safe from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <prometheus/registry.h>

#include "metrics/catalogue.h"
#include "metrics/prometheus_recorder.h"

namespace prometheus {
class Exposer;
}

namespace mailsec::metrics {

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Serves /metrics on `listen` ("127.0.0.1:9700", "[::1]:9700", "0.0.0.0:9700").
  // Returns an error message when the address is malformed or cannot be bound.
  std::optional<std::string> serve(const std::string& listen);

  Catalogue& catalogue() { return catalogue_; }
  core::Recorder& recorder() { return recorder_; }
  // The text exposition format, as /metrics would serve it.
  std::string render() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  Catalogue catalogue_;
  PrometheusRecorder recorder_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace mailsec::metrics
