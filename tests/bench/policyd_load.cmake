# bench_policyd_load: the load client tests/bench/policyd_load.py runs against mailsec-policyd
# (a plain program: it measures a server in another process, not code in its own).
add_executable(bench_policyd_load ${CMAKE_CURRENT_LIST_DIR}/policyd_load.cc)
target_link_libraries(bench_policyd_load PRIVATE mailsec::warnings)
