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
#include "report/inspect_auth.h"
#include "report/inspect_format.h"

#ifndef MAILSEC_VERSION
#define MAILSEC_VERSION "unknown"
#endif

namespace mailsec::report {
namespace {

constexpr std::string_view kProgram = "mailsec-inspect";
// The header block (HeaderLimits::max_bytes) plus the body bytes DKIM hashes (DkimLimits).
constexpr std::size_t kMaxMessageBytes = (1U << 20) + (64U << 20);

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
      "usage: mailsec-inspect [--json] [--dns IP[@PORT]|system] [--no-dnssec]\n"
      "                       [--trust-anchor FILE]...\n"
      "                       [--client-ip IP] [--helo NAME] [--mail-from ADDRESS]\n"
      "                       [--trusted-authserv-id ID]... [FILE|-]\n"
      "       mailsec-inspect --help | --version\n"
      "\n"
      "Reads one message (RFC 5322; a leading mbox \"From \" line is tolerated) from FILE, or\n"
      "from standard input when FILE is \"-\" or absent, and explains how it travelled: one hop\n"
      "per Received header (hop 0 is the topmost, the newest), its WITH protocol and the TLS\n"
      "details its MTA wrote, then the path summary; then its authentication verdicts: SPF\n"
      "for the envelope given below, DKIM per signature, DMARC for the From domain.\n"
      "\n"
      "  --json                  print one JSON object instead of the table (docs/inspect.md)\n"
      "  --dns IP[@PORT]         ask this DNS server (a forwarder) for keys and records;\n"
      "                          \"system\" uses /etc/resolv.conf. Without it nothing is\n"
      "                          looked up and verdicts that need DNS are shown as null\n"
      "  --no-dnssec             do not validate answers (unsigned test zones)\n"
      "  --trust-anchor FILE     a DNSSEC trust-anchor file (DS or DNSKEY lines) to validate\n"
      "                          with, besides the root's (repeatable)\n"
      "  --client-ip IP, --helo NAME, --mail-from ADDRESS\n"
      "                          the SMTP envelope, for SPF\n"
      "  --trusted-authserv-id ID\n"
      "                          show the verdicts of an Authentication-Results field from ID\n"
      "                          instead of verifying (repeatable)\n"
      "  --help                  print this help and exit\n"
      "  --version               print the version and exit\n"
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
  InspectAuthOptions auth_options;
  // Options that take a value, as "--name VALUE" or "--name=VALUE".
  const std::pair<std::string_view, std::string*> valued[] = {
      {"--client-ip", &auth_options.client_ip},
      {"--helo", &auth_options.helo},
      {"--mail-from", &auth_options.mail_from},
      {"--dns", &auth_options.dns},
  };
  std::string* pending = nullptr;
  std::string_view pending_name;
  for (const std::string& arg : args) {
    if (pending != nullptr) {
      *pending = arg;
      pending = nullptr;
      continue;
    }
    bool matched = false;
    if (!options_done && arg.starts_with("--")) {
      std::string trusted;
      for (const auto& [name, target] : valued) {
        if (arg == name) {
          pending = target;
          pending_name = name;
          matched = true;
        } else if (arg.size() > name.size() && arg.starts_with(name) && arg[name.size()] == '=') {
          *target = arg.substr(name.size() + 1);
          matched = true;
        }
      }
      // Repeatable options that take a value.
      const std::pair<std::string_view, std::vector<std::string>*> repeated[] = {
          {"--trusted-authserv-id", &auth_options.trusted_ids},
          {"--trust-anchor", &auth_options.trust_anchors},
      };
      for (const auto& [name, list] : repeated) {
        if (arg == name) {
          list->emplace_back();
          pending = &list->back();
          pending_name = name;
          matched = true;
        } else if (arg.size() > name.size() && arg.starts_with(name) && arg[name.size()] == '=') {
          list->push_back(arg.substr(name.size() + 1));
          matched = true;
        }
      }
      if (arg == "--no-dnssec") {
        auth_options.dnssec = false;
        matched = true;
      }
    }
    if (matched) {
      continue;
    } else if (!options_done && arg == "--") {
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

  if (pending != nullptr) {
    err << kProgram << ": option '" << pending_name << "' needs a value\n"
        << "Try 'mailsec-inspect --help'.\n";
    return kExitUsage;
  }

  const core::received::HeaderLimits limits;
  std::string data;
  const std::string shown = input == "-" ? std::string("(standard input)") : input;
  if (input == "-") {
    if (!readBounded(in, kMaxMessageBytes, data)) {
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
      err << kProgram << ": " << terminalSafe(input, 400)
          << ": cannot open: " << (saved != 0 ? std::strerror(saved) : "unknown error") << "\n";
      return kExitInput;
    }
    if (!readBounded(file, kMaxMessageBytes, data)) {
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
  const InspectAuth auth = inspectAuth(data, auth_options);
  if (!auth.error.empty()) {
    err << kProgram << ": " << terminalSafe(auth.error, 400) << "\n";
    return kExitInput;
  }
  if (json) {
    out << formatJson(analysis, input, &auth) << "\n";
  } else {
    out << formatTable(analysis, shown, &auth);
  }
  out.flush();
  return kExitOk;
}

}  // namespace mailsec::report
