// inspect_cli.cc — see inspect_cli.h.
#include "report/inspect_cli.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <istream>
#include <ostream>
#include <string_view>

#include "core/received/message_analysis.h"
#include "report/inspect_format.h"

#ifndef MAILSEC_VERSION
#define MAILSEC_VERSION "unknown"
#endif

namespace mailsec::report {
namespace {

constexpr std::string_view kProgram = "mailsec-inspect";

// Reads at most `limit` bytes. False on a read error (not on a short input).
bool readBounded(std::istream& in, std::size_t limit, std::string& data) {
  data.clear();
  char buffer[65536];
  while (data.size() < limit && in) {
    const std::size_t want = std::min(sizeof buffer, limit - data.size());
    in.read(buffer, static_cast<std::streamsize>(want));
    data.append(buffer, static_cast<std::size_t>(in.gcount()));
  }
  return !in.bad();
}

}  // namespace

std::string inspectUsage() {
  return std::string(
      "usage: mailsec-inspect [--json] [FILE|-]\n"
      "       mailsec-inspect --help | --version\n"
      "\n"
      "Reads one message (RFC 5322; a leading mbox \"From \" line is tolerated) from FILE, or\n"
      "from standard input when FILE is \"-\" or absent, and explains how it travelled: one hop\n"
      "per Received header (hop 0 is the topmost, the newest), its WITH protocol and the TLS\n"
      "details its MTA wrote, then the path summary.\n"
      "\n"
      "  --json     print one JSON object instead of the table (docs/inspect.md)\n"
      "  --help     print this help and exit\n"
      "  --version  print the version and exit\n"
      "\n"
      "Exit codes:\n"
      "  0  the message was read and explained\n"
      "  1  the input could not be read, or is not a message (no header field)\n"
      "  2  usage error\n");
}

int runInspect(std::span<const std::string> args, std::istream& in, std::ostream& out,
               std::ostream& err) {
  bool json = false;
  bool have_input = false;
  std::string input = "-";
  bool options_done = false;
  for (const std::string& arg : args) {
    if (!options_done && arg == "--") {
      options_done = true;
    } else if (!options_done && arg == "--json") {
      json = true;
    } else if (!options_done && (arg == "--help" || arg == "-h")) {
      out << inspectUsage();
      return kExitOk;
    } else if (!options_done && arg == "--version") {
      out << kProgram << " " << MAILSEC_VERSION << "\n";
      return kExitOk;
    } else if (!options_done && arg.size() > 1 && arg[0] == '-') {
      err << kProgram << ": unknown option '" << terminalSafe(arg, 80) << "'\n"
          << "Try 'mailsec-inspect --help'.\n";
      return kExitUsage;
    } else if (have_input) {
      err << kProgram << ": only one input may be given\n"
          << "Try 'mailsec-inspect --help'.\n";
      return kExitUsage;
    } else {
      input = arg;
      have_input = true;
    }
  }

  const core::received::HeaderLimits limits;
  std::string data;
  const std::string shown = input == "-" ? std::string("(standard input)") : input;
  if (input == "-") {
    if (!readBounded(in, limits.max_bytes + 1, data)) {
      err << kProgram << ": " << shown << ": read error\n";
      return kExitInput;
    }
  } else {
    std::error_code ec;
    if (std::filesystem::is_directory(input, ec)) {
      err << kProgram << ": " << terminalSafe(input, 400) << ": is a directory\n";
      return kExitInput;
    }
    std::ifstream file(input, std::ios::binary);
    if (!file) {
      const int saved = errno;
      err << kProgram << ": " << terminalSafe(input, 400) << ": cannot open: "
          << (saved != 0 ? std::strerror(saved) : "unknown error") << "\n";
      return kExitInput;
    }
    if (!readBounded(file, limits.max_bytes + 1, data)) {
      err << kProgram << ": " << terminalSafe(input, 400) << ": read error\n";
      return kExitInput;
    }
  }

  const core::received::MessageAnalysis analysis = core::received::analyseMessage(data, limits);
  if (analysis.header.fields.empty()) {
    err << kProgram << ": " << terminalSafe(shown, 400)
        << ": not an RFC 5322 message (no header field found)\n";
    return kExitInput;
  }
  if (json) {
    out << formatJson(analysis, input) << "\n";
  } else {
    out << formatTable(analysis, shown);
  }
  out.flush();
  return kExitOk;
}

}  // namespace mailsec::report
