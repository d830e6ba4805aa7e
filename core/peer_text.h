// peer_text.h — small, bounds-checked helpers for text that came from a peer or an MTA.
//
// Trusts nothing: inputs may be any length and contain any byte. Pure; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mailsec::core {

// At most `limit` bytes of `text`; `truncated` (if given) tells whether bytes were dropped.
std::string boundedCopy(std::string_view text, std::size_t limit, bool* truncated = nullptr);

// True when every byte is printable ASCII (0x21..0x7e) — what a HELO name should be.
bool isPrintableAscii(std::string_view text);

// Strict decimal parses: digits only (surrounding spaces allowed), no sign, no overflow.
std::optional<std::uint16_t> parsePort(std::string_view text);
std::optional<std::uint32_t> parseUnsigned(std::string_view text);

// ASCII lower-casing (bytes >= 0x80 unchanged).
std::string asciiLower(std::string_view text);

}  // namespace mailsec::core
