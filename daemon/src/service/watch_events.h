// WatchEvents: live DaemonEvents until the daemon drains or the client cancels. The queue is
// bounded (kMaxQueued; the oldest are dropped and a KIND_WARNING says how many), so a slow
// reader costs bounded memory.
#ifndef ADASPRING_DAEMON_SERVICE_WATCH_EVENTS_H_
#define ADASPRING_DAEMON_SERVICE_WATCH_EVENTS_H_

#include "adaspring/v1/admin.grpc.pb.h"
#include "server/event_bus.h"
#include "service/queued_writer.h"

namespace adaspring::daemon {

class WatchEventsReactor final : public QueuedWriteReactor<v1::DaemonEvent>, public EventWatcher {
 public:
  static constexpr size_t kMaxQueued = 256;
  WatchEventsReactor(EventBus* bus, bool all_context_samples);

  void OnDaemonEvent(const v1::DaemonEvent& event, bool context_sample) override;
  void OnShutdown() override;
  void OnDone() override;

 private:
  EventBus* const bus_;
  const bool all_context_samples_;
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SERVICE_WATCH_EVENTS_H_
