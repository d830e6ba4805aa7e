#include "core/auth/unbound_resolver.h"

#include <poll.h>
#include <unbound.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>

namespace mailsec::core::auth {
namespace {

// Reverse zones libunbound answers itself by default (RFC 6303, RFC 5737, RFC 3849) that
// unblock-lan-zones does not cover.
constexpr const char* kNoDefaultZones[] = {
    "2.0.192.in-addr.arpa.",
    "100.51.198.in-addr.arpa.",
    "113.0.203.in-addr.arpa.",
    "8.b.d.0.1.0.0.2.ip6.arpa.",
    "test.",
    "invalid.",
    "onion.",
};

// Server options that must go through a config file. infra-host-ttl bounds how long a
// forwarder that timed out stays "down"; infra-keep-probing keeps asking it meanwhile, so
// an outage ends as soon as the forwarder answers again.
std::string configText(const ResolverOptions& options) {
  std::string text = "server:\n";
  text += "  verbosity: 0\n  use-syslog: no\n";
  text += options.dnssec_validate ? "  module-config: \"validator iterator\"\n"
                                  : "  module-config: \"iterator\"\n";
  text += "  infra-host-ttl: 10\n  infra-keep-probing: yes\n";
  text += "  unblock-lan-zones: yes\n  insecure-lan-zones: yes\n";
  for (const char* zone : kNoDefaultZones) {
    text += std::string("  local-zone: \"") + zone + "\" nodefault\n";
  }
  return text;
}

std::string applyConfigFile(ub_ctx* ctx, const std::string& text) {
  const char* dir = std::getenv("TMPDIR");
  std::string path =
      std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/mailsec-unbound-XXXXXX";
  const int fd = mkstemp(path.data());
  if (fd < 0) return "cannot create a temporary libunbound config file";
  const auto written = write(fd, text.data(), text.size());
  ::close(fd);
  std::string error;
  if (written != static_cast<ssize_t>(text.size())) {
    error = "cannot write the temporary libunbound config file";
  } else if (const int err = ub_ctx_config(ctx, path.c_str()); err != 0) {
    error = std::string("libunbound rejected its options: ") + ub_strerror(err);
  }
  unlink(path.c_str());
  return error;
}

bool readable(const std::string& path) { return access(path.c_str(), R_OK) == 0; }

struct Pending {
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  DnsAnswer answer;
  std::string why_bogus;
};

DnsAnswer toAnswer(int err, ub_result* result, bool validating) {
  DnsAnswer answer;
  if (err != 0 || result == nullptr) return answer;  // kError
  answer.rcode = result->rcode;
  if (validating) {
    answer.dnssec = result->secure  ? Dnssec::kSecure
                    : result->bogus ? Dnssec::kBogus
                                    : Dnssec::kInsecure;
  }
  if (result->bogus) {
    answer.status = DnsStatus::kServFail;
  } else if (result->rcode == 0) {
    answer.status = result->havedata ? DnsStatus::kAnswer : DnsStatus::kNoData;
  } else if (result->rcode == 3) {
    answer.status = DnsStatus::kNxDomain;
  } else if (result->rcode == 2) {
    answer.status = DnsStatus::kServFail;
  }
  if (answer.status == DnsStatus::kAnswer && result->data != nullptr) {
    for (int i = 0; result->data[i] != nullptr; ++i) {
      answer.rdata.emplace_back(result->data[i], static_cast<std::size_t>(result->len[i]));
    }
  }
  if (result->answer_packet != nullptr && result->answer_len > 0) {
    answer.packet.assign(static_cast<const char*>(result->answer_packet),
                         static_cast<std::size_t>(result->answer_len));
  }
  return answer;
}

struct CallbackData {
  std::shared_ptr<Pending> pending;
  bool validating = false;
};

void onResult(void* data, int err, ub_result* result) {
  auto* callback = static_cast<CallbackData*>(data);
  {
    std::lock_guard lock(callback->pending->mutex);
    callback->pending->answer = toAnswer(err, result, callback->validating);
    if (result != nullptr && result->why_bogus != nullptr) {
      callback->pending->why_bogus = result->why_bogus;
    }
    callback->pending->done = true;
  }
  callback->pending->done_cv.notify_all();
  if (result != nullptr) ub_resolve_free(result);
  delete callback;
}

// The forwarders as configured, or the nameservers of resolv.conf.
std::string describeForwarders(const ResolverOptions& options) {
  std::vector<std::string> names = options.forwarders;
  if (names.empty()) {
    std::ifstream in(options.resolv_conf);
    std::string line;
    while (names.size() < 8 && std::getline(in, line)) {
      std::istringstream words(line);
      std::string keyword, address;
      if (words >> keyword >> address && keyword == "nameserver") names.push_back(address);
    }
    if (names.empty()) return "of " + options.resolv_conf;
  }
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

}  // namespace

std::string dnssecProbeMessage(const DnssecProbe& probe, std::uint32_t probe_timeout_ms) {
  switch (probe.outcome) {
    case DnssecProbe::Outcome::kNotRun:
    case DnssecProbe::Outcome::kValidated:
      return "";
    case DnssecProbe::Outcome::kUnsigned:
      return "dns: the resolver(s) " + probe.forwarders +
             " return no DNSSEC signatures (\". DNSKEY\" is bogus: " +
             (probe.why_bogus.empty() ? "no reason given" : probe.why_bogus) +
             "); DNSSEC validation is off — records are reported dnssec=\"unknown\". Point "
             "dns.forwarders at a validating-capable resolver, or set dns.dnssec: off to "
             "silence this";
    case DnssecProbe::Outcome::kUnreachable:
      return "dns: no answer from the resolver(s) " + probe.forwarders + " within " +
             std::to_string(probe_timeout_ms) +
             " ms (\". DNSKEY\"); DNS looks unreachable — verifications are temperrors until "
             "it answers; DNSSEC validation stays on";
    case DnssecProbe::Outcome::kFailed:
      return "dns: the resolver(s) " + probe.forwarders +
             " failed the start-up look-up of \". DNSKEY\"; DNSSEC validation stays on";
  }
  return "";
}

std::unique_ptr<UnboundResolver> UnboundResolver::createProbed(const ResolverOptions& options,
                                                               DnssecProbe& probe,
                                                               std::string& error,
                                                               std::uint32_t probe_timeout_ms) {
  probe = DnssecProbe{};
  auto resolver = create(options, error);
  if (resolver == nullptr || !options.dnssec_validate) return resolver;
  probe.forwarders = describeForwarders(options);
  const DnsAnswer root = resolver->lookUp(".", 48 /* DNSKEY */, probe_timeout_ms, &probe.why_bogus);
  if (root.dnssec == Dnssec::kBogus || !probe.why_bogus.empty()) {
    probe.outcome = DnssecProbe::Outcome::kUnsigned;
    ResolverOptions unvalidated = options;
    unvalidated.dnssec_validate = false;
    resolver.reset();
    return create(unvalidated, error);
  }
  probe.outcome = root.status == DnsStatus::kTimeout ? DnssecProbe::Outcome::kUnreachable
                  : root.status == DnsStatus::kAnswer || root.status == DnsStatus::kNoData
                      ? DnssecProbe::Outcome::kValidated
                      : DnssecProbe::Outcome::kFailed;
  return resolver;
}

std::unique_ptr<UnboundResolver> UnboundResolver::create(const ResolverOptions& options,
                                                         std::string& error) {
  ub_ctx* ctx = ub_ctx_create();
  if (ctx == nullptr) {
    error = "libunbound: cannot create a context";
    return nullptr;
  }
  const auto fail = [&](std::string message) -> std::unique_ptr<UnboundResolver> {
    ub_ctx_delete(ctx);
    error = std::move(message);
    return nullptr;
  };
  if (const auto problem = applyConfigFile(ctx, configText(options)); !problem.empty()) {
    return fail(problem);
  }
  if (options.forwarders.empty()) {
    if (const int err = ub_ctx_resolvconf(ctx, options.resolv_conf.c_str()); err != 0) {
      return fail("libunbound cannot use " + options.resolv_conf + ": " + ub_strerror(err));
    }
  }
  for (const auto& forwarder : options.forwarders) {
    if (const auto problem = validateForwarder(forwarder); !problem.empty()) return fail(problem);
    if (const int err = ub_ctx_set_fwd(ctx, forwarder.c_str()); err != 0) {
      return fail("libunbound rejected forwarder " + forwarder + ": " + ub_strerror(err));
    }
  }
  if (options.dnssec_validate) {
    std::vector<std::string> anchors = options.trust_anchor_files;
    if (!options.root_anchor_file.empty())
      anchors.insert(anchors.begin(), options.root_anchor_file);
    for (const auto& file : anchors) {
      if (!readable(file)) return fail("trust anchor file " + file + " cannot be read");
      if (const int err = ub_ctx_add_ta_file(ctx, file.c_str()); err != 0) {
        return fail("libunbound rejected trust anchor file " + file + ": " + ub_strerror(err));
      }
    }
  }
  if (const int err = ub_ctx_async(ctx, 1); err != 0) {
    return fail(std::string("libunbound cannot run threaded: ") + ub_strerror(err));
  }
  return std::unique_ptr<UnboundResolver>(new UnboundResolver(ctx, options));
}

UnboundResolver::UnboundResolver(ub_ctx* ctx, ResolverOptions options)
    : ctx_(ctx),
      options_(std::move(options)),
      dispatcher_([this](std::stop_token stop) { dispatch(std::move(stop)); }) {}

UnboundResolver::~UnboundResolver() {
  dispatcher_.request_stop();
  if (dispatcher_.joinable()) dispatcher_.join();
  ub_ctx_delete(ctx_);
}

void UnboundResolver::dispatch(std::stop_token stop) {
  const int fd = ub_fd(ctx_);
  while (!stop.stop_requested()) {
    pollfd p{fd, POLLIN, 0};
    // A short poll bounds how long a stop waits; results wake it at once.
    if (poll(&p, 1, 100) > 0) ub_process(ctx_);
  }
}

DnsAnswer UnboundResolver::query(std::string_view name, std::uint16_t type) {
  return lookUp(name, type, options_.timeout_ms, nullptr);
}

DnsAnswer UnboundResolver::lookUp(std::string_view name, std::uint16_t type,
                                  std::uint32_t timeout_ms, std::string* why_bogus) {
  DnsAnswer failed;
  if (name.empty() || name.size() > 254 || name.find('\0') != std::string_view::npos) {
    return failed;
  }
  auto pending = std::make_shared<Pending>();
  auto* callback = new CallbackData{pending, options_.dnssec_validate};
  int id = 0;
  const std::string text(name);
  if (ub_resolve_async(ctx_, text.c_str(), type, 1, callback, onResult, &id) != 0) {
    delete callback;
    return failed;
  }
  std::unique_lock lock(pending->mutex);
  if (pending->done_cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                [&] { return pending->done; })) {
    if (why_bogus != nullptr) *why_bogus = std::move(pending->why_bogus);
    return std::move(pending->answer);
  }
  lock.unlock();
  // Cancelled: the callback never runs and its data is ours to free. Otherwise it is being
  // (or has been) delivered and frees its data itself.
  if (ub_cancel(ctx_, id) == 0) delete callback;
  DnsAnswer timeout;
  timeout.status = DnsStatus::kTimeout;
  return timeout;
}

}  // namespace mailsec::core::auth
