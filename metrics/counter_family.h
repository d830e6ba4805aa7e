// counter_family.h — a Prometheus counter family whose labels are closed-set enums.
//
// Label values can only come from the enums' declared spellings (core/closed_set.h), so no
// peer string can reach a label. Small families (<= kPreallocateLimit label combinations)
// add every series at start-up, so dashboards see zeros and the series count never changes;
// larger ones add a series the first time a combination occurs and cache the reference, so
// Family::Add runs once per combination, never on the steady-state hot path.
//
// Thread-safety: inc() may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include "core/closed_set.h"
#include "metrics/family_spec.h"

namespace mailsec::metrics {

template <typename... E>
class CounterFamily {
 public:
  static constexpr std::size_t kLabels = sizeof...(E);
  static constexpr std::size_t kCombinations = (std::size_t{1} * ... * core::closedSetSize<E>());
  static constexpr std::size_t kPreallocateLimit = 256;

  CounterFamily(prometheus::Registry& registry, std::vector<FamilySpec>& specs, std::string name,
                std::string help, std::array<std::string_view, kLabels> label_names)
      : label_names_(label_names),
        family_(prometheus::BuildCounter().Name(name).Help(help).Register(registry)) {
    FamilySpec spec{std::move(name), std::move(help), "counter", {}};
    std::size_t i = 0;
    (spec.labels.push_back(labelSpec<E>(label_names_[i++])), ...);
    specs.push_back(std::move(spec));
    if constexpr (kCombinations <= kPreallocateLimit) {
      slots_ = std::make_unique<prometheus::Counter*[]>(kCombinations);
      for (std::size_t index = 0; index < kCombinations; ++index) {
        slots_[index] = &family_.Add(labelsOf(index));
      }
    }
  }

  void inc(E... values, double amount = 1.0) { counter(index(values...)).Increment(amount); }

  // The current value (tests, the store's rollups).
  double value(E... values) { return counter(index(values...)).Value(); }

 private:
  template <typename L>
  static LabelSpec labelSpec(std::string_view name) {
    const auto& names = core::ClosedSet<L>::kNames;
    return LabelSpec{std::string(name), std::vector<std::string_view>(names.begin(), names.end())};
  }

  // Mixed-radix index of a label combination; the first label is the most significant digit.
  static std::size_t index(E... values) {
    std::size_t result = 0;
    ((result = result * core::closedSetSize<E>() +
               std::min(static_cast<std::size_t>(values), core::closedSetSize<E>() - 1)),
     ...);
    return result;
  }

  std::map<std::string, std::string> labelsOf(std::size_t index) const {
    std::array<std::size_t, kLabels> digits{};
    constexpr std::array<std::size_t, kLabels> radices{core::closedSetSize<E>()...};
    for (std::size_t i = kLabels; i-- > 0;) {
      digits[i] = index % radices[i];
      index /= radices[i];
    }
    std::map<std::string, std::string> labels;
    std::size_t i = 0;
    ((labels.emplace(std::string(label_names_[i]),
                     std::string(core::ClosedSet<E>::kNames[digits[i]])),
      ++i),
     ...);
    return labels;
  }

  prometheus::Counter& counter(std::size_t index) {
    if constexpr (kCombinations <= kPreallocateLimit) {
      return *slots_[index];
    } else {
      std::lock_guard lock(mutex_);
      auto [it, inserted] = lazy_.try_emplace(index, nullptr);
      if (inserted) it->second = &family_.Add(labelsOf(index));
      return *it->second;
    }
  }

  std::array<std::string_view, kLabels> label_names_;
  prometheus::Family<prometheus::Counter>& family_;
  std::unique_ptr<prometheus::Counter*[]> slots_;
  std::mutex mutex_;
  std::unordered_map<std::size_t, prometheus::Counter*> lazy_;
};

}  // namespace mailsec::metrics
