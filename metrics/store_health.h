// store_health.h — the history store's health as Prometheus counters
// (mailsec_store_flushes_total, mailsec_store_errors_total{kind}).
//
// Thread-safety: safe from any thread (counters). Errors: none.
#pragma once

#include "metrics/catalogue.h"
#include "metrics/store/store_writer.h"

namespace mailsec::metrics {

class StoreHealthCounters final : public store::StoreHealth {
 public:
  explicit StoreHealthCounters(Catalogue& catalogue) : catalogue_(catalogue) {}
  void flushed() override { catalogue_.store_flushes.inc(); }
  void failed(store::StoreErrorKind kind, std::uint64_t count) override {
    catalogue_.store_errors.inc(kind, static_cast<double>(count));
  }

 private:
  Catalogue& catalogue_;
};

}  // namespace mailsec::metrics
