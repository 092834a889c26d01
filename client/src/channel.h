// Internal: gRPC channels to the daemon's Unix sockets and grpc::Status -> absl::Status.
// Also used by adaspringctl and adaspring-bench (which link the proto themselves); not part of
// the public headers, so generated and gRPC headers never reach apps.
#ifndef ADASPRING_CLIENT_SRC_CHANNEL_H_
#define ADASPRING_CLIENT_SRC_CHANNEL_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "adaspring/client/backoff.h"

namespace adaspring::client::internal {

// A channel to "unix:<socket_path>" whose reconnect backoff follows `backoff` (gRPC's default
// starts at 1 s and grows to 120 s, far too slow for a local daemon restart). `unique` gives
// the channel its own connection (benchmarks open K independent clients).
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& socket_path,
                                           const BackoffPolicy& backoff, bool unique = false);

// Waits until the channel is connected. UNAVAILABLE naming the socket otherwise: "adaspringd
// is not running (no socket at PATH)" when the file is absent, "cannot connect to adaspringd
// at PATH" when nobody accepts.
absl::Status WaitConnected(grpc::Channel& channel, const std::string& socket_path,
                           std::chrono::milliseconds timeout);

// The daemon's code and message; UNAVAILABLE becomes one readable line naming the socket
// instead of gRPC's transport text.
absl::Status FromGrpc(const grpc::Status& status, const std::string& socket_path);
// For statuses carried in stream responses (google.rpc.Code + message).
absl::Status FromCode(int code, const std::string& message);

bool SocketExists(const std::string& path);

}  // namespace adaspring::client::internal

#endif  // ADASPRING_CLIENT_SRC_CHANNEL_H_
