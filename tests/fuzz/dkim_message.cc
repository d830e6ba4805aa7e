// Fuzz target: one message (any bytes) through the DKIM verifier — header and body feeding,
// libopendkim's signature parser, key-record parsing and our DNS hooks — with a fake
// resolver that answers every key lookup from the input itself.
//
// Input: byte 0 picks the resolver's behaviour (a TXT answer as a wire packet, the same
// without a packet, NXDOMAIN, NODATA, timeout, SERVFAIL, two TXT records); the bytes up to
// the first NUL after it are the key record; the rest is the message. Byte 0's high bits pick
// the body chunk size, so chunk boundaries fall everywhere.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/auth/dkim_library.h"
#include "core/auth/dkim_message.h"
#include "tests/unit/auth/fake_key_resolver.h"

namespace {

using mailsec::core::auth::DnsStatus;
using mailsec::test::FakeKeyResolver;

FakeKeyResolver& resolver() {
  static auto* r = new FakeKeyResolver();
  return *r;
}

mailsec::core::auth::DkimLibrary& library() {
  static auto* lib = new mailsec::core::auth::DkimLibrary(resolver());
  return *lib;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t nul = input.find('\0');
  const std::string_view key =
      nul == std::string_view::npos ? std::string_view() : input.substr(0, nul);
  const std::string_view message = nul == std::string_view::npos ? input : input.substr(nul + 1);

  FakeKeyResolver::Entry entry;
  entry.txt = {std::string(key)};
  switch (data[0] & 0x07) {
    case 1:
      entry.packet = false;
      break;
    case 2:
      entry.status = DnsStatus::kNxDomain;
      break;
    case 3:
      entry.status = DnsStatus::kNoData;
      break;
    case 4:
      entry.status = DnsStatus::kTimeout;
      break;
    case 5:
      entry.status = DnsStatus::kServFail;
      break;
    case 6:
      entry.txt.push_back(std::string(key));
      break;
    default:
      break;
  }
  resolver().setDefault(entry);

  mailsec::core::auth::DkimLimits limits;
  limits.max_body_bytes = 1 << 16;
  const std::size_t chunk = std::size_t{1} << (data[0] >> 4);  // 1 .. 32768
  const auto result = mailsec::core::auth::verifyDkimMessage(library(), message, limits, chunk);
  if (result.verdicts.size() > limits.max_signatures) __builtin_trap();
  if (result.records.size() > result.verdicts.size()) __builtin_trap();
  for (const auto& verdict : result.verdicts) {
    if (verdict.domain.size() > 253) __builtin_trap();
    if (verdict.result == mailsec::core::auth::DkimResult::kPass &&
        verdict.reason != mailsec::core::auth::DkimReason::kNone) {
      __builtin_trap();
    }
  }
  return 0;
}
