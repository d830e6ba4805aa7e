mailsec_fuzz_target(received_header SOURCES received_header.cc LIBS mailsec::core_received)
