// The adaptation loop (DESIGN §4.2): context snapshots and observed per-app latency -> device
// budgets -> joint search -> evolution -> atomic swap -> SessionEvent + DaemonEvent.
//
// Runs on its own thread (the "evolution thread"): evolution takes milliseconds and never
// runs on the request path; requests keep running on the old variant until the swap.
// It wakes on every context snapshot (OnContext), on Kick (session opened, SLO updated) and
// every `period` to check observed latency: an app whose window p95 exceeds its budget x
// latency_p95_slack is re-planned with a tighter latency target even if no sensor moved (and
// the cost model's online correction is fed the measured compute time).
// Hysteresis comes from the joint search (min_accuracy_gain, min_cost_saving); the cool-down
// (cooldown_ms) stops a session from switching up again too soon after a switch. Switches
// down because a budget shrank are never delayed.
//
// reaction_ms: from the steady time of the context sample (or of the kick / latency check)
// that caused the plan to the moment all affected sessions were swapped.
//
// Thread safety: OnContext, Kick, Latest and budgets() are thread-safe.
#ifndef ADASPRING_DAEMON_POLICY_ADAPTATION_LOOP_H_
#define ADASPRING_DAEMON_POLICY_ADAPTATION_LOOP_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "config/daemon_config.h"
#include "context/snapshot.h"
#include "models/engine_facade.h"
#include "policy/budgets.h"
#include "server/event_bus.h"
#include "session/session_table.h"

namespace adaspring::daemon {

struct AdaptationStats {
  uint64_t plans = 0, evolutions = 0, failed_evolutions = 0;
  double last_reaction_ms = 0;
};

// The request rate the joint search charges a session with: its declared expected_rate_hz
// (for the first 10 s of the session; afterwards at most twice its measured rate), else the
// measured rate capped at one request per latency budget (closed-loop clients).
double DemandRate(const v1::Slo& slo, double measured_hz, double seconds_open = 0);

class AdaptationLoop {
 public:
  AdaptationLoop(SessionTable* sessions, EngineFacade* engine, EventBus* events,
                 PolicyConfig policy, std::chrono::milliseconds period);
  ~AdaptationLoop();  // Stop()s

  void Start();
  void Stop();
  void set_policy(const PolicyConfig& policy);

  // A new context sample (any thread).
  void OnContext(const context::ContextSnapshot& snapshot);
  // Re-plan soon for `reason` (e.g. "slo updated").
  void Kick(const std::string& reason);
  // The daemon's own compute, core-microseconds so far (monotonic); used to tell outside CPU
  // load from ours. Set before Start().
  void set_busy_source(std::function<uint64_t()> fn) { busy_source_ = std::move(fn); }
  // Whether cpu_busy_fraction is an admin override (outside load only).
  void set_cpu_overridden(bool overridden);

  context::ContextSnapshot latest() const;
  Budgets budgets() const;
  AdaptationStats stats() const;
  // Evolution times (ms) since the last call, for the metrics exporter (bounded: the oldest
  // are dropped beyond 1024).
  std::vector<double> TakeEvolutionTimes();
  // Called after every plan (tests wait on it; metrics observe reaction time).
  void set_on_plan(std::function<void(uint64_t plan)> fn);

  // The configuration a new session should start with under the current budgets (its share
  // is what is left after the others). Used by OpenSession; thread-safe.
  engine::SearchResult InitialConfig(ModelBackend* backend, const v1::Slo& slo) const;

  // Constraints of one app from its SLO and the budgets.
  static engine::AppConstraints Constraints(const v1::Slo& slo, const Budgets& budgets);

 private:
  void Loop();
  void Plan(const std::string& trigger, std::chrono::steady_clock::time_point trigger_time);

  SessionTable* const sessions_;
  EngineFacade* const engine_;
  EventBus* const events_;
  const std::chrono::milliseconds period_;

  mutable absl::Mutex mu_;
  PolicyConfig policy_ ABSL_GUARDED_BY(mu_);
  context::ContextSnapshot latest_ ABSL_GUARDED_BY(mu_);
  bool have_context_ ABSL_GUARDED_BY(mu_) = false;
  bool context_pending_ ABSL_GUARDED_BY(mu_) = false;
  std::string kick_reason_ ABSL_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point kick_time_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool cpu_overridden_ ABSL_GUARDED_BY(mu_) = false;
  Budgets budgets_ ABSL_GUARDED_BY(mu_);
  AdaptationStats stats_ ABSL_GUARDED_BY(mu_);
  std::function<void(uint64_t)> on_plan_ ABSL_GUARDED_BY(mu_);
  std::vector<double> evolution_ms_ ABSL_GUARDED_BY(mu_);

  // Loop thread only.
  std::chrono::steady_clock::time_point last_tick_;
  double own_cpu_cores_ = 0;
  std::function<uint64_t()> busy_source_;
  uint64_t last_busy_us_ = 0;
  std::optional<Budgets> planned_budgets_;
  std::thread thread_;
};

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_POLICY_ADAPTATION_LOOP_H_
