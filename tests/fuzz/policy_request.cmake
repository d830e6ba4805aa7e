mailsec_fuzz_target(policy_request SOURCES policy_request.cc LIBS mailsec::policyd_adapter)
