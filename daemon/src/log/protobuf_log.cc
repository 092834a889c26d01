#include "log/protobuf_log.h"

#include <google/protobuf/stubs/logging.h>

#include <chrono>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "log/logger.h"

namespace adaspring::daemon {
namespace {

constexpr int kMaxPerMinute = 10;

void Handle(google::protobuf::LogLevel level, const char* filename, int line,
            const std::string& message) {
  static std::mutex mu;
  static LogRateLimit limit(kMaxPerMinute);
  const double now =
      std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  uint64_t suppressed = 0;
  bool allow;
  {
    std::lock_guard<std::mutex> lock(mu);
    allow = limit.Allow(now, &suppressed);
  }
  if (suppressed > 0) {
    Log(LogLevel::kWarning, absl::StrCat(suppressed, " further libprotobuf messages suppressed"),
        {{"limit_per_minute", absl::StrCat(kMaxPerMinute)}});
  }
  if (!allow) return;
  const LogLevel ours = level >= google::protobuf::LOGLEVEL_ERROR     ? LogLevel::kWarning
                        : level == google::protobuf::LOGLEVEL_WARNING ? LogLevel::kWarning
                                                                      : LogLevel::kInfo;
  // Messages about bad input from a client are warnings, not daemon errors.
  Log(ours, absl::StrCat("libprotobuf: ", absl::StripTrailingAsciiWhitespace(message)),
      {{"source", absl::StrCat(filename != nullptr ? filename : "?", ":", line)}});
}

}  // namespace

bool LogRateLimit::Allow(double now_s, uint64_t* suppressed_before) {
  *suppressed_before = 0;
  if (now_s - window_start_ >= 60) {
    *suppressed_before = suppressed_;
    suppressed_ = 0;
    written_ = 0;
    window_start_ = now_s;
  }
  if (written_ < per_minute_) {
    ++written_;
    return true;
  }
  ++suppressed_;
  return false;
}

void RouteProtobufLogs() { google::protobuf::SetLogHandler(&Handle); }

}  // namespace adaspring::daemon
