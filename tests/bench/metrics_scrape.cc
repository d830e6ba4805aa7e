// metrics_scrape.cc — what one /metrics scrape costs when every series the product can produce
// exists, in the process mailsec-milter runs (metrics::Metrics: registry, catalogue,
// PrometheusRecorder, exposer):
//   BM_Render      Metrics::render(): Collect() + TextSerializer, what the exposer's handler
//                  does per scrape                                   → time per scrape
//   BM_HttpScrape  GET /metrics through the real exposer on 127.0.0.1 over a plain socket,
//                  identity and gzip                                 → p50/p99 counters (µs)
// Population rule: every family of the catalogue with at most CounterFamily's preallocation
// limit of label combinations gets every combination (the full cartesian product of its
// closed sets); the one larger family, mailsec_tls_sessions_total, gets every combination
// the product can produce — each source × each version spelling × every suite of the cipher
// table plus an unknown cipher, through tls::analyse and PrometheusRecorder::sessionClosed,
// as the milter counts a session. Its full product (221,760) is not reachable: the label
// values of one session come from one real suite. A check against the catalogue's specs()
// refuses to run when a family is empty or incompletely populated (extend populate()).
// Must not: listen anywhere but 127.0.0.1 (an ephemeral port), touch the network or files,
// or be registered with ctest (figures, not a test).
// Run: build/tests/bench/bench_metrics_scrape
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/closed_set.h"
#include "core/observation.h"
#include "core/tls/tls_analyser.h"
#include "metrics/metrics.h"

namespace {

using mailsec::core::closedSetSize;
using mailsec::core::enumAt;
using mailsec::metrics::Catalogue;
using mailsec::metrics::CounterFamily;
using mailsec::metrics::Metrics;

// Every label combination of a family, each with a distinct non-zero value (as a long-running
// daemon's counters would be, so the exposition carries realistic numbers, not zeros).
template <typename... E>
void fillEvery(CounterFamily<E...>& family) {
  constexpr std::size_t kLabels = sizeof...(E);
  constexpr std::array<std::size_t, kLabels> radices{closedSetSize<E>()...};
  for (std::size_t index = 0; index < CounterFamily<E...>::kCombinations; ++index) {
    std::array<std::size_t, kLabels> digits{};
    std::size_t rest = index;
    for (std::size_t i = kLabels; i-- > 0;) {
      digits[i] = rest % radices[i];
      rest /= radices[i];
    }
    // Digit I of the mixed-radix index names the value of label I.
    [&family, &digits, index ]<std::size_t... I>(std::index_sequence<I...>) {
      family.inc(enumAt<E>(digits[I])..., 1000003.0 + static_cast<double>(index) * 7);
    }
    (std::index_sequence_for<E...>{});
  }
}

// The one family too large to preallocate: every (source, version, suite) the product can
// count, through the recorder as a closed session reaches it. Returns the distinct series.
void fillTlsSessions(mailsec::core::Recorder& recorder) {
  using namespace mailsec::core;
  std::vector<std::string> ciphers;
  for (const tls::CipherSuite& suite : tls::allCipherSuites())
    ciphers.push_back(suite.openssl_name);
  ciphers.emplace_back("NOT-A-CIPHER");  // unknown to both tables: every facet `other`
  for (std::size_t s = 0; s < closedSetSize<Source>(); ++s) {
    for (std::string_view version : ClosedSet<tls::Version>::kNames) {
      for (const std::string& cipher : ciphers) {
        SessionSummary session;
        session.source = enumAt<Source>(s);
        session.port_class = PortClass::kMx;
        session.tls = true;
        session.tls_profile = tls::analyse(version, cipher);
        for (int n = 0; n < 3; ++n) recorder.sessionClosed(session);
      }
    }
  }
}

void populate(Metrics& metrics) {
  Catalogue& c = metrics.catalogue();
  fillEvery(c.sessions);
  fillEvery(c.client_certificates);
  fillEvery(c.messages);
  fillEvery(c.unknown_commands);
  fillEvery(c.input_errors);
  fillEvery(c.errors);
  fillEvery(c.policyd_requests);
  fillEvery(c.policyd_connections_dropped);
  fillEvery(c.downgrade_suspected);
  fillEvery(c.store_errors);
  fillEvery(c.store_flushes);
  fillEvery(c.received_hops);
  fillEvery(c.received_hop_tls_versions);
  fillEvery(c.message_paths);
  fillEvery(c.message_first_cleartext_hops);
  fillEvery(c.message_origin_submissions);
  fillEvery(c.received_headers_dropped);
  fillEvery(c.received_headers_unparsable);
  fillEvery(c.spf_results);
  fillEvery(c.dkim_signatures);
  fillEvery(c.dkim_signature_algorithms);
  fillEvery(c.dmarc_results);
  fillEvery(c.auth_records);
  fillEvery(c.auth_methods);
  fillEvery(c.verdict_sources);
  fillEvery(c.verifications_dropped);
  fillEvery(c.authentication_results_ignored);
  fillTlsSessions(metrics.recorder());
  // Every bucket of the histogram non-zero.
  for (int hops = 1; hops <= 60; ++hops) {
    for (int n = 0; n < 100; ++n) c.hops_per_message.Observe(hops);
  }
}

struct Population {
  std::size_t series = 0;         // metrics in the exposition (a histogram counts as one)
  std::size_t samples = 0;        // sample lines (a histogram's buckets, _sum and _count)
  std::size_t tls_series = 0;     // mailsec_tls_sessions_total
  std::size_t tls_cartesian = 0;  // its full product of closed sets
  std::size_t render_bytes = 0;
};

// Checks the registry against the catalogue's specs(): every declared family present, every
// counter series non-zero, every family small enough to preallocate complete. Exits otherwise.
Population check(Metrics& metrics) {
  Population out;
  // Read back from the exposition itself: what a scraper sees.
  const std::string text = metrics.render();
  out.render_bytes = text.size();
  std::map<std::string, std::pair<std::size_t, std::size_t>> seen;  // name → series, non-zero
  std::string family, type;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      words >> family >> type;
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    ++out.samples;
    const std::string name = line.substr(0, line.find_first_of("{ "));
    const double value = std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
    // A histogram is one series (its _count line); counters and gauges one per line.
    if (type == "histogram" && name != family + "_count") continue;
    auto& [series, nonzero] = seen[family];
    ++series;
    if (type == "gauge" || value > 0) ++nonzero;
    ++out.series;
  }
  bool ok = true;
  for (const auto& spec : metrics.catalogue().specs()) {
    std::size_t product = 1;
    for (const auto& label : spec.labels) product *= label.values.size();
    const auto it = seen.find(spec.name);
    const std::size_t series = it == seen.end() ? 0 : it->second.first;
    const std::size_t nonzero = it == seen.end() ? 0 : it->second.second;
    if (spec.name == "mailsec_tls_sessions_total") {
      out.tls_series = series;
      out.tls_cartesian = product;
    }
    const bool preallocated = product <= CounterFamily<>::kPreallocateLimit;
    if (series == 0 || nonzero != series || (preallocated && series != product)) {
      std::cerr << "metrics_scrape: " << spec.name << " has " << nonzero << " non-zero of "
                << series << " series (" << product << " combinations): extend populate()\n";
      ok = false;
    }
  }
  if (!ok) std::exit(1);
  return out;
}

Metrics& populated() {
  static Metrics* metrics = [] {
    auto* m = new Metrics();
    populate(*m);
    return m;
  }();
  return *metrics;
}

// A port the kernel just handed out on 127.0.0.1 (released for the exposer to bind).
std::optional<int> freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  std::optional<int> port;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

int servingPort() {
  static const int port = [] {
    for (int attempt = 0; attempt < 5; ++attempt) {
      const auto candidate = freePort();
      if (!candidate) continue;
      if (!populated().serve("127.0.0.1:" + std::to_string(*candidate))) return *candidate;
    }
    std::cerr << "metrics_scrape: cannot serve /metrics on 127.0.0.1\n";
    std::exit(1);
  }();
  return port;
}

struct Response {
  bool ok = false;
  std::size_t bytes = 0;  // the whole response, headers included
};

// One GET /metrics on a fresh connection, read to the server's close.
Response scrape(int port, bool gzip, std::string& buffer) {
  Response out;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return out;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return out;
  }
  std::string request = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (gzip) request += "Accept-Encoding: gzip\r\n";
  request += "\r\n";
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      return out;
    }
    sent += static_cast<std::size_t>(n);
  }
  buffer.clear();
  char chunk[65536];
  for (;;) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0) {
      ::close(fd);
      return out;
    }
    if (n == 0) break;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fd);
  out.ok = buffer.rfind("HTTP/1.1 200", 0) == 0;
  out.bytes = buffer.size();
  return out;
}

void setPopulationCounters(benchmark::State& state, const Population& p) {
  state.counters["series"] = static_cast<double>(p.series);
  state.counters["samples"] = static_cast<double>(p.samples);
  state.counters["bytes"] = static_cast<double>(p.render_bytes);
}

const Population& population() {
  static const Population p = check(populated());
  return p;
}

void BM_Render(benchmark::State& state) {
  Metrics& metrics = populated();
  const Population& p = population();
  for (auto _ : state) {
    std::string text = metrics.render();
    benchmark::DoNotOptimize(text.data());
  }
  setPopulationCounters(state, p);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(p.render_bytes));
}
BENCHMARK(BM_Render)->Unit(benchmark::kMillisecond);

void BM_HttpScrape(benchmark::State& state) {
  const bool gzip = state.range(0) != 0;
  const Population& p = population();
  const int port = servingPort();
  std::string buffer;
  std::vector<double> micros;
  micros.reserve(static_cast<std::size_t>(state.max_iterations));
  std::size_t bytes = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    const Response r = scrape(port, gzip, buffer);
    const auto stop = std::chrono::steady_clock::now();
    if (!r.ok) {
      state.SkipWithError("GET /metrics failed");
      return;
    }
    bytes = r.bytes;
    const std::chrono::duration<double> elapsed = stop - start;
    state.SetIterationTime(elapsed.count());
    micros.push_back(elapsed.count() * 1e6);
  }
  std::sort(micros.begin(), micros.end());
  const auto at = [&micros](double q) {
    return micros[std::min(micros.size() - 1,
                           static_cast<std::size_t>(q * static_cast<double>(micros.size())))];
  };
  setPopulationCounters(state, p);
  state.counters["http_bytes"] = static_cast<double>(bytes);
  state.counters["p50_us"] = at(0.50);
  state.counters["p99_us"] = at(0.99);
  state.counters["max_us"] = micros.back();
}
BENCHMARK(BM_HttpScrape)
    ->ArgName("gzip")
    ->Arg(0)
    ->Arg(1)
    ->Iterations(300)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const Population& p = population();
  std::cout << "series: " << p.series << " (exposition sample lines: " << p.samples
            << "); mailsec_tls_sessions_total: " << p.tls_series << " reachable of "
            << p.tls_cartesian << " combinations\n"
            << "exposition bytes (identity): " << p.render_bytes << "\n";
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
