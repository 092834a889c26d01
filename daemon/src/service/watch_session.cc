#include "service/watch_session.h"

#include "service/proto_convert.h"

namespace adaspring::daemon {

WatchSessionReactor::WatchSessionReactor(Daemon* daemon, const v1::WatchSessionRequest& request) {
  absl::StatusOr<std::shared_ptr<Session>> s =
      daemon->Authenticate(request.session_id(), request.token());
  if (!s.ok()) {
    absl::MutexLock lock(&mu_);
    finished_ = true;
    Finish(ToGrpc(s.status()));
    return;
  }
  session_ = *s;
  session_->open_streams.fetch_add(1);
  v1::SessionEvent initial;
  *initial.mutable_time() = NowTimestamp();
  if (auto av = session_->current()) *initial.mutable_current() = av->proto;
  initial.set_reason("initial");
  {
    absl::MutexLock lock(&mu_);
    queue_.push_back(std::move(initial));
  }
  // Registered without holding mu_: the session calls watchers under its own mutex, which
  // then takes mu_ (lock order: session, then reactor). Events published from here on queue
  // behind the initial one.
  const bool open = session_->AddWatcherIfOpen(this);
  absl::MutexLock lock(&mu_);
  if (!open) closed_ = true;
  NextLocked();
}

void WatchSessionReactor::OnSessionEvent(const v1::SessionEvent& event) {
  absl::MutexLock lock(&mu_);
  if (finished_) return;
  if (queue_.size() >= kMaxQueued) {
    // The oldest event not in flight goes (the one being written is popped by OnWriteDone).
    if (auto it = OldestUnwrittenLocked(); it != queue_.end()) queue_.erase(it);
  }
  queue_.push_back(event);
  NextLocked();
}

void WatchSessionReactor::OnSessionClosed() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
  NextLocked();
}

void WatchSessionReactor::OnDone() {
  OnDoneStarts(this);
  if (session_) {
    session_->RemoveWatcher(this);
    session_->Touch();
    session_->open_streams.fetch_sub(1);
  }
  delete this;
}

}  // namespace adaspring::daemon
