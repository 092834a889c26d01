// WatchEvents: live DaemonEvents until the daemon drains or the client cancels. The queue is
// bounded (kMaxQueued; the oldest are dropped and a KIND_WARNING says how many), so a slow
// reader costs bounded memory.
#ifndef ADASPRING_DAEMON_SERVICE_WATCH_EVENTS_H_
#define ADASPRING_DAEMON_SERVICE_WATCH_EVENTS_H_

#include <deque>

#include "absl/synchronization/mutex.h"
#include "adaspring/v1/admin.grpc.pb.h"
#include "server/event_bus.h"

namespace adaspring::daemon {

class WatchEventsReactor final : public grpc::ServerWriteReactor<v1::DaemonEvent>,
                                 public EventWatcher {
 public:
  static constexpr size_t kMaxQueued = 256;
  WatchEventsReactor(EventBus* bus, bool all_context_samples);

  void OnDaemonEvent(const v1::DaemonEvent& event, bool context_sample) override;
  void OnShutdown() override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  void NextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  EventBus* const bus_;
  const bool all_context_samples_;
  absl::Mutex mu_;
  std::deque<v1::DaemonEvent> queue_ ABSL_GUARDED_BY(mu_);
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_ ABSL_GUARDED_BY(mu_);
};

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SERVICE_WATCH_EVENTS_H_
