# config_loader: mailsec.yaml text through loadConfigText (both daemons' configuration).
mailsec_fuzz_target(config_loader SOURCES config_loader.cc LIBS mailsec::config)
