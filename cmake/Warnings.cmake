# mailsec_warnings: the warning set every mailsec target compiles with.
# MAILSEC_WERROR turns them into errors (on by default; CI builds with it).
add_library(mailsec_warnings INTERFACE)
add_library(mailsec::warnings ALIAS mailsec_warnings)
target_compile_options(mailsec_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual -Wnull-dereference
  -Wformat=2 -Wimplicit-fallthrough)
if(MAILSEC_WERROR)
  target_compile_options(mailsec_warnings INTERFACE -Werror)
endif()
