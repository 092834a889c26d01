#include "channel.h"

#include <sys/stat.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace adaspring::client::internal {

bool SocketExists(const std::string& path) {
  struct stat st;
  // EACCES: there may well be a socket this user may not reach (a directory of mode 0750):
  // let the caller report the permission problem, not "not running".
  return ::stat(path.c_str(), &st) == 0 || errno == EACCES;
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& socket_path,
                                           const BackoffPolicy& backoff, bool unique) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, static_cast<int>(backoff.initial.count()));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, static_cast<int>(backoff.initial.count()));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(backoff.max.count()));
  // Batches of images can exceed the 4 MB default; the daemon enforces its own limit.
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  if (unique) args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel("unix:" + socket_path, grpc::InsecureChannelCredentials(), args);
}

absl::Status WaitConnected(grpc::Channel& channel, const std::string& socket_path,
                           std::chrono::milliseconds timeout) {
  if (!SocketExists(socket_path)) {
    return absl::UnavailableError(
        absl::StrCat("adaspringd is not running (no socket at ", socket_path, ")"));
  }
  if (channel.WaitForConnected(std::chrono::system_clock::now() + timeout)) {
    return absl::OkStatus();
  }
  return absl::UnavailableError(
      absl::StrCat("cannot connect to adaspringd at ", socket_path, " (is the daemon running?)"));
}

absl::Status FromCode(int code, const std::string& message) {
  if (code == 0) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(code), message);
}

absl::Status FromGrpc(const grpc::Status& status, const std::string& socket_path) {
  if (status.ok()) return absl::OkStatus();
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    // gRPC's transport messages ("failed to connect to all addresses; last error: ...") are
    // not useful to a user; the daemon's own UNAVAILABLE (draining) has a readable message.
    const std::string& msg = status.error_message();
    if (msg.find("connect") != std::string::npos ||
        msg.find("Socket closed") != std::string::npos ||
        msg.find("Connection reset") != std::string::npos || msg.empty()) {
      if (!SocketExists(socket_path)) {
        return absl::UnavailableError(
            absl::StrCat("adaspringd is not running (no socket at ", socket_path, ")"));
      }
      return absl::UnavailableError(absl::StrCat("lost connection to adaspringd at ", socket_path));
    }
  }
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace adaspring::client::internal
