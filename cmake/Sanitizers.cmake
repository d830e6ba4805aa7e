# MAILSEC_SANITIZE=address,undefined (or thread) instruments every target.
# MAILSEC_BUILD_FUZZERS (clang only) adds libFuzzer's coverage instrumentation to every target,
# so the fuzzers see into the libraries they drive; tests/fuzz links the fuzzer binaries.
if(MAILSEC_SANITIZE)
  message(STATUS "mailsec: building with -fsanitize=${MAILSEC_SANITIZE}")
  add_compile_options(-fsanitize=${MAILSEC_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${MAILSEC_SANITIZE})
endif()
if(MAILSEC_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "MAILSEC_BUILD_FUZZERS needs clang (CXX=clang++ CC=clang)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
