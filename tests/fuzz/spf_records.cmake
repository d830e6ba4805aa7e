mailsec_fuzz_target(spf_records SOURCES spf_records.cc LIBS mailsec::core_auth)
