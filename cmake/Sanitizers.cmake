# MAILSEC_SANITIZE=address,undefined (or thread) instruments every target.
# MAILSEC_BUILD_FUZZERS (clang only) adds libFuzzer's coverage instrumentation to every target,
# so the fuzzers see into the libraries they drive; tests/fuzz links the fuzzer binaries.
if(MAILSEC_SANITIZE)
  message(STATUS "mailsec: building with -fsanitize=${MAILSEC_SANITIZE}")
  add_compile_options(-fsanitize=${MAILSEC_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${MAILSEC_SANITIZE})
  # GCC's -Wmaybe-uninitialized reports false positives in instrumented code (libstdc++'s
  # std::regex/std::function under ASan, GCC 12); the plain build keeps the warning as an error.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
endif()
if(MAILSEC_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "MAILSEC_BUILD_FUZZERS needs clang (CXX=clang++ CC=clang)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
