// Daemon: the Inference service's operations (sessions and inference).
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "scheduler/input_check.h"
#include "server/daemon.h"
#include "service/proto_convert.h"

namespace adaspring::daemon {
namespace {

// Far above any real request rate (the fastest variant of the reference model serves ~20 000
// images/s on two cores): a declared rate beyond it is a client bug.
constexpr double kMaxExpectedRateHz = 100000;

absl::Status ValidateAppName(const std::string& name) {
  if (name.empty() || name.size() > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("app_name '", Clip(name), "' must be 1..64 characters of [A-Za-z0-9._-]"));
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("app_name '", Clip(name), "' must be 1..64 characters of [A-Za-z0-9._-]"));
    }
  }
  return absl::OkStatus();
}

SteadyClock::time_point ToSteady(std::chrono::system_clock::time_point deadline) {
  if (deadline == std::chrono::system_clock::time_point::max()) {
    return SteadyClock::time_point::max();
  }
  const auto left = deadline - std::chrono::system_clock::now();
  if (left > std::chrono::hours(24 * 365)) return SteadyClock::time_point::max();
  return SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(left);
}

}  // namespace

absl::Status Daemon::ValidateSlo(const v1::Slo& slo) const {
  if (slo.ByteSizeLong() == 0) {
    return absl::InvalidArgumentError(
        "slo is missing (latency_budget_us 100..60000000 is required)");
  }
  if (slo.latency_budget_us() < 100 || slo.latency_budget_us() > 60000000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "slo.latency_budget_us = ", slo.latency_budget_us(), " outside 100..60000000"));
  }
  if (!std::isfinite(slo.min_accuracy()) || slo.min_accuracy() < 0 || slo.min_accuracy() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("slo.min_accuracy = ", slo.min_accuracy(), " outside [0, 1]"));
  }
  if (slo.priority() > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat("slo.priority = ", slo.priority(), " outside 1..100 (0 = default 10)"));
  }
  if (!v1::EnergyPreference_IsValid(slo.energy_preference())) {
    return absl::InvalidArgumentError(
        absl::StrCat("slo.energy_preference = ", slo.energy_preference(), " is not a value"));
  }
  if (!std::isfinite(slo.expected_rate_hz()) || slo.expected_rate_hz() < 0 ||
      slo.expected_rate_hz() > kMaxExpectedRateHz) {
    return absl::InvalidArgumentError(
        absl::StrCat("slo.expected_rate_hz = ", slo.expected_rate_hz(), " outside 0..",
                     kMaxExpectedRateHz, " (0 = not declared)"));
  }
  return absl::OkStatus();
}

absl::Status Daemon::CheckReachable(const LoadedModel& model, const v1::Slo& slo) const {
  if (slo.min_accuracy() <= 0) return absl::OkStatus();
  double best = model.backend->Predict(model.model->space().Full()).accuracy;
  for (const engine::FrontierPoint& p : model.backend->FrontierPoints())
    best = std::max(best, p.cost.accuracy);
  if (slo.min_accuracy() <= best + 1e-9) return absl::OkStatus();
  // Accepting it would serve the most accurate configuration below the minimum, silently.
  return absl::OutOfRangeError(absl::StrFormat(
      "slo.min_accuracy = %g is above what model '%s' reaches (%.4f predicted, its most "
      "accurate configuration); lower it, or 0 for no minimum",
      slo.min_accuracy(), model.name, best));
}

absl::StatusOr<v1::OpenSessionResponse> Daemon::OpenSession(const v1::OpenSessionRequest& req) {
  if (draining_) return absl::UnavailableError("daemon is draining");
  if (absl::Status s = ValidateAppName(req.app_name()); !s.ok()) return s;
  if (req.model().empty()) return absl::InvalidArgumentError("model is empty");
  if (absl::Status s = ValidateSlo(req.slo()); !s.ok()) return s;
  std::shared_ptr<LoadedModel> model = registry_.Find(req.model());
  if (!model || model->unloading) {
    return absl::NotFoundError(absl::StrCat("model '", Clip(req.model()), "' is not loaded"));
  }
  if (req.pinned_configuration().empty()) {
    if (absl::Status r = CheckReachable(*model, req.slo()); !r.ok()) return r;
  }
  const engine::ConfigSpace& space = model->model->space();
  std::optional<engine::Config> pinned;
  engine::Config config;
  engine::ConfigCost cost;
  if (!req.pinned_configuration().empty()) {
    absl::StatusOr<engine::Config> c = space.Parse(req.pinned_configuration());
    if (!c.ok()) {
      // The engine's message quotes the (clipped) text and gives the reason.
      return absl::InvalidArgumentError(
          absl::StrCat("pinned_configuration: ", Clip(std::string(c.status().message()), 600)));
    }
    pinned = space.Canonical(*c);
    config = *pinned;
    cost = model->backend->Predict(config);
  } else {
    const engine::SearchResult r = policy_->InitialConfig(model->backend.get(), req.slo());
    config = r.config;
    cost = r.cost;
  }
  absl::StatusOr<std::shared_ptr<const ServedVariant>> variant = model->backend->Evolve(config);
  if (!variant.ok()) {
    return absl::InternalError(absl::StrCat("evolution failed: ", variant.status().message()));
  }
  absl::StatusOr<std::shared_ptr<Session>> session =
      sessions_.Open(req.app_name(), model, req.slo(), pinned);
  if (!session.ok()) return session.status();
  auto active = std::make_shared<ActiveVariant>();
  active->variant = *variant;
  active->cost = cost;
  active->proto = ToConfiguration(space, config, cost);
  (*session)->Swap(active);
  model->sessions.fetch_add(1);
  // UnloadModel marks the model before it collects the sessions to close: a session registered
  // after that collection sees the mark here and does not outlive the model.
  if (model->unloading.load()) {
    CloseSessionObject(*session, "model unloaded");
    return absl::NotFoundError(absl::StrCat("model '", Clip(req.model()),
                                            "' was unloaded while the session was being opened"));
  }

  v1::OpenSessionResponse resp;
  resp.set_session_id((*session)->id());
  resp.set_token(std::string(reinterpret_cast<const char*>((*session)->token().data()),
                             (*session)->token().size()));
  *resp.mutable_configuration() = active->proto;
  *resp.mutable_input_spec() = model->input_spec;

  v1::DaemonEvent e;
  e.set_kind(v1::DaemonEvent::KIND_SESSION_OPENED);
  e.set_session_id((*session)->id());
  e.set_app_name(req.app_name());
  e.set_model(model->name);
  *e.mutable_current() = active->proto;
  e.set_message(absl::StrCat("session ", (*session)->id(), " opened by ", req.app_name(), " on ",
                             model->name, pinned ? " (pinned)" : ""));
  events_.Publish(std::move(e));
  if (!pinned) policy_->Kick("session opened");
  return resp;
}

absl::StatusOr<std::shared_ptr<Session>> Daemon::Authenticate(const std::string& id,
                                                              const std::string& token) const {
  return sessions_.Authenticate(id, token);
}

absl::Status Daemon::StartInfer(const v1::InferRequest* request, v1::InferResponse* response,
                                std::chrono::system_clock::time_point deadline, JobSink* sink,
                                void* tag) {
  if (draining_.load(std::memory_order_relaxed)) {
    return absl::UnavailableError("daemon is draining; not accepting requests");
  }
  absl::StatusOr<std::shared_ptr<Session>> s =
      sessions_.Authenticate(request->session_id(), request->token());
  if (!s.ok()) return s.status();
  return StartInferOn(std::move(*s), request, response, deadline, sink, tag,
                      /*may_run_inline=*/true);
}

absl::Status Daemon::StartInferOn(std::shared_ptr<Session> session, const v1::InferRequest* request,
                                  v1::InferResponse* response,
                                  std::chrono::system_clock::time_point deadline, JobSink* sink,
                                  void* tag, bool may_run_inline) {
  if (draining_.load(std::memory_order_relaxed)) {
    return absl::UnavailableError("daemon is draining; not accepting requests");
  }
  if (session->closed()) {
    return absl::NotFoundError(absl::StrCat("session_id '", session->id(), "' is not open"));
  }
  if (const uint32_t reported = request->reported_latency_us(); reported > 0) {
    session->stats.reported_latency.Record(std::min<uint32_t>(reported, 60'000'000));
  }
  absl::StatusOr<int> batch =
      request->has_input()
          ? CheckInput(*session->model(), request->input(), config_.limits.max_batch)
          : absl::InvalidArgumentError("input is missing (a Tensor of the session's input_spec)");
  if (!batch.ok()) {
    session->stats.CountError(batch.status().code());
    return batch.status();
  }
  std::shared_ptr<Session> counted = session;  // Submit keeps its reference only on success
  absl::Status st = scheduler_->Submit(std::move(session), request, response, *batch,
                                       ToSteady(deadline), sink, tag, may_run_inline);
  if (!st.ok()) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    counted->stats.CountError(st.code());
  }
  return st;
}

absl::StatusOr<v1::UpdateSloResponse> Daemon::UpdateSlo(const v1::UpdateSloRequest& req) {
  absl::StatusOr<std::shared_ptr<Session>> s =
      sessions_.Authenticate(req.session_id(), req.token());
  if (!s.ok()) return s.status();
  if (absl::Status v = ValidateSlo(req.slo()); !v.ok()) return v;
  if (!(*s)->pinned()) {
    if (absl::Status r = CheckReachable(*(*s)->model(), req.slo()); !r.ok()) return r;
  }
  (*s)->set_slo(req.slo());
  policy_->Kick("slo updated");
  v1::UpdateSloResponse resp;
  if (auto av = (*s)->current()) *resp.mutable_configuration() = av->proto;
  return resp;
}

absl::Status Daemon::CloseSession(const v1::CloseSessionRequest& req) {
  absl::StatusOr<std::shared_ptr<Session>> s =
      sessions_.Authenticate(req.session_id(), req.token());
  if (!s.ok()) return s.status();
  CloseSessionObject(*s, "closed by the app");
  return absl::OkStatus();
}

int Daemon::CloseIdleSessions() {
  const uint32_t timeout_s = idle_timeout_s_.load();
  if (timeout_s == 0) return 0;
  const int64_t now = SteadyClock::now().time_since_epoch().count();
  const int64_t limit = static_cast<int64_t>(timeout_s) * 1'000'000'000;
  int closed = 0;
  for (const auto& s : sessions_.All()) {
    if (s->open_streams.load() > 0 || s->inflight.load() > 0) continue;
    if (now - s->last_active_ns.load() < limit) continue;
    CloseSessionObject(s, absl::StrCat("no call and no open stream for ", timeout_s,
                                       " s (limits.session_idle_timeout_s)"));
    ++closed;
  }
  return closed;
}

void Daemon::CloseSessionObject(const std::shared_ptr<Session>& s, const std::string& why) {
  if (!sessions_.Remove(s->id())) return;
  s->Close();
  s->model()->sessions.fetch_sub(1);
  v1::DaemonEvent e;
  e.set_kind(v1::DaemonEvent::KIND_SESSION_CLOSED);
  e.set_session_id(s->id());
  e.set_app_name(s->app());
  e.set_model(s->model()->name);
  e.set_message(absl::StrCat("session ", s->id(), " of ", s->app(), " closed: ", why));
  events_.Publish(std::move(e));
}

}  // namespace adaspring::daemon
