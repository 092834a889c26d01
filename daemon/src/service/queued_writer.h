// The server-streaming half shared by WatchSession and WatchEvents: events are queued under
// the reactor's mutex from any thread and written one at a time; the stream finishes with
// final_ once it is closed and the queue has drained (or at once when the client cancels or a
// write fails). Subclasses decide what to queue (and what to drop when a slow reader lets the
// queue fill) and implement OnDone().
#ifndef ADASPRING_DAEMON_SERVICE_QUEUED_WRITER_H_
#define ADASPRING_DAEMON_SERVICE_QUEUED_WRITER_H_

#include <grpcpp/grpcpp.h>

#include <deque>

#include "absl/synchronization/mutex.h"
#include "service/callback_order.h"

namespace adaspring::daemon {

template <typename Event>
class QueuedWriteReactor : public grpc::ServerWriteReactor<Event> {
 public:
  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    queue_.pop_front();
    if (!ok) {
      closed_ = true;
      queue_.clear();
    }
    NextLocked();
  }

  void OnCancel() override {
    {
      absl::MutexLock lock(&mu_);
      closed_ = true;
      if (!writing_) queue_.clear();
      final_ = grpc::Status::CANCELLED;
      NextLocked();
    }
    OnCancelReturns(this);
  }

 protected:
  // Starts the next write, or finishes a closed stream whose queue has drained. Called from
  // a gRPC callback (which holds the call) or under a lock that OnDone() also takes before
  // deleting the reactor (the session's or the event bus's), so OnDone cannot run until the
  // caller has released mu_.
  void NextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || writing_) return;
    if (!queue_.empty()) {
      writing_ = true;
      this->StartWrite(&queue_.front());
      return;
    }
    if (closed_) {
      finished_ = true;
      this->Finish(final_);
    }
  }

  // The oldest queued event that is not being written (the front is, while writing_), or
  // queue_.end() when there is none.
  typename std::deque<Event>::iterator OldestUnwrittenLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = queue_.begin();
    if (writing_ && it != queue_.end()) ++it;
    return it;
  }

  absl::Mutex mu_;
  std::deque<Event> queue_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_ ABSL_GUARDED_BY(mu_);
};

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SERVICE_QUEUED_WRITER_H_
