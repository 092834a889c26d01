// WatchSession: the session's current configuration, then every change, until the session
// closes (OK) or the client cancels. Events are rare; a slow reader's queue is bounded
// (oldest events dropped beyond kMaxQueued, the latest is always delivered).
#ifndef ADASPRING_DAEMON_SERVICE_WATCH_SESSION_H_
#define ADASPRING_DAEMON_SERVICE_WATCH_SESSION_H_

#include <memory>

#include "adaspring/v1/inference.grpc.pb.h"
#include "server/daemon.h"
#include "service/queued_writer.h"

namespace adaspring::daemon {

class WatchSessionReactor final : public QueuedWriteReactor<v1::SessionEvent>,
                                  public SessionWatcher {
 public:
  static constexpr size_t kMaxQueued = 64;
  WatchSessionReactor(Daemon* daemon, const v1::WatchSessionRequest& request);

  void OnSessionEvent(const v1::SessionEvent& event) override;
  void OnSessionClosed() override;
  void OnDone() override;

 private:
  std::shared_ptr<Session> session_;
};

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SERVICE_WATCH_SESSION_H_
