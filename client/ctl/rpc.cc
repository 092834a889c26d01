#include "rpc.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "../src/channel.h"
#include "absl/strings/str_cat.h"
#include "adaspring/client/socket_path.h"

namespace adaspring::ctl {

std::string AppSocket(const GlobalOptions& g) {
  return g.socket.empty() ? client::DefaultSocketPath() : g.socket;
}

std::string AdminSocket(const GlobalOptions& g) {
  return g.admin_socket.empty() ? client::AdminSocketFor(AppSocket(g)) : g.admin_socket;
}

absl::StatusOr<AdminConnection> ConnectAdmin(const GlobalOptions& g, bool mutating) {
  AdminConnection c;
  c.socket = mutating ? AdminSocket(g) : AppSocket(g);
  if (!client::internal::SocketExists(c.socket)) {
    // A wrong --admin-socket while the daemon serves on its app socket is not "not running".
    if (mutating && client::internal::SocketExists(AppSocket(g))) {
      return absl::UnavailableError(absl::StrCat(
          "no admin socket at ", c.socket, ", although adaspringd has its app socket at ",
          AppSocket(g),
          " (is --admin-socket right? It is admin.sock in the daemon's runtime directory; on a "
          "system install changing the daemon needs root or the adaspring admin group)"));
    }
    return absl::UnavailableError(absl::StrCat(
        "adaspringd is not running (no ", mutating ? "admin " : "", "socket at ", c.socket, ")"));
  }
  if (::access(c.socket.c_str(), R_OK | W_OK) != 0 && errno == EACCES) {
    return absl::PermissionDeniedError(
        absl::StrCat("permission denied on ", c.socket,
                     mutating ? " (changing the daemon needs root or the adaspring admin group)"
                              : " (needs the adaspring group)"));
  }
  client::BackoffPolicy backoff;
  c.channel = client::internal::MakeChannel(c.socket, backoff);
  const auto wait =
      std::chrono::milliseconds(static_cast<int64_t>(std::min(g.timeout_s, 3.0) * 1000));
  if (!c.channel->WaitForConnected(std::chrono::system_clock::now() + wait)) {
    return absl::UnavailableError(
        absl::StrCat("adaspringd is not running (nothing accepts connections on ", c.socket, ")"));
  }
  c.stub = v1::Admin::NewStub(c.channel);
  return c;
}

std::unique_ptr<grpc::ClientContext> CallContext(const GlobalOptions& g) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(static_cast<int64_t>(g.timeout_s * 1000)));
  return ctx;
}

absl::Status FromGrpc(const grpc::Status& s, const std::string& socket) {
  return client::internal::FromGrpc(s, socket);
}

int Fail(const absl::Status& s) {
  std::string msg(s.message());
  for (char& ch : msg) {
    if (ch == '\n' || ch == '\r') ch = ' ';
  }
  if (s.code() == absl::StatusCode::kUnavailable) {
    std::cerr << "adaspringctl: " << msg << "\n";
    return kExitNotRunning;
  }
  std::cerr << "adaspringctl: " << msg << " (" << absl::StatusCodeToString(s.code()) << ")\n";
  return kExitServerError;
}

int UsageError(const std::string& message) {
  std::cerr << "adaspringctl: " << message << "\n";
  return kExitUsage;
}

}  // namespace adaspring::ctl
