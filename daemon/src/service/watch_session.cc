#include "service/watch_session.h"

#include "service/callback_order.h"
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
  if (queue_.size() >= kMaxQueued) queue_.pop_front();
  queue_.push_back(event);
  NextLocked();
}

void WatchSessionReactor::OnSessionClosed() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
  NextLocked();
}

void WatchSessionReactor::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  writing_ = false;
  queue_.pop_front();
  if (!ok) {
    closed_ = true;
    queue_.clear();
  }
  NextLocked();
}

void WatchSessionReactor::OnCancel() {
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    if (!writing_) queue_.clear();
    final_ = grpc::Status::CANCELLED;
    NextLocked();
  }
  OnCancelReturns(this);
}

void WatchSessionReactor::NextLocked() {
  if (finished_ || writing_) return;
  if (!queue_.empty()) {
    writing_ = true;
    StartWrite(&queue_.front());
    return;
  }
  if (closed_) {
    finished_ = true;
    Finish(final_);
  }
}

void WatchSessionReactor::OnDone() {
  OnDoneStarts(this);
  if (session_) session_->RemoveWatcher(this);
  delete this;
}

}  // namespace adaspring::daemon
