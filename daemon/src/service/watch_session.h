// WatchSession: the session's current configuration, then every change, until the session
// closes (OK) or the client cancels. Events are rare; a slow reader's queue is bounded
// (oldest events dropped beyond kMaxQueued, the latest is always delivered).
#ifndef ADASPRING_DAEMON_SERVICE_WATCH_SESSION_H_
#define ADASPRING_DAEMON_SERVICE_WATCH_SESSION_H_

#include <deque>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "adaspring/v1/inference.grpc.pb.h"
#include "server/daemon.h"

namespace adaspring::daemon {

class WatchSessionReactor final : public grpc::ServerWriteReactor<v1::SessionEvent>,
                                  public SessionWatcher {
 public:
  static constexpr size_t kMaxQueued = 64;
  WatchSessionReactor(Daemon* daemon, const v1::WatchSessionRequest& request);

  void OnSessionEvent(const v1::SessionEvent& event) override;
  void OnSessionClosed() override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  void NextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::shared_ptr<Session> session_;
  absl::Mutex mu_;
  std::deque<v1::SessionEvent> queue_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_ ABSL_GUARDED_BY(mu_);
};

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SERVICE_WATCH_SESSION_H_
