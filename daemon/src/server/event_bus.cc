#include "server/event_bus.h"

#include <algorithm>

#include "service/proto_convert.h"

namespace adaspring::daemon {

void EventBus::Subscribe(EventWatcher* w) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) {
    w->OnShutdown();
    return;
  }
  watchers_.push_back(w);
}

void EventBus::Unsubscribe(EventWatcher* w) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(std::remove(watchers_.begin(), watchers_.end(), w), watchers_.end());
}

void EventBus::Publish(v1::DaemonEvent event, bool context_sample) {
  if (!event.has_time()) *event.mutable_time() = NowTimestamp();
  published_.fetch_add(1);
  absl::MutexLock lock(&mu_);
  for (EventWatcher* w : watchers_) w->OnDaemonEvent(event, context_sample);
}

void EventBus::Shutdown() {
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
  for (EventWatcher* w : watchers_) w->OnShutdown();
  watchers_.clear();
}

bool EventBus::shut_down() const {
  absl::MutexLock lock(&mu_);
  return shut_down_;
}

}  // namespace adaspring::daemon
