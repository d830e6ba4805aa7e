# ub_config_lock: the LD_PRELOAD shim tests/bench/postfix_peers_throughput.py loads into
# Debian's OpenDKIM (it serializes libunbound's non-reentrant configuration parser).
add_library(ub_config_lock MODULE ${CMAKE_CURRENT_LIST_DIR}/ub_config_lock.cc)
target_link_libraries(ub_config_lock PRIVATE ${CMAKE_DL_LIBS} Threads::Threads mailsec::warnings)
