// mailsec-report — reports from mailsec's history store (report_cli.h).
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "report/report_cli.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  return mailsec::report::runReport(args, std::cout, std::cerr, [] {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  });
}
