// Daemon: the Admin service's operations.
#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "context/parse.h"
#include "server/build_info_shim.h"
#include "server/daemon.h"
#include "service/proto_convert.h"

namespace adaspring::daemon {

v1::ModelInfo Daemon::ModelInfoOf(const LoadedModel& m) const {
  v1::ModelInfo info;
  info.set_name(m.name);
  info.set_version(m.version);
  info.set_path(context::ValidUtf8(m.path));  // file names need not be UTF-8
  info.set_task(m.task);
  for (int64_t d : m.input_shape) info.add_input_shape(d);
  info.set_num_classes(m.num_classes);
  const engine::ConfigSpace& space = m.model->space();
  info.set_configurations(space.CanonicalCount());
  info.set_frontier_size(static_cast<uint32_t>(m.backend->frontier_size()));
  const engine::Config full = space.Full();
  const engine::Config smallest = space.Smallest();
  *info.mutable_full() = ToConfiguration(space, full, m.backend->Predict(full));
  *info.mutable_smallest() = ToConfiguration(space, smallest, m.backend->Predict(smallest));
  info.set_sessions(m.sessions.load());
  info.set_profiled(m.backend->profiled());
  int64_t weight_bytes = 0;
  for (const auto& [name, entry] : m.model->tensors().entries()) weight_bytes += entry.numel * 4;
  info.set_weight_bytes(weight_bytes);
  info.set_cache_bytes(m.backend->cache_bytes());
  info.set_accuracy_predictor(m.predictor_kind);
  info.set_predictor_kendall_tau(m.predictor_tau);
  info.set_predictor_mae_pt(m.predictor_mae_pt);
  info.set_predictor_fitted_configs(static_cast<uint32_t>(std::max(0, m.predictor_fitted)));
  return info;
}

v1::GetStatusResponse Daemon::GetStatus() const {
  v1::GetStatusResponse r;
  r.set_version(DaemonVersionString());
  *r.mutable_start_time() = ToTimestamp(start_time_);
  r.set_uptime_s(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_steady_).count());
  r.set_models(static_cast<uint32_t>(registry_.size()));
  uint64_t requests = 0, errors = 0;
  const auto all = sessions_.All();
  for (const auto& s : all) {
    requests += s->stats.requests.load();
    errors += s->stats.errors.load();
  }
  r.set_sessions(static_cast<uint32_t>(all.size()));
  r.set_requests_total(requests);
  r.set_errors_total(errors + refused_.load());
  r.set_evolutions_total(policy_->stats().evolutions);
  *r.mutable_context() = ToProto(policy_->latest());
  r.set_summary(Summary());
  r.set_mode(config_.mode);
  // Paths from the command line need not be UTF-8.
  r.set_app_socket(context::ValidUtf8(config_.sockets.app_socket));
  r.set_admin_socket(context::ValidUtf8(config_.sockets.admin_socket));
  r.set_cpu_wakeup_latency_us(CpuLatencyHeldUs());
  r.set_cpu_wakeup_latency(context::ValidUtf8(CpuLatencyState()));
  return r;
}

v1::ListModelsResponse Daemon::ListModels() const {
  v1::ListModelsResponse r;
  for (const auto& m : registry_.All()) *r.add_models() = ModelInfoOf(*m);
  return r;
}

absl::StatusOr<std::shared_ptr<LoadedModel>> Daemon::AddModel(
    std::shared_ptr<const engine::Model> model) {
  absl::StatusOr<std::shared_ptr<LoadedModel>> m = registry_.Add(std::move(model));
  if (m.ok()) ProfileInBackground(*m);
  return m;
}

absl::StatusOr<v1::LoadModelResponse> Daemon::LoadModel(const std::string& path) {
  // The daemon's working directory means nothing to a client (and is / under systemd).
  if (!path.empty() && path[0] != '/')
    return absl::InvalidArgumentError(
        absl::StrCat("model path '", path, "' is relative: give an absolute path"));
  absl::StatusOr<std::shared_ptr<LoadedModel>> m = registry_.Load(path);
  if (!m.ok()) return m.status();
  ProfileInBackground(*m);
  {
    absl::MutexLock lock(&admin_models_mu_);
    admin_models_[(*m)->name] = (*m)->path;
  }
  PersistModels();
  v1::DaemonEvent e;
  e.set_kind(v1::DaemonEvent::KIND_MODEL_LOADED);
  e.set_model((*m)->name);
  e.set_message(absl::StrCat("model ", (*m)->name, " loaded from ", path));
  events_.Publish(std::move(e));
  v1::LoadModelResponse r;
  *r.mutable_model() = ModelInfoOf(**m);
  return r;
}

absl::Status Daemon::UnloadModel(const std::string& name, bool force) {
  if (name.empty()) return absl::InvalidArgumentError("name is empty (the model to unload)");
  std::shared_ptr<LoadedModel> m = registry_.Find(name);
  if (!m) return absl::NotFoundError(absl::StrCat("model '", name, "' is not loaded"));
  auto users = [&] {
    std::vector<std::shared_ptr<Session>> found;
    for (const auto& s : sessions_.All()) {
      if (s->model() == m) found.push_back(s);
    }
    return found;
  };
  auto busy = [&](size_t n) {
    return absl::FailedPreconditionError(
        absl::StrCat("model '", name, "' has ", n, " open sessions (set force to close them)"));
  };
  if (!force) {
    if (const size_t n = users().size(); n > 0) return busy(n);
  }
  // Mark first, then collect: an OpenSession that registers after the collection sees the mark
  // and closes its own session (OpenSession), so none outlives the model.
  if (m->unloading.exchange(true)) {
    return absl::NotFoundError(absl::StrCat("model '", name, "' is already being unloaded"));
  }
  const std::vector<std::shared_ptr<Session>> open = users();
  if (!force && !open.empty()) {
    m->unloading = false;  // a session opened meanwhile: the model stays
    return busy(open.size());
  }
  for (const auto& s : open) CloseSessionObject(s, "model unloaded");
  registry_.Remove(name);
  bool was_admin_loaded;
  {
    absl::MutexLock lock(&admin_models_mu_);
    was_admin_loaded = admin_models_.erase(name) > 0;
  }
  if (was_admin_loaded) PersistModels();
  v1::DaemonEvent e;
  e.set_kind(v1::DaemonEvent::KIND_MODEL_UNLOADED);
  e.set_model(name);
  e.set_message(absl::StrCat("model ", name, " unloaded", force ? " (forced)" : ""));
  events_.Publish(std::move(e));
  return absl::OkStatus();
}

v1::ListSessionsResponse Daemon::ListSessions() const {
  v1::ListSessionsResponse r;
  for (const auto& s : sessions_.All()) {
    v1::SessionInfo* i = r.add_sessions();
    i->set_session_id(s->id());
    i->set_app_name(s->app());
    i->set_model(s->model()->name);
    *i->mutable_slo() = s->slo();
    if (auto av = s->current()) *i->mutable_configuration() = av->proto;
    i->set_pinned(s->pinned().has_value());
    const uint64_t requests = s->stats.requests.load();
    i->set_requests(requests);
    i->set_errors(s->stats.errors.load());
    const LatencyHistogram::Counts c = s->stats.latency.Snapshot();
    i->set_latency_p50_ms(LatencyHistogram::Percentile(c, 0.50) / 1e3);
    i->set_latency_p95_ms(LatencyHistogram::Percentile(c, 0.95) / 1e3);
    i->set_latency_p99_ms(LatencyHistogram::Percentile(c, 0.99) / 1e3);
    i->set_switches(s->stats.switches.load());
    *i->mutable_opened() = ToTimestamp(s->opened());
    i->set_slo_violation_fraction(
        requests ? static_cast<double>(s->stats.slo_violations.load()) / requests : 0.0);
    i->set_rate_hz(s->rate_hz.load());
    i->set_reported_latency_p95_ms(
        LatencyHistogram::Percentile(s->stats.reported_latency.Snapshot(), 0.95) / 1e3);
    i->set_overhead_ms(s->policy_overhead_us.load(std::memory_order_relaxed) / 1e3);
  }
  return r;
}

v1::GetContextResponse Daemon::GetContext() const {
  v1::GetContextResponse r;
  *r.mutable_context() = ToProto(policy_->latest());
  const Budgets b = policy_->budgets();
  v1::DeviceBudgets* d = r.mutable_budgets();
  d->set_memory_bytes(b.memory_bytes);
  d->set_cpu_capacity(b.cpu_capacity);
  d->set_power_w(b.power_w);
  for (const auto& n : b.notes) d->add_notes(n);
  return r;
}

void Daemon::ProfileModel(const v1::ProfileModelRequest& request,
                          std::function<void(absl::StatusOr<v1::ProfileModelResponse>)> done) {
  if (request.name().empty()) {
    done(absl::InvalidArgumentError("name is empty (the model to profile)"));
    return;
  }
  std::shared_ptr<LoadedModel> m = registry_.Find(request.name());
  if (!m) {
    done(absl::NotFoundError(absl::StrCat("model '", request.name(), "' is not loaded")));
    return;
  }
  absl::MutexLock lock(&bg_mu_);
  if (bg_stop_) {
    done(absl::UnavailableError("daemon is draining"));
    return;
  }
  bg_queue_.push_back([this, m, request, done = std::move(done)] {
    const bool was_profiled = m->backend->profiled();
    const auto t0 = std::chrono::steady_clock::now();
    absl::Status s = m->backend->Profile(request.force());
    if (!s.ok()) {
      done(s);
      return;
    }
    m->backend->RefreshFrontier();
    if (!was_profiled || request.force()) RewarmAfterProfiling();
    v1::ProfileModelResponse r;
    r.set_model(m->name);
    r.set_cpu_model(CpuModelName());
    r.set_threads(static_cast<uint32_t>(scheduler_->threads_per_worker()));
    r.set_from_cache(was_profiled && !request.force());
    r.set_profiling_ms(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    for (const auto& [layer, us] : m->backend->LayerTable()) {
      v1::LayerProfile* l = r.add_layers();
      l->set_layer(layer);
      l->set_latency_us(us);
    }
    policy_->Kick(absl::StrCat("model ", m->name, " profiled"));
    done(std::move(r));
  });
}

}  // namespace adaspring::daemon
