// The listeners. Two grpc::Server instances share one Daemon: gRPC cannot tell which
// listening port a call arrived on, so the app socket's server carries Inference plus a
// read-only Admin, and the admin socket's server carries Inference plus the full Admin.
// Optional third server: TCP with TLS (mutating admin calls refused there too unless client
// certificates are required). Each server has gRPC health checking and reflection.
//
// Socket permissions: the socket file is created by gRPC at bind; the umask is narrowed while
// binding and the file is chmod/chown'ed right after (app: sockets.app_mode + app_group;
// admin: sockets.admin_mode + admin_group).
#ifndef ADASPRING_DAEMON_SERVER_RPC_SERVERS_H_
#define ADASPRING_DAEMON_SERVER_RPC_SERVERS_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "server/daemon.h"

namespace grpc {
class Server;
}

namespace adaspring::daemon {

class AdminService;
class InferenceService;

class RpcServers {
 public:
  explicit RpcServers(Daemon* daemon);
  ~RpcServers();

  // Binds the sockets from daemon->config(); UNAVAILABLE / INTERNAL naming the socket on
  // failure (nothing is left listening then).
  absl::Status Start();
  // Stops accepting new calls, waits for running calls up to `grace`, then cancels the rest.
  void Shutdown(std::chrono::milliseconds grace);

 private:
  Daemon* const daemon_;
  std::unique_ptr<InferenceService> inference_;
  std::unique_ptr<AdminService> admin_full_, admin_read_only_;
  std::unique_ptr<grpc::Server> app_, admin_, tcp_;
  // Socket files this process created (removed at shutdown; never another daemon's).
  std::vector<std::string> owned_sockets_;
};

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SERVER_RPC_SERVERS_H_
