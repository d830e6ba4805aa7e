# bench_metrics_scrape: /metrics scrape cost with every series the product can produce present —
# the registry rendered in process (what the exposer does per scrape) and a real HTTP GET
# through the exposer on 127.0.0.1 (p50/p99 counters).
mailsec_benchmark(metrics_scrape SOURCES ${CMAKE_CURRENT_LIST_DIR}/metrics_scrape.cc
  LIBS mailsec::metrics)
