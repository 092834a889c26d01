// Internal state shared by Client, Session, InferStream and ConfigWatch.
#ifndef ADASPRING_CLIENT_SRC_SESSION_CORE_H_
#define ADASPRING_CLIENT_SRC_SESSION_CORE_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "adaspring/client/client.h"
#include "adaspring/v1/inference.grpc.pb.h"

namespace adaspring::client::internal {

struct ClientCore {
  std::string socket_path;
  ClientOptions options;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Inference::Stub> stub;
};

// Credentials of one incarnation of the session; `generation` counts reopenings.
struct Credentials {
  std::string id, token;
  int generation = 0;
};

struct SessionCore {
  std::shared_ptr<ClientCore> client;
  // What the session was opened with; read by every reopen. Set before the first Open; later
  // changed only through SetSlo.
  SessionOptions options;
  InputSpec spec;
  std::atomic<uint64_t> next_request_id{1};
  // End-to-end latency of the last completed request, us, sent with the next one
  // (InferRequest.reported_latency_us) so that the daemon plans for what the app sees.
  std::atomic<uint32_t> last_latency_us{0};
  void RecordLatency(std::chrono::steady_clock::time_point sent) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - sent)
                        .count();
    last_latency_us.store(static_cast<uint32_t>(std::clamp<int64_t>(us, 1, 60'000'000)),
                          std::memory_order_relaxed);
  }
  std::atomic<int> reopen_count{0};

  // Opens the session on the daemon (first open and reopen). Caller holds no lock.
  absl::Status Open();

  // Records a new SLO for later reopenings (thread-safe with Open/Reopen).
  void SetSlo(const Slo& slo);

  Credentials Current() const;
  Configuration configuration() const;
  void SetConfiguration(const Configuration& c);
  bool closed() const;
  void MarkClosed();

  // Reopens the session if it is still at `seen_generation` (concurrent callers that saw the
  // same failure reopen once). UNAVAILABLE while the daemon is unreachable.
  absl::Status Reopen(int seen_generation);

  // Runs a unary call with transparent retry: `call` is invoked with the current credentials
  // and a fresh context; UNAVAILABLE retries with backoff (up to give_up_after), NOT_FOUND /
  // UNAUTHENTICATED reopen the session once and retry.
  absl::Status CallWithRetry(
      const std::function<grpc::Status(const Credentials&, grpc::ClientContext*)>& call,
      std::chrono::microseconds deadline);

  // Sleeps `delay` unless Wake() is called first; returns false when woken for shutdown.
  bool SleepFor(std::chrono::milliseconds delay);
  void Wake();

  // Pending InferAsync calls, so that ~Session can wait for them.
  void AsyncStarted();
  void AsyncFinished();
  void WaitAsyncIdle();

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Credentials creds_;      // guarded by mu_
  Configuration config_;   // guarded by mu_
  bool closed_ = false;    // guarded by mu_
  bool woken_ = false;     // guarded by mu_
  int pending_async_ = 0;  // guarded by mu_
  std::mutex reopen_mu_;   // serialises Open/Reopen
};

}  // namespace adaspring::client::internal

#endif  // ADASPRING_CLIENT_SRC_SESSION_CORE_H_
