#include "server/event_bus.h"

#include <algorithm>

#include "context/parse.h"
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
  // Messages quote paths and names from the file system, which need not be UTF-8; a proto3
  // string that is not would fail to serialise for every watcher.
  *event.mutable_message() = context::ValidUtf8(event.message());
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
