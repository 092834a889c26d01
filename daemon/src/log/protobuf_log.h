// Routes libprotobuf's own messages (e.g. "String field ... contains invalid UTF-8 data", which
// any app-socket client can provoke with every request) through the daemon's logger, at most
// kMaxPerMinute per minute; the rest are counted and reported in one line per minute.
#ifndef ADASPRING_DAEMON_LOG_PROTOBUF_LOG_H_
#define ADASPRING_DAEMON_LOG_PROTOBUF_LOG_H_

#include <cstdint>
#include <string>

namespace adaspring::daemon {

void RouteProtobufLogs();

// The rate limit itself (exposed for tests): whether a message at `now_s` (seconds, monotonic)
// may be written, and how many were suppressed in the minute before it, when it opens a new
// minute.
class LogRateLimit {
 public:
  explicit LogRateLimit(int per_minute) : per_minute_(per_minute) {}
  bool Allow(double now_s, uint64_t* suppressed_before);

 private:
  const int per_minute_;
  double window_start_ = -1e300;
  int written_ = 0;
  uint64_t suppressed_ = 0;
};

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_LOG_PROTOBUF_LOG_H_
