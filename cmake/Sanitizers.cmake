# MAILSEC_SANITIZE=address,undefined (or thread) instruments every target.
if(MAILSEC_SANITIZE)
  message(STATUS "mailsec: building with -fsanitize=${MAILSEC_SANITIZE}")
  add_compile_options(-fsanitize=${MAILSEC_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${MAILSEC_SANITIZE})
endif()
