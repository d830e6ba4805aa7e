// opendkim.h — includes libopendkim's <dkim.h> from C++ (private to core/auth's .cc files).
//
// dkim.h is C: it spells booleans _Bool and only pulls in <stdbool.h> when the library's own
// build defines HAVE_STDBOOL_H, so a C++ includer has to supply the type itself. C's _Bool and
// C++'s bool share a representation on every ABI Debian builds libopendkim for.
//
// Trusts: nothing. Thread-safety and errors: a header.
#pragma once

#define _Bool bool
#include <opendkim/dkim.h>
#undef _Bool
