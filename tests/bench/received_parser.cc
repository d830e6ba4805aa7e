// received_parser.cc — Google Benchmark figures for Received-chain analysis, over the real
// headers of tests/data/received/ (folded, as an MTA hands them to a milter):
//   BM_ParseReceived     parseReceived, one header value at a time      → headers/s, MB/s
//   BM_AnalyseMessage    analyseMessage on whole header blocks          → messages/s, MB/s
//   BM_MilterChain       ReceivedChainTracker: header() for every field, then messageEnded()
//                        with a live TLS hop, as the milter runs it     → messages/s, MB/s
// Run: build/tests/bench/bench_received_parser (add --benchmark_min_time=2 for steadier runs).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "core/received/chain_tracker.h"
#include "core/received/message_analysis.h"
#include "core/received/received_parser.h"
#include "tests/unit/fakes/null_recorder.h"

namespace {

using namespace mailsec::core::received;

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> filesIn(const char* sub) {
  std::vector<std::string> out;
  const std::filesystem::path dir = std::filesystem::path(MAILSEC_RECEIVED_DATA_DIR) / sub;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file()) out.push_back(readFile(entry.path()));
  }
  if (out.empty()) {
    std::cerr << "no samples in " << dir << "\n";
    std::exit(1);
  }
  return out;
}

// Every Received value of the single-header samples (headers/ and generated/).
const std::vector<std::string>& receivedValues() {
  static const std::vector<std::string> values = [] {
    std::vector<std::string> out;
    for (const char* sub : {"headers", "generated"}) {
      for (const std::string& text : filesIn(sub)) {
        for (const HeaderField& f : readHeaderBlock(text).fields) {
          if (isReceivedName(f.name)) out.emplace_back(f.value);
        }
      }
    }
    return out;
  }();
  return values;
}

const std::vector<std::string>& messages() {
  static const std::vector<std::string> out = filesIn("messages");
  return out;
}

void BM_ParseReceived(benchmark::State& state) {
  const auto& values = receivedValues();
  std::int64_t bytes = 0;
  for (auto _ : state) {
    for (const std::string& v : values) {
      Hop hop = parseReceived(v);
      benchmark::DoNotOptimize(hop);
    }
  }
  for (const std::string& v : values) bytes += static_cast<std::int64_t>(v.size());
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(values.size()));
  state.SetBytesProcessed(state.iterations() * bytes);
  state.counters["headers"] = static_cast<double>(values.size());
}
BENCHMARK(BM_ParseReceived);

void BM_AnalyseMessage(benchmark::State& state) {
  const auto& msgs = messages();
  std::int64_t bytes = 0;
  std::int64_t headers = 0;
  for (const std::string& m : msgs) {
    const MessageAnalysis a = analyseMessage(m);
    bytes += static_cast<std::int64_t>(a.header.header_bytes);
    headers += static_cast<std::int64_t>(a.hops.size());
  }
  for (auto _ : state) {
    for (const std::string& m : msgs) {
      MessageAnalysis a = analyseMessage(m);
      benchmark::DoNotOptimize(a);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(msgs.size()));
  state.SetBytesProcessed(state.iterations() * bytes);
  state.counters["received_headers/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * headers), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AnalyseMessage);

void BM_MilterChain(benchmark::State& state) {
  // Each message's header fields as the milter gets them, topmost first.
  std::vector<std::vector<std::pair<std::string, std::string>>> fields;
  std::int64_t received_bytes = 0;
  std::int64_t headers = 0;
  for (const std::string& m : messages()) {
    auto& list = fields.emplace_back();
    for (const HeaderField& f : readHeaderBlock(m).fields) {
      list.emplace_back(std::string(f.name), std::string(f.value));
      if (isReceivedName(f.name)) {
        received_bytes += static_cast<std::int64_t>(f.value.size());
        ++headers;
      }
    }
  }
  mailsec::testing::NullRecorder recorder;
  ReceivedChainTracker tracker(mailsec::core::Source::kMilter, recorder);
  LiveSession live;
  live.client_addr = "192.0.2.7";
  live.helo = "relay.example.org";
  live.tls_version = "TLSv1.3";
  live.cipher = "TLS_AES_256_GCM_SHA384";
  live.cipher_bits = "256";
  for (auto _ : state) {
    for (const auto& list : fields) {
      tracker.messageStarted();
      for (const auto& [name, value] : list) tracker.header(name, value);
      tracker.messageEnded(live);
    }
  }
  benchmark::DoNotOptimize(recorder.hops);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(fields.size()));
  state.SetBytesProcessed(state.iterations() * received_bytes);
  state.counters["received_headers/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * headers), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MilterChain);

}  // namespace

BENCHMARK_MAIN();
