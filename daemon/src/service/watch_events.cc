#include "service/watch_events.h"

#include "absl/strings/str_cat.h"
#include "service/proto_convert.h"

namespace adaspring::daemon {

WatchEventsReactor::WatchEventsReactor(EventBus* bus, bool all_context_samples)
    : bus_(bus), all_context_samples_(all_context_samples) {
  // Lock order: bus, then reactor (the bus calls watchers under its mutex).
  bus_->Subscribe(this);
}

void WatchEventsReactor::OnDaemonEvent(const v1::DaemonEvent& event, bool context_sample) {
  if (context_sample && !all_context_samples_) return;
  absl::MutexLock lock(&mu_);
  if (finished_ || closed_) return;
  if (queue_.size() >= kMaxQueued) {
    queue_.pop_back();  // keep the one being written (front) intact
    ++dropped_;
  }
  queue_.push_back(event);
  if (dropped_ > 0 && queue_.size() < kMaxQueued) {
    v1::DaemonEvent w;
    w.set_kind(v1::DaemonEvent::KIND_WARNING);
    *w.mutable_time() = NowTimestamp();
    w.set_message(absl::StrCat(dropped_, " events dropped: the watcher reads too slowly"));
    dropped_ = 0;
    queue_.push_back(std::move(w));
  }
  NextLocked();
}

void WatchEventsReactor::OnShutdown() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
  NextLocked();
}

void WatchEventsReactor::OnDone() {
  OnDoneStarts(this);
  bus_->Unsubscribe(this);
  delete this;
}

}  // namespace adaspring::daemon
