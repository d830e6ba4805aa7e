# bench_null_milter: a milter that negotiates like mailsec-milter and does nothing, the floor
# tests/bench/postfix_milter_throughput.py measures mailsec against.
add_executable(bench_null_milter ${CMAKE_CURRENT_LIST_DIR}/null_milter.cc)
target_link_libraries(bench_null_milter PRIVATE mailsec::milter_adapter ${MILTER_LIBRARY} Threads::Threads
                      mailsec::warnings)
