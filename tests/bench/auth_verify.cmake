mailsec_benchmark(auth_verify SOURCES auth_verify.cc LIBS mailsec::core_auth)
target_compile_definitions(bench_auth_verify PRIVATE
  MAILSEC_DKIM_DATA_DIR="${PROJECT_SOURCE_DIR}/tests/data/dkim")
