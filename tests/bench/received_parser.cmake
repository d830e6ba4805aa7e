# bench_received_parser: Received-header parsing throughput (headers/s, MB/s) over the real
# samples of tests/data/received/ — one header at a time, whole header blocks, and the milter's
# per-message path (collector, parser, path summary, observation).
mailsec_benchmark(received_parser SOURCES ${CMAKE_CURRENT_LIST_DIR}/received_parser.cc
  LIBS mailsec::core_received)
target_compile_definitions(bench_received_parser PRIVATE
  MAILSEC_RECEIVED_DATA_DIR="${PROJECT_SOURCE_DIR}/tests/data/received")
