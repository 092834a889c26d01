// The daemon core shared by every listener: models, sessions, scheduler, adaptation loop and
// events. The gRPC services only translate messages and call into it; the app and admin
// servers hold the same Daemon.
//
// Lifecycle: construct, Start() (loads the models directory and preloads, starts workers and
// the adaptation loop), serve, Shutdown() (drain: refuse new work, finish queued requests,
// end watch streams). Context arrives through AttachContext (a ContextMonitor) or
// InjectContext (tests, replay without a monitor).
//
// Thread safety: every public method is thread-safe.
#ifndef ADASPRING_DAEMON_SERVER_DAEMON_H_
#define ADASPRING_DAEMON_SERVER_DAEMON_H_

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "adaspring/v1/admin.pb.h"
#include "adaspring/v1/inference.pb.h"
#include "config/daemon_config.h"
#include "context/snapshot.h"
#include "models/model_registry.h"
#include "policy/adaptation_loop.h"
#include "scheduler/cpu_latency_request.h"
#include "scheduler/scheduler.h"
#include "server/event_bus.h"
#include "session/session_table.h"
#include "state/state_store.h"

namespace adaspring::context {
class ContextMonitor;
}

namespace adaspring::daemon {

class Daemon {
 public:
  // `engine` = nullptr: NewDefaultEngine().
  explicit Daemon(DaemonConfig config, std::unique_ptr<EngineFacade> engine = nullptr);
  ~Daemon();  // Shutdown()s

  // Loads models (a damaged bundle is logged to `warnings` and skipped), starts the workers
  // and the adaptation loop. Fails only when nothing can run (e.g. the scheduler cannot start).
  absl::Status Start();
  // Graceful drain; idempotent. In-flight and queued requests complete.
  void Shutdown();
  bool draining() const { return draining_.load(); }

  // Context input.
  void AttachContext(context::ContextMonitor* monitor);
  void InjectContext(const context::ContextSnapshot& sensed);

  // Config reload (SIGHUP): limits, policy and batching take effect for new work.
  void Reload(const DaemonConfig& config);
  const DaemonConfig& config() const { return config_; }

  // --- Inference service ---
  absl::StatusOr<v1::OpenSessionResponse> OpenSession(const v1::OpenSessionRequest& request);
  absl::StatusOr<std::shared_ptr<Session>> Authenticate(const std::string& id,
                                                        const std::string& token) const;
  // Checks the session, token and input and queues the request. On OK the sink is called once
  // with the outcome; otherwise the returned status is the outcome and the sink is not called.
  absl::Status StartInfer(const v1::InferRequest* request, v1::InferResponse* response,
                          std::chrono::system_clock::time_point deadline, JobSink* sink, void* tag);
  // Same, for a session already authenticated (streams). With may_run_inline the request may
  // be computed on this thread and the sink called before this returns (see
  // Scheduler::Submit); StartInfer allows it, streams (which hold their lock here) do not.
  absl::Status StartInferOn(std::shared_ptr<Session> session, const v1::InferRequest* request,
                            v1::InferResponse* response,
                            std::chrono::system_clock::time_point deadline, JobSink* sink,
                            void* tag, bool may_run_inline = false);
  absl::StatusOr<v1::UpdateSloResponse> UpdateSlo(const v1::UpdateSloRequest& request);
  absl::Status CloseSession(const v1::CloseSessionRequest& request);

  // --- Admin service ---
  v1::GetStatusResponse GetStatus() const;
  v1::ListModelsResponse ListModels() const;
  absl::StatusOr<v1::LoadModelResponse> LoadModel(const std::string& path);
  absl::Status UnloadModel(const std::string& name, bool force);
  v1::ListSessionsResponse ListSessions() const;
  v1::GetContextResponse GetContext() const;
  // Closes the sessions without a call or an open stream for limits.session_idle_timeout_s
  // (their clients are presumably gone); returns how many. Called periodically by main.
  int CloseIdleSessions();
  absl::StatusOr<v1::ContextSnapshot> SetContextOverride(
      const v1::SetContextOverrideRequest& request);
  v1::ContextSnapshot ClearContextOverride();
  // Runs on the background thread; `done` is called there.
  void ProfileModel(const v1::ProfileModelRequest& request,
                    std::function<void(absl::StatusOr<v1::ProfileModelResponse>)> done);

  // One-line summary (STATUS= and GetStatus.summary).
  std::string Summary() const;
  std::vector<std::string> TakeWarnings();  // start-up problems to log (damaged bundles)
  // The PM QoS wake-up latency request: what is held ("0 us requested on /dev/cpu_dma_latency
  // (system-wide target 0 us)"), or why a configured one is not; -1 when none is held.
  std::string CpuLatencyState() const;
  int64_t CpuLatencyHeldUs() const;

  EventBus& events() { return events_; }
  ModelRegistry& models() { return registry_; }
  SessionTable& sessions() { return sessions_; }
  AdaptationLoop& policy() { return *policy_; }
  Scheduler& scheduler() { return *scheduler_; }
  EngineFacade& engine() { return *engine_; }

  // Whether loading a model also profiles it in the background (default true). Set before
  // Start(); tests turn it off to stay fast.
  void set_profile_on_load(bool on) { profile_on_load_ = on; }

  // Serves an in-memory model (tests and demos).
  absl::StatusOr<std::shared_ptr<LoadedModel>> AddModel(std::shared_ptr<const engine::Model> m);

 private:
  absl::Status ValidateSlo(const v1::Slo& slo) const;
  // OUT_OF_RANGE when slo.min_accuracy is above the model's most accurate configuration.
  absl::Status CheckReachable(const LoadedModel& model, const v1::Slo& slo) const;
  void ProfileInBackground(std::shared_ptr<LoadedModel> model);
  // After a profile that measured layers (a first start on this device, or a forced one),
  // oneDNN's cache holds the kernels of every layer of the model's space: drop them and warm
  // each loaded model's frontier again (models.warm_up), so a long-running daemon does not
  // keep the profile's kernels. Background thread only.
  void RewarmAfterProfiling();
  void Background();
  void PublishContextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(context_mu_);
  // The latest context as sensed, without any override.
  context::ContextSnapshot SensedContext() const;
  v1::ModelInfo ModelInfoOf(const LoadedModel& m) const;
  void CloseSessionObject(const std::shared_ptr<Session>& s, const std::string& why);
  // The admin-loaded model list in the state directory (daemon_state.cc): restored by Start()
  // after the models directory and preloads, rewritten atomically on every load/unload.
  void RestoreModels();
  void PersistModels();
  void Warn(const std::string& message);
  // Holds, changes or withdraws the PM QoS wake-up latency request (scheduler.
  // cpu_wakeup_latency_us); a device that cannot be used is a warning, never fatal.
  void ApplyCpuLatency(int64_t latency_us);

  DaemonConfig config_;
  std::unique_ptr<EngineFacade> engine_;
  const std::chrono::system_clock::time_point start_time_;
  const std::chrono::steady_clock::time_point start_steady_;
  EventBus events_;
  ModelRegistry registry_;
  SessionTable sessions_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<AdaptationLoop> policy_;
  std::atomic<bool> started_{false}, draining_{false};
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint32_t> idle_timeout_s_{0};
  bool profile_on_load_ = true;

  mutable absl::Mutex context_mu_;
  context::ContextMonitor* monitor_ ABSL_GUARDED_BY(context_mu_) = nullptr;
  int monitor_subscription_ ABSL_GUARDED_BY(context_mu_) = -1;
  context::ContextSnapshot sensed_ ABSL_GUARDED_BY(context_mu_);
  context::ContextOverride override_ ABSL_GUARDED_BY(context_mu_);
  uint64_t injected_sequence_ ABSL_GUARDED_BY(context_mu_) = 0;

  absl::Mutex bg_mu_;
  std::deque<std::function<void()>> bg_queue_ ABSL_GUARDED_BY(bg_mu_);
  bool bg_stop_ ABSL_GUARDED_BY(bg_mu_) = false;
  std::thread bg_thread_;

  std::unique_ptr<StateStore> state_;  // null without a state directory
  absl::Mutex admin_models_mu_;
  // name -> path of the models loaded through the admin API (what a restart must bring back).
  std::map<std::string, std::string> admin_models_ ABSL_GUARDED_BY(admin_models_mu_);

  mutable absl::Mutex cpu_latency_mu_;
  std::unique_ptr<CpuLatencyRequest> cpu_latency_ ABSL_GUARDED_BY(cpu_latency_mu_);
  // Why no request is held although one is configured ("" when held or not configured).
  std::string cpu_latency_problem_ ABSL_GUARDED_BY(cpu_latency_mu_);

  absl::Mutex warnings_mu_;
  std::vector<std::string> warnings_ ABSL_GUARDED_BY(warnings_mu_);
};

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SERVER_DAEMON_H_
