// Writes the daemon's events (sessions opened and closed, evolutions, models loaded and
// unloaded, context overrides, warnings) to the log with structured fields, so that
// `journalctl -u adaspringd APP=camera` selects one app's records. Routine context samples are
// not logged; significant context changes are logged at debug level.
//
// The bus calls watchers under its mutex and they must not block, while a log write may: the
// events are queued here (bounded; overflow is counted and reported) and written by a thread
// of this class.
#ifndef ADASPRING_DAEMON_SERVER_EVENT_LOG_H_
#define ADASPRING_DAEMON_SERVER_EVENT_LOG_H_

#include <deque>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "server/event_bus.h"

namespace adaspring::daemon {

class EventLog : public EventWatcher {
 public:
  // Subscribes to `bus` (which must outlive this object) and starts the writer thread.
  explicit EventLog(EventBus* bus);
  // Unsubscribes, writes what is queued and stops the thread.
  ~EventLog() override;
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  void OnDaemonEvent(const v1::DaemonEvent& event, bool context_sample) override;
  void OnShutdown() override {}

  static constexpr size_t kMaxQueued = 1024;

 private:
  void Run();

  EventBus* bus_;
  absl::Mutex mu_;
  std::deque<v1::DaemonEvent> queue_ ABSL_GUARDED_BY(mu_);
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// Writes one event as a log record (the writer thread's work; exposed for tests).
void LogDaemonEvent(const v1::DaemonEvent& event);

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SERVER_EVENT_LOG_H_
