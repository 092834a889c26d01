// libadaspring_client: how an app calls adaspringd.
//
//   auto client = adaspring::client::Client::Connect({});          // default socket
//   auto session = (*client)->OpenSession({.app_name = "cam", .model = "smallres28"});
//   auto result = (*session)->Infer(input, /*top_k=*/3);
//
// Errors are absl::Status carrying the daemon's status code and message (e.g. INVALID_ARGUMENT
// "input shape [1,28,27] does not match [1,1,28,28]"). When the daemon cannot be reached the
// status is UNAVAILABLE and its message names the socket.
//
// Restarts: when the daemon goes away, calls retry with BackoffPolicy until it is back (or
// give_up_after passes), then the session is reopened transparently with the same app name,
// model, SLO and pinned configuration; id() changes and configuration watchers get an event
// with reopened = true. Inference is retried only when it was not computed (the daemon was
// unreachable or did not know the session).
//
// Thread safety: Client and Session are thread-safe; Infer/InferAsync may be called from many
// threads at once. An InferStream allows one writer and one reader thread concurrently. A
// Session must outlive its streams and watchers; its destructor waits for pending InferAsync
// callbacks.
#ifndef ADASPRING_CLIENT_CLIENT_H_
#define ADASPRING_CLIENT_CLIENT_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "adaspring/client/backoff.h"
#include "adaspring/client/types.h"

namespace adaspring::client {

struct ClientOptions {
  // App socket; empty = DefaultSocketPath().
  std::string socket_path;
  // How long Connect waits for the daemon to accept the connection.
  std::chrono::milliseconds connect_timeout{3000};
  BackoffPolicy backoff;
};

struct SessionOptions {
  std::string app_name = "app";  // 1..64 chars of [A-Za-z0-9._-]
  std::string model;
  Slo slo;
  // Canonical configuration text to pin (no adaptation), or "" to let the daemon adapt.
  std::string pinned_configuration;
};

class Session;
class InferStream;
class ConfigWatch;
namespace internal {
struct ClientCore;
struct SessionCore;
}  // namespace internal

class Client {
 public:
  // Connects to the daemon's app socket. UNAVAILABLE (message names the socket) when the
  // socket does not exist or nobody accepts within connect_timeout.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(ClientOptions options);
  ~Client();

  // Opens a session. Errors as Inference.OpenSession (INVALID_ARGUMENT, NOT_FOUND,
  // RESOURCE_EXHAUSTED) plus UNAVAILABLE.
  absl::StatusOr<std::unique_ptr<Session>> OpenSession(const SessionOptions& options);

  const std::string& socket_path() const;

 private:
  explicit Client(std::shared_ptr<internal::ClientCore> core);
  std::shared_ptr<internal::ClientCore> core_;
};

class Session {
 public:
  ~Session();  // closes the session (best effort) after pending async calls finish

  std::string id() const;  // changes when the session is reopened after a daemon restart
  Configuration configuration() const;  // as of open / the last watch event / UpdateSlo
  const InputSpec& input_spec() const;
  // Number of times the session was reopened on a restarted daemon.
  int reopen_count() const;

  // Runs one request synchronously. `top_k` classes of the first image are returned.
  // `deadline` (0 = none) is sent to the daemon, which does not compute expired requests.
  absl::StatusOr<InferResult> Infer(const Input& input, int top_k = 0,
                                    std::chrono::microseconds deadline = {});
  // Convenience for uint8 pixels of `batch` images in input_spec() shape.
  absl::StatusOr<InferResult> InferPixels(const uint8_t* pixels, int batch, int top_k = 0);

  // Runs one request asynchronously; `done` runs on a library thread exactly once.
  // No transparent retry (the callback sees UNAVAILABLE while the daemon restarts).
  void InferAsync(const Input& input, int top_k,
                  std::function<void(absl::StatusOr<InferResult>)> done);

  // Opens a bidirectional inference stream (pipelined requests, responses by request_id).
  absl::StatusOr<std::unique_ptr<InferStream>> OpenStream();

  // Replaces the SLO; the daemon may evolve the configuration (returned).
  absl::StatusOr<Configuration> UpdateSlo(const Slo& slo);

  // Calls `on_event` on a library thread for the current configuration and every change,
  // until the ConfigWatch is destroyed. Survives daemon restarts (reopening the session).
  std::unique_ptr<ConfigWatch> Watch(std::function<void(const ConfigEvent&)> on_event);

  // Closes the session on the daemon; later calls fail with FAILED_PRECONDITION.
  absl::Status Close();

 private:
  friend class Client;
  explicit Session(std::shared_ptr<internal::SessionCore> core);
  std::shared_ptr<internal::SessionCore> core_;
};

class InferStream {
 public:
  virtual ~InferStream() = default;
  // Sends one request; returns its request_id. Fails once the stream has ended.
  virtual absl::StatusOr<uint64_t> Send(const Input& input, int top_k = 0) = 0;
  // Blocks for the next response (any order). Per-request errors are in InferResult::status;
  // a non-OK StatusOr means the stream ended (OUT_OF_RANGE after a clean WritesDone + drain).
  virtual absl::StatusOr<InferResult> Receive() = 0;
  // No more Sends; Receive drains the remaining responses.
  virtual void WritesDone() = 0;
  // Cancels the stream (unblocks Receive).
  virtual void Cancel() = 0;
};

class ConfigWatch {
 public:
  virtual ~ConfigWatch() = default;  // stops the watch and joins its thread
};

}  // namespace adaspring::client

#endif  // ADASPRING_CLIENT_CLIENT_H_
