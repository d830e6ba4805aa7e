// inspect_cli.h — the mailsec-inspect command: reads one message (a path, or standard input
// for "-" or no argument), explains how it travelled, and returns the exit code.
//
//   mailsec-inspect [--json] [FILE|-]     mailsec-inspect --help | --version
//
// Exit codes (also in --help and docs/inspect.md):
//   0  the message was read and explained;
//   1  the input could not be read, or is not an RFC 5322 message (no header field);
//   2  usage error (unknown option, more than one input).
//
// Trusts nothing: the input is any bytes, read bounded (the first HeaderLimits::max_bytes
// plus one). Thread-safety: runInspect touches only the streams it is given.
// Errors: reported on `err` with the program name and the input's name; never thrown.
#pragma once

#include <iosfwd>
#include <span>
#include <string>

namespace mailsec::report {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInput = 1;
inline constexpr int kExitUsage = 2;

// args: the command-line arguments without the program name.
int runInspect(std::span<const std::string> args, std::istream& in, std::ostream& out,
               std::ostream& err);

// The --help text.
std::string inspectUsage();

}  // namespace mailsec::report
