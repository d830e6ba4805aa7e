// macro_reader.h — read access to the MTA's macros for the current protocol stage. The
// libmilter implementation wraps smfi_getsymval; tests use a map.
//
// Values are MTA-supplied text (some of it peer-controlled, e.g. certificate subjects).
#pragma once

#include <string_view>

namespace mailsec::milter {

class MacroReader {
 public:
  virtual ~MacroReader() = default;
  // The macro's value, or an empty view when the MTA did not send it. `name` is as the MTA
  // names it: "j", "i", "{tls_version}".
  virtual std::string_view get(const char* name) const = 0;
};

}  // namespace mailsec::milter
