// closed_set.h — closed value sets for everything mailsec measures.
//
// Every dimension that can become a Prometheus label or a store column is an enum whose
// values, and their exact spelling, are declared once with MAILSEC_CLOSED_SET. Anything a
// peer sends is mapped onto one of these values (usually `other`) before it leaves core,
// so no peer-supplied string can ever become a label value.
//
// Thread-safety: constants only. Errors: none (an out-of-range value reads as the last name).
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <type_traits>

namespace mailsec::core {

// Specialised for each closed-set enum by MAILSEC_CLOSED_SET; kNames[i] is the label value
// of the enumerator whose underlying value is i.
template <typename E>
struct ClosedSet;

template <typename E>
inline constexpr std::size_t closedSetSize() {
  return ClosedSet<E>::kNames.size();
}

template <typename E>
constexpr std::string_view toLabel(E value) {
  const auto i = static_cast<std::size_t>(value);
  const auto& names = ClosedSet<E>::kNames;
  return i < names.size() ? names[i] : names[names.size() - 1];
}

// Exact (case-sensitive) reverse lookup of a label value.
template <typename E>
constexpr std::optional<E> fromLabel(std::string_view label) {
  const auto& names = ClosedSet<E>::kNames;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == label) return static_cast<E>(i);
  }
  return std::nullopt;
}

template <typename E>
constexpr E enumAt(std::size_t i) {
  return static_cast<E>(static_cast<std::underlying_type_t<E>>(i));
}

}  // namespace mailsec::core

// Declares the spelling of each enumerator of ENUM, in declaration order.
#define MAILSEC_CLOSED_SET(ENUM, ...)                                                   \
  template <>                                                                           \
  struct mailsec::core::ClosedSet<ENUM> {                                               \
    static constexpr auto kNames = std::to_array<std::string_view>({__VA_ARGS__});      \
  }
