// log.h — mailsec's logging: syslog facility mail, or stderr when running in the foreground.
// One line per event; no message content, addresses only at debug level.
//
// Warnings about peer input go through a RateLimiter so a hostile peer cannot flood the log.
// Thread-safety: all functions are safe from any thread once init() has run.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

namespace mailsec::log {

enum class Level : std::uint8_t { kDebug, kInfo, kWarning, kError };

// ident: program name; to_stderr: log to stderr instead of syslog.
void init(std::string ident, bool to_stderr, Level min_level);
void setLevel(Level min_level);
bool enabled(Level level);
void write(Level level, std::string_view message);

// Parses debug, info, warning, error.
bool parseLevel(std::string_view text, Level& out);

template <typename... Parts>
void emit(Level level, const Parts&... parts) {
  if (!enabled(level)) return;
  std::ostringstream line;
  (line << ... << parts);
  write(level, line.str());
}
template <typename... P> void debug(const P&... p) { emit(Level::kDebug, p...); }
template <typename... P> void info(const P&... p) { emit(Level::kInfo, p...); }
template <typename... P> void warning(const P&... p) { emit(Level::kWarning, p...); }
template <typename... P> void error(const P&... p) { emit(Level::kError, p...); }

// Allows at most `burst` events per `period`; the first allowed event after a suppressed
// stretch learns how many were suppressed.
class RateLimiter {
 public:
  RateLimiter(std::uint32_t burst, std::chrono::seconds period) : burst_(burst), period_(period) {}
  // True when the caller may log; `suppressed` is set to the number dropped since the last
  // allowed event.
  bool allow(std::uint64_t& suppressed);

 private:
  const std::uint32_t burst_;
  const std::chrono::seconds period_;
  std::atomic<std::int64_t> window_start_{0};
  std::atomic<std::uint32_t> in_window_{0};
  std::atomic<std::uint64_t> suppressed_{0};
};

// A warning stream limited by a RateLimiter: what a peer can trigger goes through one.
class RateLimited {
 public:
  RateLimited(std::uint32_t burst, std::chrono::seconds period) : limiter_(burst, period) {}

  template <typename... P>
  void warning(const P&... p) {
    std::uint64_t suppressed = 0;
    if (!enabled(Level::kWarning) || !limiter_.allow(suppressed)) return;
    if (suppressed == 0) emit(Level::kWarning, p...);
    else emit(Level::kWarning, p..., " (", suppressed, " similar lines suppressed before)");
  }

 private:
  RateLimiter limiter_;
};

}  // namespace mailsec::log
