// Fan-out of DaemonEvents to WatchEvents streams (and to the log/metrics hooks).
// Thread safety: all methods are thread-safe. Watchers are called under the bus mutex and must
// not block or call back into the bus (they queue and return).
#ifndef ADASPRING_DAEMON_SERVER_EVENT_BUS_H_
#define ADASPRING_DAEMON_SERVER_EVENT_BUS_H_

#include <atomic>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "adaspring/v1/admin.pb.h"

namespace adaspring::daemon {

class EventWatcher {
 public:
  virtual ~EventWatcher() = default;
  // `context_sample`: the event is a routine context sample (only for all_context_samples).
  virtual void OnDaemonEvent(const v1::DaemonEvent& event, bool context_sample) = 0;
  virtual void OnShutdown() = 0;
};

class EventBus {
 public:
  void Subscribe(EventWatcher* w);
  // Returns after any in-progress delivery to `w` has finished.
  void Unsubscribe(EventWatcher* w);
  // Stamps the time when unset.
  void Publish(v1::DaemonEvent event, bool context_sample = false);
  // Tells every watcher to finish (drain); later Subscribe calls return immediately finished.
  void Shutdown();
  bool shut_down() const;
  uint64_t published() const { return published_.load(); }

 private:
  mutable absl::Mutex mu_;
  std::vector<EventWatcher*> watchers_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> published_{0};
};

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SERVER_EVENT_BUS_H_
