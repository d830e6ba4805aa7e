#include "core/auth/dkim_library.h"

#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include "core/auth/opendkim.h"

namespace mailsec::core::auth {
namespace {

thread_local std::vector<RecordFetch>* t_fetch_log = nullptr;

// One key lookup between query_start and query_cancel. libopendkim hands the reply buffer to
// query_start and reads it after query_waitreply; the lookup itself (blocking, bounded by the
// Resolver's timeout) runs in query_start.
struct PendingQuery {
  DnsAnswer answer;
  std::string name;
  std::uint16_t type = 0;
  unsigned char* buffer = nullptr;
  std::size_t buffer_size = 0;
};

int dnssecCode(Dnssec dnssec) {
  switch (dnssec) {
    case Dnssec::kSecure:
      return DKIM_DNSSEC_SECURE;
    case Dnssec::kInsecure:
      return DKIM_DNSSEC_INSECURE;
    case Dnssec::kBogus:
      return DKIM_DNSSEC_BOGUS;
    case Dnssec::kUnknown:
      break;
  }
  return DKIM_DNSSEC_UNKNOWN;
}

void putShort(std::string& out, unsigned value) {
  out.push_back(static_cast<char>((value >> 8) & 0xff));
  out.push_back(static_cast<char>(value & 0xff));
}

// A wire-format reply for a Resolver that answered without the packet: the header, the
// question and the rdata it did give. Empty when the name cannot be encoded.
std::string synthesiseReply(const PendingQuery& query) {
  std::string packet;
  unsigned rcode = 0;
  if (query.answer.status == DnsStatus::kNxDomain) rcode = 3;
  const bool answers = query.answer.status == DnsStatus::kAnswer;
  putShort(packet, 0);               // id
  putShort(packet, 0x8180 | rcode);  // QR RD RA
  putShort(packet, 1);
  putShort(packet, answers ? static_cast<unsigned>(query.answer.rdata.size()) : 0);
  putShort(packet, 0);
  putShort(packet, 0);
  std::string_view name = query.name;
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::size_t encoded = 0;
  while (!name.empty()) {
    const std::size_t dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    if (label.empty() || label.size() > 63) return {};
    packet.push_back(static_cast<char>(label.size()));
    packet.append(label);
    encoded += label.size() + 1;
    name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  }
  if (encoded + 1 > 255) return {};
  packet.push_back('\0');
  putShort(packet, query.type);
  putShort(packet, 1);  // IN
  if (answers) {
    for (const std::string& rdata : query.answer.rdata) {
      if (rdata.size() > 0xffff) return {};
      putShort(packet, 0xc00c);  // the question's name
      putShort(packet, query.type);
      putShort(packet, 1);
      putShort(packet, 0);
      putShort(packet, 300);
      putShort(packet, static_cast<unsigned>(rdata.size()));
      packet.append(rdata);
    }
  }
  return packet;
}

int queryStart(void* service, int type, unsigned char* query, unsigned char* buffer,
               std::size_t buffer_size, void** handle) noexcept {
  try {
    if (service == nullptr || query == nullptr || buffer == nullptr || handle == nullptr ||
        type < 0 || type > 0xffff) {
      return DKIM_DNS_INVALID;
    }
    auto pending = std::make_unique<PendingQuery>();
    pending->name = reinterpret_cast<const char*>(query);
    pending->type = static_cast<std::uint16_t>(type);
    pending->buffer = buffer;
    pending->buffer_size = buffer_size;
    pending->answer = static_cast<Resolver*>(service)->query(pending->name, pending->type);
    // mailsec_auth_records_total counts records fetched: an answer that carries one, or one
    // that failed DNSSEC validation (as the SPF and DMARC verifiers count) — not NXDOMAIN,
    // NODATA, timeouts or plain SERVFAIL.
    if (t_fetch_log != nullptr && (pending->answer.status == DnsStatus::kAnswer ||
                                   pending->answer.dnssec == Dnssec::kBogus)) {
      t_fetch_log->push_back(RecordFetch{AuthRecord::kDkimKey, pending->answer.dnssec});
    }
    *handle = pending.release();
    return 0;
  } catch (...) {
    return DKIM_DNS_ERROR;
  }
}

int queryCancel(void* /*service*/, void* handle) noexcept {
  delete static_cast<PendingQuery*>(handle);
  return 0;
}

int queryWaitReply(void* /*service*/, void* handle, struct timeval* /*timeout*/, std::size_t* bytes,
                   int* error, int* dnssec) noexcept {
  try {
    auto* pending = static_cast<PendingQuery*>(handle);
    if (pending == nullptr) return DKIM_DNS_INVALID;
    if (error != nullptr) *error = 0;
    if (dnssec != nullptr) *dnssec = dnssecCode(pending->answer.dnssec);
    switch (pending->answer.status) {
      case DnsStatus::kTimeout:
        return DKIM_DNS_EXPIRED;
      case DnsStatus::kServFail:
      case DnsStatus::kError:
        return DKIM_DNS_ERROR;
      case DnsStatus::kAnswer:
      case DnsStatus::kNoData:
      case DnsStatus::kNxDomain:
        break;
    }
    const std::string packet =
        pending->answer.packet.empty() ? synthesiseReply(*pending) : pending->answer.packet;
    // libopendkim reads the HEADER struct from the buffer unconditionally: a reply shorter
    // than that, or larger than its buffer, is a failed lookup.
    if (packet.size() < 12 || packet.size() > pending->buffer_size) return DKIM_DNS_ERROR;
    std::memcpy(pending->buffer, packet.data(), packet.size());
    if (bytes != nullptr) *bytes = packet.size();
    return DKIM_DNS_SUCCESS;
  } catch (...) {
    return DKIM_DNS_ERROR;
  }
}

void serviceClose(void* /*service*/) noexcept {}

}  // namespace

namespace dkim_detail {
FetchLogScope::FetchLogScope(std::vector<RecordFetch>& log) { t_fetch_log = &log; }
FetchLogScope::~FetchLogScope() { t_fetch_log = nullptr; }
}  // namespace dkim_detail

DkimLibrary::DkimLibrary(Resolver& resolver, const DkimLibraryOptions& options)
    : resolver_(&resolver) {
  lib_ = dkim_init(nullptr, nullptr);
  if (lib_ == nullptr) throw std::runtime_error("libopendkim: dkim_init failed");
  // Our service replaces libopendkim's resolver state; dkim_close must not free it.
  dkim_dns_set_close(lib_, serviceClose);
  dkim_dns_set_query_service(lib_, resolver_);
  dkim_dns_set_query_start(lib_, queryStart);
  dkim_dns_set_query_cancel(lib_, queryCancel);
  dkim_dns_set_query_waitreply(lib_, queryWaitReply);

  unsigned int flags =
      DKIM_LIBFLAGS_DELAYSIGPROC | DKIM_LIBFLAGS_BADSIGHANDLES | DKIM_LIBFLAGS_FIXCRLF;
  unsigned int min_key_bits = options.min_key_bits;
  if (dkim_options(lib_, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags) != DKIM_STAT_OK ||
      dkim_options(lib_, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &min_key_bits,
                   sizeof min_key_bits) != DKIM_STAT_OK) {
    dkim_close(lib_);
    throw std::runtime_error("libopendkim: cannot set library options");
  }
  dkim_detail::installPrescreen(lib_);
}

DkimLibrary::~DkimLibrary() {
  if (lib_ != nullptr) dkim_close(lib_);
}

bool DkimLibrary::supportsEd25519() const { return dkim_libfeature(lib_, DKIM_FEATURE_ED25519); }

}  // namespace mailsec::core::auth
