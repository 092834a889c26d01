#include "systemd/notifier.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace adaspring::daemon {

bool Notifier::enabled() const {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  return socket != nullptr && *socket != '\0';
}

absl::Status Notifier::Send(const std::string& state) {
  if (!enabled()) return absl::OkStatus();
  // unset_environment = 0: a reload or the watchdog keeps notifying for the whole lifetime.
  const int r = sd_notify(0, state.c_str());
  if (r < 0) {
    return absl::UnavailableError(
        absl::StrCat("sd_notify(\"", state, "\") failed: ", std::strerror(-r)));
  }
  return absl::OkStatus();
}

absl::Status Notifier::Ready(const std::string& status) {
  if (status.empty()) return Send("READY=1");
  std::string line = status;
  for (char& c : line) {
    if (c == '\n') c = ' ';
  }
  return Send(absl::StrCat("READY=1\nSTATUS=", line));
}

absl::Status Notifier::Status(const std::string& line) {
  std::string one_line = line;
  for (char& c : one_line) {
    if (c == '\n') c = ' ';
  }
  return Send(absl::StrCat("STATUS=", one_line));
}

absl::Status Notifier::Reloading() {
  // systemd 253's Type=notify-reload wants the CLOCK_MONOTONIC time of the reload start, so
  // that it can tell this reload's READY=1 from an earlier one; older systemd ignores it.
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const uint64_t usec =
      static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
  return Send(absl::StrCat("RELOADING=1\nMONOTONIC_USEC=", usec));
}

absl::Status Notifier::Stopping() { return Send("STOPPING=1"); }

absl::Status Notifier::Watchdog() { return Send("WATCHDOG=1"); }

absl::Status Notifier::ExtendTimeout(std::chrono::microseconds extra) {
  return Send(absl::StrCat("EXTEND_TIMEOUT_USEC=", static_cast<int64_t>(extra.count())));
}

std::chrono::microseconds Notifier::WatchdogInterval() const {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0) return std::chrono::microseconds(0);
  return std::chrono::microseconds(static_cast<int64_t>(usec));
}

}  // namespace adaspring::daemon
