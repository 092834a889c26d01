// Connecting adaspringctl to the daemon and turning failures into one-line messages and exit
// codes (commands.h).
#ifndef ADASPRING_CLIENT_CTL_RPC_H_
#define ADASPRING_CLIENT_CTL_RPC_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "adaspring/v1/admin.grpc.pb.h"
#include "commands.h"

namespace adaspring::ctl {

std::string AppSocket(const GlobalOptions& g);
std::string AdminSocket(const GlobalOptions& g);

struct AdminConnection {
  std::string socket;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Admin::Stub> stub;
};

// Read-only calls go to the app socket (any user of the adaspring group may look); calls that
// change state go to the admin socket. UNAVAILABLE (not running) or PERMISSION_DENIED, each
// naming the socket.
absl::StatusOr<AdminConnection> ConnectAdmin(const GlobalOptions& g, bool mutating);

// A context with the per-call deadline of --timeout.
std::unique_ptr<grpc::ClientContext> CallContext(const GlobalOptions& g);

// grpc::Status -> absl::Status with a readable message (never gRPC transport text).
absl::Status FromGrpc(const grpc::Status& s, const std::string& socket);

// Prints "adaspringctl: <message>" (one line) to stderr and returns the exit code for it:
// UNAVAILABLE -> kExitNotRunning, anything else -> kExitServerError.
int Fail(const absl::Status& s);
// Prints a usage-type problem (bad local file, bad option value) and returns kExitUsage.
int UsageError(const std::string& message);

// Connects and runs one unary Admin call. On failure prints the error and stores the exit
// code in *rc.
template <typename Req, typename Resp, typename Method>
bool CallAdmin(const GlobalOptions& g, bool mutating, Method method, const Req& req, Resp* resp,
               int* rc) {
  auto conn = ConnectAdmin(g, mutating);
  if (!conn.ok()) {
    *rc = Fail(conn.status());
    return false;
  }
  auto ctx = CallContext(g);
  const grpc::Status s = ((*conn->stub).*method)(ctx.get(), req, resp);
  if (!s.ok()) {
    *rc = Fail(FromGrpc(s, conn->socket));
    return false;
  }
  return true;
}

}  // namespace adaspring::ctl

#endif  // ADASPRING_CLIENT_CTL_RPC_H_
