# milter_session: MilterSession (macros, headers, body, end of message) without libmilter,
# recording to the PrometheusRecorder; verification off, so it never resolves anything.
# FuzzedDataProvider.h ships with clang; another compiler (gcc: the corpus replay) gets a copy
# of that one header in the build tree, not clang's whole include directory.
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  set(mailsec_fdp_ok TRUE)
else()
  file(GLOB mailsec_fdp_hints /usr/lib/llvm-*/lib/clang/*/include /usr/lib/clang/*/include)
  find_file(MAILSEC_FUZZED_DATA_PROVIDER fuzzer/FuzzedDataProvider.h HINTS ${mailsec_fdp_hints})
  set(mailsec_fdp_ok FALSE)
  if(MAILSEC_FUZZED_DATA_PROVIDER)
    configure_file(${MAILSEC_FUZZED_DATA_PROVIDER}
      ${CMAKE_CURRENT_BINARY_DIR}/fdp/fuzzer/FuzzedDataProvider.h COPYONLY)
    set(mailsec_fdp_ok TRUE)
  endif()
endif()
if(mailsec_fdp_ok)
  mailsec_fuzz_target(milter_session SOURCES milter_session.cc
    LIBS mailsec::milter_adapter mailsec::metrics)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    target_include_directories(milter_session_replay SYSTEM PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/fdp)
  endif()
else()
  message(WARNING "fuzzer/FuzzedDataProvider.h not found (install clang): "
    "fuzz_replay_milter_session is not built")
endif()
