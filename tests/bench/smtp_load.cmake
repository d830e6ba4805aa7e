# bench_smtp_load: the SMTP load client (STARTTLS, per-message senders) that
# tests/bench/postfix_peers_throughput.py drives Postfix with; a plain program like
# bench_policyd_load: it measures servers in other processes.
add_executable(bench_smtp_load ${CMAKE_CURRENT_LIST_DIR}/smtp_load.cc)
target_link_libraries(bench_smtp_load PRIVATE OpenSSL::SSL Threads::Threads mailsec::warnings)
