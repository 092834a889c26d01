// One app's session on one model: identity and token, SLO, the live variant, statistics and
// watchers.
//
// Thread safety: the live variant is an atomic shared_ptr (the request path loads it without
// a lock; the policy thread stores a new one, and requests already running keep the old one
// alive). Statistics are relaxed atomics. SLO, pin and watchers are guarded by mu_. `queue` is
// guarded by the scheduler's mutex.
#ifndef ADASPRING_DAEMON_SESSION_SESSION_H_
#define ADASPRING_DAEMON_SESSION_SESSION_H_

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "adaspring/v1/inference.pb.h"
#include "models/loaded_model.h"
#include "scheduler/job.h"
#include "session/latency_histogram.h"
#include "session/token.h"

namespace adaspring::daemon {

// What a session runs right now.
struct ActiveVariant {
  std::shared_ptr<const ServedVariant> variant;
  engine::ConfigCost cost;
  v1::Configuration proto;  // ready to copy into events and responses
};

// Receives configuration changes of a session (WatchSession streams). Called from the policy
// thread or the closing thread; must not block.
class SessionWatcher {
 public:
  virtual ~SessionWatcher() = default;
  virtual void OnSessionEvent(const v1::SessionEvent& event) = 0;
  virtual void OnSessionClosed() = 0;
};

struct SessionStats {
  std::atomic<uint64_t> requests{0};  // completed OK
  std::atomic<uint64_t> errors{0};    // every failed request, whatever its code
  // Failed requests per canonical code (absl and gRPC share the numbering 0..16).
  static constexpr int kCodes = 17;
  std::array<std::atomic<uint64_t>, kCodes> errors_by_code{};
  void CountError(absl::StatusCode code) {
    errors.fetch_add(1, std::memory_order_relaxed);
    const int c = static_cast<int>(code);
    errors_by_code[c >= 0 && c < kCodes ? c : static_cast<int>(absl::StatusCode::kUnknown)]
        .fetch_add(1, std::memory_order_relaxed);
  }
  std::atomic<uint64_t> slo_violations{0};
  std::atomic<uint64_t> switches{0};
  LatencyHistogram latency;  // queue + compute, us
  // End-to-end latencies the app's client reported (InferRequest.reported_latency_us), us.
  LatencyHistogram reported_latency;
};

class Session {
 public:
  Session(std::string id, Token token, std::string app, std::shared_ptr<LoadedModel> model,
          std::shared_ptr<AppFlow> flow, v1::Slo slo, std::optional<engine::Config> pinned);

  const std::string& id() const { return id_; }
  const Token& token() const { return token_; }
  const std::string& app() const { return app_; }
  const std::shared_ptr<LoadedModel>& model() const { return model_; }
  AppFlow* flow() const { return flow_.get(); }
  std::chrono::system_clock::time_point opened() const { return opened_; }

  std::shared_ptr<const ActiveVariant> current() const {
    return current_.load(std::memory_order_acquire);
  }
  // Swaps in a new variant; returns the previous one.
  std::shared_ptr<const ActiveVariant> Swap(std::shared_ptr<const ActiveVariant> next);

  v1::Slo slo() const;
  void set_slo(const v1::Slo& slo);
  std::optional<engine::Config> pinned() const;

  void AddWatcher(SessionWatcher* w);
  void RemoveWatcher(SessionWatcher* w);
  void Publish(const v1::SessionEvent& event);
  // Marks closed and tells every watcher; later AddWatcher calls return false.
  void Close();
  bool closed() const { return closed_.load(std::memory_order_acquire); }
  bool AddWatcherIfOpen(SessionWatcher* w);

  SessionStats stats;
  std::atomic<uint32_t> inflight{0};
  // Activity, for closing sessions whose client went away: the steady time of the last call
  // that named this session, and the streams (watch, inference) open on it.
  void Touch() {
    last_active_ns.store(SteadyClock::now().time_since_epoch().count(), std::memory_order_relaxed);
  }
  std::atomic<int64_t> last_active_ns{SteadyClock::now().time_since_epoch().count()};
  std::atomic<int> open_streams{0};
  // Copy of slo().latency_budget_us for the request path (no lock).
  std::atomic<uint32_t> latency_budget_us{0};
  std::atomic<uint32_t> priority{10};
  uint32_t slo_priority_cache() const { return priority.load(std::memory_order_relaxed); }
  // Compute time per image, summed, for the cost model's online correction.
  std::atomic<uint64_t> compute_us_total{0}, compute_images{0};
  // Rate estimate (requests/s), written by the policy thread.
  std::atomic<double> rate_hz{0};
  SessionQueue queue;  // scheduler mutex
  // Policy bookkeeping (policy thread only).
  LatencyHistogram::Counts policy_last_counts{};
  LatencyHistogram::Counts policy_last_reported{};
  uint64_t policy_last_requests = 0;
  // What the app's latency adds to the daemon's queue + compute (transport, client threads),
  // us, from its reports; and the fraction of the budget the plan aims at (lowered when the
  // latency exceeds the budget, raised slowly while it stays well inside).
  std::atomic<double> policy_overhead_us{0};  // written by the policy thread only
  double policy_headroom = 1.0;
  SteadyClock::time_point policy_window_start = SteadyClock::now();
  SteadyClock::time_point last_switch{};

 private:
  const std::string id_;
  const Token token_;
  const std::string app_;
  const std::shared_ptr<LoadedModel> model_;
  const std::shared_ptr<AppFlow> flow_;
  const std::chrono::system_clock::time_point opened_;
  std::atomic<std::shared_ptr<const ActiveVariant>> current_;
  std::atomic<bool> closed_{false};

  mutable absl::Mutex mu_;
  v1::Slo slo_ ABSL_GUARDED_BY(mu_);
  std::optional<engine::Config> pinned_ ABSL_GUARDED_BY(mu_);
  std::vector<SessionWatcher*> watchers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SESSION_SESSION_H_
