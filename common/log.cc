#include "common/log.h"

#include <syslog.h>

#include <cstdio>
#include <ctime>
#include <mutex>

namespace mailsec::log {
namespace {

std::mutex g_mutex;
std::string g_ident = "mailsec";
bool g_stderr = true;
std::atomic<Level> g_level{Level::kInfo};

int syslogPriority(Level level) {
  switch (level) {
    case Level::kDebug: return LOG_DEBUG;
    case Level::kInfo: return LOG_INFO;
    case Level::kWarning: return LOG_WARNING;
    case Level::kError: return LOG_ERR;
  }
  return LOG_ERR;
}

const char* levelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarning: return "warning";
    case Level::kError: return "error";
  }
  return "error";
}

}  // namespace

void init(std::string ident, bool to_stderr, Level min_level) {
  std::lock_guard lock(g_mutex);
  g_ident = std::move(ident);
  g_stderr = to_stderr;
  g_level = min_level;
  if (!g_stderr) openlog(g_ident.c_str(), LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void setLevel(Level min_level) { g_level = min_level; }

bool enabled(Level level) { return level >= g_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view message) {
  std::lock_guard lock(g_mutex);
  if (g_stderr) {
    char stamp[32];
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    std::fprintf(stderr, "%s %s: %s: %.*s\n", stamp, g_ident.c_str(), levelName(level),
                 static_cast<int>(message.size()), message.data());
    std::fflush(stderr);
  } else {
    syslog(syslogPriority(level), "%s: %.*s", levelName(level), static_cast<int>(message.size()),
           message.data());
  }
}

bool parseLevel(std::string_view text, Level& out) {
  if (text == "debug") out = Level::kDebug;
  else if (text == "info") out = Level::kInfo;
  else if (text == "warning") out = Level::kWarning;
  else if (text == "error") out = Level::kError;
  else return false;
  return true;
}

bool RateLimiter::allow(std::uint64_t& suppressed) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
  auto start = window_start_.load();
  if (now - start >= period_.count() && window_start_.compare_exchange_strong(start, now)) {
    in_window_ = 0;
  }
  if (in_window_.fetch_add(1) < burst_) {
    suppressed = suppressed_.exchange(0);
    return true;
  }
  suppressed_.fetch_add(1);
  return false;
}

}  // namespace mailsec::log
