mailsec_fuzz_target(received_message SOURCES received_message.cc LIBS mailsec::core_received)
