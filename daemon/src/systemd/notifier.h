// sd_notify(3) glue for Type=notify: READY/STATUS/RELOADING/STOPPING/WATCHDOG messages.
//
// Every call is a no-op returning OkStatus() when NOTIFY_SOCKET is unset (user mode, tests,
// running outside systemd). The environment is read at each call (sd_notify does so), so a
// test may set NOTIFY_SOCKET after constructing a Notifier.
// Thread safety: all members may be called from any thread concurrently (sd_notify opens a
// fresh datagram socket per call); the class holds no state besides the environment.
// Failure: a send error is returned as a Status for the caller to log; it never aborts.
#ifndef ADASPRING_DAEMON_SYSTEMD_NOTIFIER_H_
#define ADASPRING_DAEMON_SYSTEMD_NOTIFIER_H_

#include <chrono>
#include <string>

#include "absl/status/status.h"

namespace adaspring::daemon {

class Notifier {
 public:
  Notifier() = default;

  // True when NOTIFY_SOCKET is set (we run under systemd with Type=notify).
  bool enabled() const;

  // "READY=1" (+ "STATUS=<status>" when non-empty): once all listening sockets are bound,
  // and again after a reload finished.
  absl::Status Ready(const std::string& status = "");
  // "STATUS=<line>": a one-line summary shown by `systemctl status`. Newlines are replaced.
  absl::Status Status(const std::string& line);
  // "RELOADING=1" + "MONOTONIC_USEC=<CLOCK_MONOTONIC now>" (systemd >= 253 requires the
  // timestamp for Type=notify-reload; systemd 252 ignores it). Send Ready() when done.
  absl::Status Reloading();
  // "STOPPING=1": on SIGTERM, before draining.
  absl::Status Stopping();
  // "WATCHDOG=1": from the event loop, every WatchdogInterval() / 2.
  absl::Status Watchdog();
  // "EXTEND_TIMEOUT_USEC=<usec>": asks for more time during a long start or drain.
  absl::Status ExtendTimeout(std::chrono::microseconds extra);

  // WatchdogSec= of the unit (sd_watchdog_enabled), zero when the watchdog is off or meant
  // for another process (WATCHDOG_PID mismatch).
  std::chrono::microseconds WatchdogInterval() const;

  // Sends an arbitrary, already formatted state string (newline-separated assignments).
  absl::Status Send(const std::string& state);
};

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SYSTEMD_NOTIFIER_H_
