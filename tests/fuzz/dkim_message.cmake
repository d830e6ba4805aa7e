mailsec_fuzz_target(dkim_message SOURCES dkim_message.cc LIBS mailsec::core_auth)
