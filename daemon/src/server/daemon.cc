// Daemon lifecycle, context plumbing and background work. The RPC-facing methods live in
// daemon_sessions.cc (Inference) and daemon_admin.cc (Admin).
#include "server/daemon.h"

#include <malloc.h>

#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "context/context_monitor.h"
#include "service/proto_convert.h"

namespace adaspring::daemon {
namespace {

SchedulerOptions SchedulerOptionsOf(const DaemonConfig& c) {
  SchedulerOptions o;
  o.latency_mode = c.scheduler.mode == "latency";
  o.workers = static_cast<int>(c.scheduler.workers);
  o.max_queue = c.limits.max_queue;
  o.max_inflight_per_session = c.limits.max_inflight_per_session;
  o.batch_max = std::max(1u, c.scheduler.batch_max);
  o.batch_max_delay_us = c.scheduler.batch_max_delay_us;
  o.run_inline_when_idle = c.scheduler.inline_when_idle;
  return o;
}

BackendOptions BackendOptionsOf(const DaemonConfig& c) {
  BackendOptions o;
  o.threads = c.scheduler.mode == "latency"
                  ? static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))
                  : 1;
  o.state_dir = c.state_dir;
  o.cache_bytes = c.models.cache_bytes;
  o.warm_up = c.models.warm_up;
  o.winograd = c.models.winograd;
  return o;
}

}  // namespace

Daemon::Daemon(DaemonConfig config, std::unique_ptr<EngineFacade> engine)
    : config_(std::move(config)),
      engine_(engine ? std::move(engine) : NewDefaultEngine()),
      start_time_(std::chrono::system_clock::now()),
      start_steady_(std::chrono::steady_clock::now()),
      registry_(engine_.get(), BackendOptionsOf(config_)) {
  sessions_.set_limits({config_.limits.max_sessions, config_.limits.max_sessions_per_app});
  idle_timeout_s_.store(config_.limits.session_idle_timeout_s);
  scheduler_ = std::make_unique<Scheduler>(engine_.get(), SchedulerOptionsOf(config_));
  policy_ = std::make_unique<AdaptationLoop>(
      &sessions_, engine_.get(), &events_, config_.policy,
      std::chrono::milliseconds(std::max(10u, config_.context.period_ms)));
  policy_->set_busy_source([s = scheduler_.get()] { return s->busy_core_us(); });
}

Daemon::~Daemon() { Shutdown(); }

absl::Status Daemon::Start() {
  if (started_.exchange(true)) return absl::OkStatus();
  bg_thread_ = std::thread([this] { Background(); });
  std::vector<absl::Status> errors;
  if (!config_.models.directory.empty()) errors = registry_.LoadDirectory(config_.models.directory);
  for (const std::string& p : config_.models.preload) {
    absl::StatusOr<std::shared_ptr<LoadedModel>> m = registry_.Load(p);
    if (!m.ok() && m.status().code() != absl::StatusCode::kAlreadyExists) {
      errors.push_back(m.status());
    }
  }
  {
    absl::MutexLock lock(&warnings_mu_);
    for (const absl::Status& e : errors) {
      warnings_.push_back(absl::StrCat("model skipped: ", e.message()));
    }
  }
  if (!config_.state_dir.empty()) {
    state_ = std::make_unique<StateStore>(config_.state_dir);
    if (absl::Status s = state_->Init(); !s.ok()) {
      Warn(absl::StrCat("state directory unusable (loaded models will not survive a restart): ",
                        s.message()));
      state_ = nullptr;
    }
  }
  RestoreModels();
  for (const auto& m : registry_.All()) ProfileInBackground(m);
  ApplyCpuLatency(config_.scheduler.cpu_wakeup_latency_us);
  scheduler_->Start();
  policy_->Start();
  return absl::OkStatus();
}

void Daemon::Shutdown() {
  if (draining_.exchange(true)) return;
  {
    absl::MutexLock lock(&context_mu_);
    if (monitor_ && monitor_subscription_ >= 0) monitor_->Unsubscribe(monitor_subscription_);
    monitor_ = nullptr;
  }
  policy_->Stop();
  // Finishes every queued request (their RPCs complete), then joins the workers.
  scheduler_->Stop();
  for (const auto& s : sessions_.All()) s->Close();  // ends WatchSession streams
  events_.Shutdown();                                // ends WatchEvents streams
  {
    absl::MutexLock lock(&bg_mu_);
    bg_stop_ = true;
  }
  if (bg_thread_.joinable()) bg_thread_.join();
  ApplyCpuLatency(-1);  // drained: idle states are the kernel's choice again
}

void Daemon::ApplyCpuLatency(int64_t latency_us) {
  std::string problem;
  {
    absl::MutexLock lock(&cpu_latency_mu_);
    cpu_latency_problem_.clear();
    if (latency_us < 0) {
      cpu_latency_ = nullptr;  // closing the device withdraws the request
      return;
    }
    if (cpu_latency_ != nullptr && cpu_latency_->latency_us() == latency_us) return;
    absl::Status s = absl::OkStatus();
    if (cpu_latency_ != nullptr) {
      s = cpu_latency_->Update(latency_us);
    } else {
      absl::StatusOr<std::unique_ptr<CpuLatencyRequest>> r =
          CpuLatencyRequest::Open(config_.scheduler.cpu_latency_device, latency_us);
      if (r.ok()) cpu_latency_ = std::move(*r);
      s = r.status();
    }
    if (s.ok()) return;
    cpu_latency_ = nullptr;
    cpu_latency_problem_ = problem = std::string(s.message());
  }
  Warn(absl::StrCat("scheduler.cpu_wakeup_latency_us = ", latency_us,
                    " is not applied (idle states stay the kernel's choice): ", problem));
}

std::string Daemon::CpuLatencyState() const {
  absl::MutexLock lock(&cpu_latency_mu_);
  if (cpu_latency_ == nullptr) {
    return cpu_latency_problem_.empty() ? "no request (the kernel's idle states)"
                                        : absl::StrCat("not held: ", cpu_latency_problem_);
  }
  std::string text =
      absl::StrCat(cpu_latency_->latency_us(), " us requested on ", cpu_latency_->device());
  if (absl::StatusOr<int64_t> e = cpu_latency_->EffectiveUs(); e.ok()) {
    absl::StrAppend(&text, " (system-wide target ", *e, " us)");
  }
  return text;
}

int64_t Daemon::CpuLatencyHeldUs() const {
  absl::MutexLock lock(&cpu_latency_mu_);
  return cpu_latency_ == nullptr ? -1 : cpu_latency_->latency_us();
}

void Daemon::AttachContext(context::ContextMonitor* monitor) {
  absl::MutexLock lock(&context_mu_);
  monitor_ = monitor;
  monitor_subscription_ =
      monitor->Subscribe([this](const context::ContextSnapshot& s) { policy_->OnContext(s); });
}

void Daemon::InjectContext(const context::ContextSnapshot& sensed) {
  absl::MutexLock lock(&context_mu_);
  sensed_ = sensed;
  PublishContextLocked();
}

void Daemon::PublishContextLocked() {
  context::ContextSnapshot s = sensed_;
  s.sequence = ++injected_sequence_;
  s.time = std::chrono::system_clock::now();
  s.steady_time = std::chrono::steady_clock::now();
  context::ApplyOverride(override_, &s);
  policy_->OnContext(s);
}

context::ContextSnapshot Daemon::SensedContext() const {
  context::ContextSnapshot s;
  bool have = true;
  {
    absl::MutexLock lock(&context_mu_);
    if (monitor_) {
      s = monitor_->Sensed();
      have = s.sequence != 0;
    } else {
      s = sensed_;  // injected (tests, the simulated engine)
    }
  }
  // Before the monitor's first sample: what the policy last saw.
  if (!have) s = policy_->latest();
  s.overridden = false;
  return s;
}

absl::StatusOr<v1::ContextSnapshot> Daemon::SetContextOverride(
    const v1::SetContextOverrideRequest& request) {
  const context::ContextOverride o = FromProto(request);
  if (absl::Status s = context::ValidateOverride(o); !s.ok()) return s;
  policy_->set_cpu_overridden(o.cpu_busy_fraction.has_value());
  {
    absl::MutexLock lock(&context_mu_);
    override_ = o;
    if (monitor_) {
      if (absl::Status s = monitor_->SetOverride(o); !s.ok()) return s;
    } else {
      PublishContextLocked();
    }
  }
  v1::DaemonEvent e;
  e.set_kind(v1::DaemonEvent::KIND_OVERRIDE);
  e.set_message(absl::StrCat("context override set: ", request.ShortDebugString()));
  events_.Publish(std::move(e));
  // The context as it is now: the last sensed sample with this override (which replaces the
  // previous one) applied, whether or not the loop has taken it yet.
  context::ContextSnapshot now = SensedContext();
  context::ApplyOverride(o, &now);
  return ToProto(now);
}

v1::ContextSnapshot Daemon::ClearContextOverride() {
  policy_->set_cpu_overridden(false);
  {
    absl::MutexLock lock(&context_mu_);
    override_ = context::ContextOverride{};
    if (monitor_) {
      monitor_->ClearOverride();
    } else {
      PublishContextLocked();
    }
  }
  v1::DaemonEvent e;
  e.set_kind(v1::DaemonEvent::KIND_OVERRIDE);
  e.set_message("context override cleared");
  events_.Publish(std::move(e));
  return ToProto(SensedContext());
}

void Daemon::Reload(const DaemonConfig& config) {
  // Listener addresses, the engine and worker counts need a restart; the rest applies now.
  sessions_.set_limits({config.limits.max_sessions, config.limits.max_sessions_per_app});
  policy_->set_policy(config.policy);
  config_.policy = config.policy;
  config_.limits.max_sessions = config.limits.max_sessions;
  config_.limits.max_sessions_per_app = config.limits.max_sessions_per_app;
  config_.limits.max_batch = config.limits.max_batch;
  idle_timeout_s_.store(config.limits.session_idle_timeout_s);
  config_.logging = config.logging;
  config_.scheduler.cpu_wakeup_latency_us = config.scheduler.cpu_wakeup_latency_us;
  ApplyCpuLatency(config.scheduler.cpu_wakeup_latency_us);
  // New bundles in the models directory are loaded (files already served are not read again;
  // nothing is unloaded: that stays an explicit admin action).
  if (!config.models.directory.empty()) {
    std::set<std::string> before;
    for (const auto& m : registry_.All()) before.insert(m->name);
    for (const absl::Status& e : registry_.LoadDirectory(config.models.directory)) {
      if (!absl::IsAlreadyExists(e)) Warn(absl::StrCat("model skipped on reload: ", e.message()));
    }
    for (const auto& m : registry_.All()) {
      if (before.count(m->name)) continue;
      ProfileInBackground(m);
      v1::DaemonEvent e;
      e.set_kind(v1::DaemonEvent::KIND_MODEL_LOADED);
      e.set_model(m->name);
      e.set_message(absl::StrCat("model ", m->name, " loaded from ", m->path, " on reload"));
      events_.Publish(std::move(e));
    }
    config_.models.directory = config.models.directory;
  }
  policy_->Kick("config reloaded");
}

void Daemon::ProfileInBackground(std::shared_ptr<LoadedModel> model) {
  if (!profile_on_load_) return;
  absl::MutexLock lock(&bg_mu_);
  bg_queue_.push_back([this, model] {
    const bool was_profiled = model->backend->profiled();
    absl::Status s = model->backend->Profile(false);
    if (!s.ok()) {
      v1::DaemonEvent e;
      e.set_kind(v1::DaemonEvent::KIND_WARNING);
      e.set_model(model->name);
      e.set_message(absl::StrCat("profiling ", model->name, " failed: ", s.ToString()));
      events_.Publish(std::move(e));
      return;
    }
    model->backend->RefreshFrontier();
    if (!was_profiled) RewarmAfterProfiling();
    policy_->Kick(absl::StrCat("model ", model->name, " profiled"));
  });
}

void Daemon::RewarmAfterProfiling() {
  if (!config_.models.warm_up) return;  // never changed by a reload: models warm at load
  engine_->DropKernelCache();
  for (const auto& m : registry_.All()) m->backend->WarmUp();
  malloc_trim(0);
}

void Daemon::Background() {
  absl::MutexLock lock(&bg_mu_);
  for (;;) {
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(bg_mu_) {
      return bg_stop_ || !bg_queue_.empty();
    };
    bg_mu_.Await(absl::Condition(&ready));
    if (bg_stop_) break;
    std::function<void()> job = std::move(bg_queue_.front());
    bg_queue_.pop_front();
    bg_mu_.Unlock();
    job();
    bg_mu_.Lock();
  }
}

std::vector<std::string> Daemon::TakeWarnings() {
  absl::MutexLock lock(&warnings_mu_);
  std::vector<std::string> w;
  w.swap(warnings_);
  return w;
}

std::string Daemon::Summary() const {
  const Budgets b = policy_->budgets();
  const AdaptationStats st = policy_->stats();
  uint64_t requests = 0;
  for (const auto& s : sessions_.All()) requests += s->stats.requests.load();
  auto count = [](uint64_t n, const char* noun) {
    return absl::StrCat(n, " ", noun, n == 1 ? "" : "s");
  };
  return absl::StrFormat(
      "%s; %s, %s, %s, %s; memory budget %s, cpu %.2f cores",
      draining_.load() ? "draining" : "serving", count(registry_.size(), "model"),
      count(sessions_.size(), "session"), count(requests, "request"),
      count(st.evolutions, "evolution"),
      b.memory_known() ? absl::StrFormat("%.0f MB", b.memory_bytes / 1048576.0) : "unknown",
      b.cpu_capacity);
}

}  // namespace adaspring::daemon
