#include "policy/adaptation_loop.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "service/proto_convert.h"

namespace adaspring::daemon {
namespace {

using std::chrono::steady_clock;

double Ms(steady_clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

constexpr uint64_t kMinWindowSamples = 8;
// Headroom control (fraction of an app's budget its configuration is planned for): a p95
// above the budget cuts it by at least kHeadroomCut; while the p95 stays below
// kComfortable x budget and the p99 below the budget, it grows back by kHeadroomPerSecond.
constexpr double kHeadroomCut = 0.85;
constexpr double kHeadroomPerSecond = 0.1;
constexpr double kComfortable = 0.7;
constexpr double kMinHeadroom = 0.1;
// Reactions slower than this (the event-path target) say where the time went.
constexpr double kSlowReactionMs = 20;

// How long a session's declared expected_rate_hz counts in full before its measured rate
// bounds it.
constexpr double kDeclaredRateGraceS = 10;

// A budget change worth naming in a reason (5%).
// A budget moved when it changed by more than 5% and by more than `floor` (the CPU capacity
// wobbles by a few hundredths of a core with the outside load every sample).
bool Moved(double before, double after, double floor = 0) {
  return std::abs(after - before) > std::max(0.05 * std::abs(before), floor);
}

// "unknown" rather than "-0.0 MB" for the memory budget of a device without a memory source.
std::string MemoryText(int64_t bytes) {
  return bytes < 0 ? "unknown" : absl::StrFormat("%.1f MB", bytes / 1048576.0);
}

std::string PowerText(double watts) {
  return watts > 0 ? absl::StrFormat("%.1f W", watts) : "unconstrained";
}

double SecondsOpen(const Session& s) {
  return std::chrono::duration<double>(std::chrono::system_clock::now() - s.opened()).count();
}

}  // namespace

double DemandRate(const v1::Slo& slo, double measured_hz, double seconds_open) {
  if (slo.expected_rate_hz() > 0) {
    // A declared rate is believed while the session starts; after that it is held to what the
    // session really sends (twice its measured rate), so that an app cannot reserve the CPU
    // with a rate it never uses and push the others to cheaper variants.
    if (seconds_open < kDeclaredRateGraceS) return slo.expected_rate_hz();
    return std::min(slo.expected_rate_hz(), std::max(1.0, 2 * measured_hz));
  }
  // A client that declared no rate is usually closed-loop: it sends the next request when the
  // last one returns, so its measured rate rises whenever its configuration gets cheaper and
  // charging it rate x latency would push it to the cheapest variant on any busy machine.
  // Count it at one request per latency budget at most; real overload still shows as p95
  // latency above the budget, which the loop reacts to directly.
  double rate = std::max(1.0, measured_hz);
  if (slo.latency_budget_us() > 0) rate = std::min(rate, 1e6 / slo.latency_budget_us());
  return rate;
}

AdaptationLoop::AdaptationLoop(SessionTable* sessions, EngineFacade* engine, EventBus* events,
                               PolicyConfig policy, std::chrono::milliseconds period)
    : sessions_(sessions),
      engine_(engine),
      events_(events),
      period_(period),
      policy_(std::move(policy)) {
  context::ContextSnapshot none;
  budgets_ = ComputeBudgets(none, policy_, 0, false);
}

AdaptationLoop::~AdaptationLoop() { Stop(); }

void AdaptationLoop::Start() {
  if (thread_.joinable()) return;
  last_tick_ = steady_clock::now();
  thread_ = std::thread([this] { Loop(); });
}

void AdaptationLoop::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void AdaptationLoop::set_policy(const PolicyConfig& policy) {
  absl::MutexLock lock(&mu_);
  policy_ = policy;
}

void AdaptationLoop::OnContext(const context::ContextSnapshot& snapshot) {
  absl::MutexLock lock(&mu_);
  latest_ = snapshot;
  if (latest_.steady_time == steady_clock::time_point{}) latest_.steady_time = steady_clock::now();
  have_context_ = true;
  context_pending_ = true;
}

void AdaptationLoop::Kick(const std::string& reason) {
  absl::MutexLock lock(&mu_);
  if (kick_reason_.empty()) kick_time_ = steady_clock::now();
  kick_reason_ = reason;
}

void AdaptationLoop::set_cpu_overridden(bool overridden) {
  absl::MutexLock lock(&mu_);
  cpu_overridden_ = overridden;
}

context::ContextSnapshot AdaptationLoop::latest() const {
  absl::MutexLock lock(&mu_);
  return latest_;
}

Budgets AdaptationLoop::budgets() const {
  absl::MutexLock lock(&mu_);
  return budgets_;
}

AdaptationStats AdaptationLoop::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

std::vector<double> AdaptationLoop::TakeEvolutionTimes() {
  absl::MutexLock lock(&mu_);
  std::vector<double> out;
  out.swap(evolution_ms_);
  return out;
}

void AdaptationLoop::set_on_plan(std::function<void(uint64_t)> fn) {
  absl::MutexLock lock(&mu_);
  on_plan_ = std::move(fn);
}

engine::AppConstraints AdaptationLoop::Constraints(const v1::Slo& slo, const Budgets& budgets) {
  engine::AppConstraints c;
  c.latency_budget_us = slo.latency_budget_us();
  c.min_accuracy = slo.min_accuracy();
  c.prefer_energy =
      slo.energy_preference() == v1::ENERGY_PREFERENCE_SAVER ||
      (budgets.energy_saver && slo.energy_preference() != v1::ENERGY_PREFERENCE_PERFORMANCE);
  return c;
}

engine::SearchResult AdaptationLoop::InitialConfig(ModelBackend* backend,
                                                   const v1::Slo& slo) const {
  const Budgets b = budgets();
  engine::AppConstraints c = Constraints(slo, b);
  if (b.memory_known()) {
    int64_t used = 0;
    for (const auto& s : sessions_->All()) {
      if (auto av = s->current()) used += av->cost.memory_bytes;
    }
    c.memory_cap_bytes = std::max<int64_t>(1, b.memory_bytes - used);
  }
  return backend->Best(c);
}

void AdaptationLoop::Loop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_ || context_pending_ || !kick_reason_.empty();
    };
    mu_.AwaitWithTimeout(absl::Condition(&ready), absl::FromChrono(period_));
    if (stopping_) break;
    std::string trigger;
    steady_clock::time_point when = steady_clock::now();
    if (context_pending_) {
      trigger = latest_.cause.empty() ? "context" : absl::StrCat("context (", latest_.cause, ")");
      when = latest_.steady_time;
    }
    if (!kick_reason_.empty()) {
      if (trigger.empty()) {
        trigger = kick_reason_;
        when = kick_time_;
      } else {
        absl::StrAppend(&trigger, ", ", kick_reason_);
      }
    }
    if (trigger.empty()) trigger = "latency check";
    context_pending_ = false;
    kick_reason_.clear();
    mu_.Unlock();
    Plan(trigger, when);
    mu_.Lock();
  }
}

void AdaptationLoop::Plan(const std::string& trigger, steady_clock::time_point trigger_time) {
  const steady_clock::time_point now = steady_clock::now();
  PolicyConfig policy;
  context::ContextSnapshot snapshot;
  bool have_context, cpu_overridden;
  {
    absl::MutexLock lock(&mu_);
    policy = policy_;
    snapshot = latest_;
    have_context = have_context_;
    cpu_overridden = cpu_overridden_;
  }
  const double dt_s = std::max(1e-3, std::chrono::duration<double>(now - last_tick_).count());
  last_tick_ = now;

  // Observe every session over the last window.
  const std::vector<std::shared_ptr<Session>> all = sessions_->All();
  struct Observed {
    double p95_us = 0, p99_us = 0;
    bool reported = false;  // p95_us includes the app's own end-to-end reports
    bool violated = false;
  };
  std::vector<Observed> observed(all.size());
  double own_compute_us = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    Session& s = *all[i];
    const LatencyHistogram::Counts counts = s.stats.latency.Snapshot();
    const LatencyHistogram::Counts window = LatencyHistogram::Diff(counts, s.policy_last_counts);
    const uint64_t n = LatencyHistogram::Total(window);
    // The window grows until it holds enough samples for a p95 worth acting on (a slow app
    // may complete only a few requests per period).
    double window_s = 0;
    if (n >= kMinWindowSamples) {
      s.policy_last_counts = counts;
      window_s = std::chrono::duration<double>(now - s.policy_window_start).count();
      s.policy_window_start = now;
    }
    const LatencyHistogram::Counts reported = s.stats.reported_latency.Snapshot();
    const LatencyHistogram::Counts rwindow =
        LatencyHistogram::Diff(reported, s.policy_last_reported);
    const uint64_t rn = LatencyHistogram::Total(rwindow);
    if (rn >= kMinWindowSamples) s.policy_last_reported = reported;
    const uint64_t requests = s.stats.requests.load();
    const double rate = (requests - s.policy_last_requests) / dt_s;
    s.policy_last_requests = requests;
    s.rate_hz.store(0.5 * s.rate_hz.load() + 0.5 * rate);
    const uint64_t compute_us = s.compute_us_total.exchange(0);
    const uint64_t images = s.compute_images.exchange(0);
    own_compute_us += static_cast<double>(compute_us);
    std::shared_ptr<const ActiveVariant> av = s.current();
    if (av && images > 0) {
      s.model()->backend->ObserveLatency(av->variant->config(),
                                         static_cast<double>(compute_us) / images);
    }
    Observed& o = observed[i];
    bool enough = n >= kMinWindowSamples;
    if (enough) {
      o.p95_us = LatencyHistogram::Percentile(window, 0.95);
      o.p99_us = LatencyHistogram::Percentile(window, 0.99);
    }
    if (rn >= kMinWindowSamples) {
      // The app sees more than queue + compute: learn the difference (median against median,
      // smoothed) and judge the budget on what the app sees.
      if (enough) {
        const double overhead = std::max(0.0, LatencyHistogram::Percentile(rwindow, 0.5) -
                                                  LatencyHistogram::Percentile(window, 0.5));
        const double before = s.policy_overhead_us.load(std::memory_order_relaxed);
        s.policy_overhead_us.store(before == 0 ? overhead : 0.7 * before + 0.3 * overhead,
                                   std::memory_order_relaxed);
      }
      o.p95_us = std::max(o.p95_us, LatencyHistogram::Percentile(rwindow, 0.95));
      o.p99_us = std::max(o.p99_us, LatencyHistogram::Percentile(rwindow, 0.99));
      o.reported = true;
      enough = true;
    }
    const double budget = s.latency_budget_us.load();
    o.violated = enough && o.p95_us > budget * std::max(0.1, policy.latency_p95_slack);
    // Headroom: cut at once when the budget is exceeded (see the plan below), won back in
    // small steps while the p95 stays well inside the budget, so that an app settles on the
    // largest configuration that keeps its latency in budget instead of swinging across it.
    if (enough && !o.violated && o.p95_us < kComfortable * budget && o.p99_us <= budget) {
      s.policy_headroom =
          std::min(1.0, s.policy_headroom + kHeadroomPerSecond * std::min(window_s, 1.0));
    }
  }
  if (busy_source_) {
    const uint64_t busy = busy_source_();
    own_compute_us = static_cast<double>(busy - last_busy_us_);
    last_busy_us_ = busy;
  }
  own_cpu_cores_ = own_compute_us / 1e6 / dt_s;

  Budgets budgets = have_context ? ComputeBudgets(snapshot, policy, own_cpu_cores_, cpu_overridden)
                                 : ComputeBudgets(context::ContextSnapshot{}, policy, 0, false);
  std::string moved;
  if (planned_budgets_) {
    if (planned_budgets_->memory_known() != budgets.memory_known() ||
        Moved(planned_budgets_->memory_bytes, budgets.memory_bytes, 1048576.0)) {
      moved = absl::StrCat("memory budget ", MemoryText(budgets.memory_bytes), " (was ",
                           MemoryText(planned_budgets_->memory_bytes), ")");
    }
    if (Moved(planned_budgets_->cpu_capacity, budgets.cpu_capacity, 0.1)) {
      absl::StrAppend(&moved, moved.empty() ? "" : "; ",
                      absl::StrFormat("cpu capacity %.2f cores (was %.2f)", budgets.cpu_capacity,
                                      planned_budgets_->cpu_capacity));
    }
    if (Moved(planned_budgets_->power_w, budgets.power_w, 0.1)) {
      absl::StrAppend(&moved, moved.empty() ? "" : "; ", "power budget ",
                      PowerText(budgets.power_w), " (was ", PowerText(planned_budgets_->power_w),
                      ")");
    }
  }
  // Small budget wobbles are not worth a new reference point (they would hide slow drifts).
  if (!planned_budgets_ || !moved.empty()) planned_budgets_ = budgets;
  {
    absl::MutexLock lock(&mu_);
    budgets_ = budgets;
  }
  if (have_context && trigger.rfind("context", 0) == 0) {
    v1::DaemonEvent e;
    e.set_kind(v1::DaemonEvent::KIND_CONTEXT);
    e.set_message(moved.empty() ? absl::StrCat("context sample ", snapshot.sequence)
                                : absl::StrCat("context changed: ", moved));
    *e.mutable_context() = ToProto(snapshot);
    events_->Publish(std::move(e), /*context_sample=*/moved.empty());
  }

  // Joint search over the adaptive sessions.
  std::vector<PlanDemand> demands;
  std::vector<size_t> index;
  std::vector<std::string> reasons;
  // Pinned sessions are not adapted, but what they use is not available to the others.
  int64_t pinned_memory = 0;
  double pinned_cpu = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    Session& s = *all[i];
    std::shared_ptr<const ActiveVariant> av = s.current();
    if (!av || s.closed()) continue;
    if (s.pinned()) {
      const v1::Slo slo = s.slo();
      const double rate = slo.expected_rate_hz() > 0
                              ? DemandRate(slo, s.rate_hz.load(), SecondsOpen(s))
                              : s.rate_hz.load();
      pinned_memory += av->cost.memory_bytes;
      pinned_cpu += rate * av->cost.latency_us * 1e-6;
      continue;
    }
    const v1::Slo slo = s.slo();
    PlanDemand d;
    d.backend = s.model()->backend.get();
    d.priority = slo.priority() ? slo.priority() : 10;
    d.rate_hz = DemandRate(slo, s.rate_hz.load(), SecondsOpen(s));
    d.constraints = Constraints(slo, budgets);
    d.current = av->variant->config();
    std::string reason = moved.empty() ? trigger : moved;
    if (observed[i].violated) {
      // Measured latency says the prediction is optimistic here: aim below the budget by the
      // observed ratio, whatever the cost model currently believes, and remember it.
      const double ratio = slo.latency_budget_us() / observed[i].p95_us;
      const double aim = av->cost.latency_us * ratio * 0.9;
      const double overhead = s.policy_overhead_us.load(std::memory_order_relaxed);
      s.policy_headroom =
          std::clamp(std::min(s.policy_headroom * kHeadroomCut,
                              (aim + overhead) / std::max(1u, slo.latency_budget_us())),
                     kMinHeadroom, 1.0);
      reason = absl::StrFormat("%s latency %.2f ms > budget %.2f ms",
                               observed[i].reported ? "p95 end-to-end" : "p95",
                               observed[i].p95_us / 1e3, slo.latency_budget_us() / 1e3);
    }
    // What the app's latency adds outside the daemon comes off its budget; when that leaves
    // (almost) nothing, the target keeps shrinking with the headroom: the daemon then does
    // the best it can, its cheapest configurations.
    const double planned = s.policy_headroom * slo.latency_budget_us();
    d.constraints.latency_budget_us = std::max(
        kMinHeadroom * planned, planned - s.policy_overhead_us.load(std::memory_order_relaxed));
    demands.push_back(d);
    index.push_back(i);
    reasons.push_back(reason);
  }
  uint64_t plan_no;
  {
    absl::MutexLock lock(&mu_);
    plan_no = ++stats_.plans;
  }
  if (!demands.empty()) {
    engine::DeviceBudget device;
    // A known budget of 0 (available memory at or below the reserve) caps at 1 byte, so the
    // search falls back to the smallest configurations; only an unknown one is unconstrained.
    device.memory_bytes = budgets.memory_known()
                              ? std::max<int64_t>(1, budgets.memory_bytes - pinned_memory)
                              : std::numeric_limits<int64_t>::max() / 4;
    device.cpu_capacity = std::max(0.01, budgets.cpu_capacity - pinned_cpu);
    device.power_w = budgets.power_w;
    engine::HysteresisOptions hysteresis;
    hysteresis.min_accuracy_gain = policy.min_accuracy_gain;
    hysteresis.min_cost_saving = policy.min_cost_saving;
    const steady_clock::time_point search_start = steady_clock::now();
    const engine::JointResult joint = engine_->Joint(demands, device, hysteresis);
    const steady_clock::time_point search_end = steady_clock::now();

    struct Change {
      Session* session;
      std::shared_ptr<const ActiveVariant> previous, next;
      std::string reason;
    };
    std::vector<Change> changes;
    uint64_t evolutions = 0, failures = 0;
    for (size_t k = 0; k < demands.size() && k < joint.per_app.size(); ++k) {
      Session& s = *all[index[k]];
      const engine::SearchResult& r = joint.per_app[k];
      std::shared_ptr<const ActiveVariant> cur = s.current();
      if (!cur || r.config == cur->variant->config()) continue;
      const bool upgrade = r.cost.accuracy > cur->cost.accuracy;
      if (upgrade && now - s.last_switch < std::chrono::milliseconds(policy.cooldown_ms)) {
        continue;  // cool-down: do not climb back too soon after a switch
      }
      const steady_clock::time_point evolve_start = steady_clock::now();
      absl::StatusOr<std::shared_ptr<const ServedVariant>> v = demands[k].backend->Evolve(r.config);
      if (!v.ok()) {
        ++failures;
        v1::DaemonEvent e;
        e.set_kind(v1::DaemonEvent::KIND_WARNING);
        e.set_session_id(s.id());
        e.set_message(absl::StrCat("evolution failed: ", v.status().ToString()));
        events_->Publish(std::move(e));
        continue;
      }
      {
        absl::MutexLock lock(&mu_);
        if (evolution_ms_.size() < 1024)
          evolution_ms_.push_back(Ms(steady_clock::now() - evolve_start));
      }
      auto next = std::make_shared<ActiveVariant>();
      next->variant = *v;
      next->cost = r.cost;
      next->proto = ToConfiguration(s.model()->model->space(), r.config, r.cost);
      ++evolutions;
      changes.push_back({&s, nullptr, next, reasons[k]});
    }
    // Swap all at once, then measure the reaction time (sample -> everything live).
    for (Change& c : changes) {
      c.previous = c.session->Swap(c.next);
      c.session->last_switch = now;
      c.session->stats.switches.fetch_add(1);
    }
    const double reaction_ms = Ms(steady_clock::now() - trigger_time);
    // A slow reaction says where its time went: before this plan started (the trigger waited
    // for the loop), observing the sessions, the joint search, or building the variants.
    std::string breakdown;
    if (!changes.empty() && reaction_ms > kSlowReactionMs) {
      breakdown = absl::StrFormat(
          " [slow reaction %.1f ms: %.1f ms until planning, %.1f ms observing, %.1f ms search, "
          "%.1f ms evolving]",
          reaction_ms, Ms(now - trigger_time), Ms(search_start - now),
          Ms(search_end - search_start), Ms(steady_clock::now() - search_end));
    }
    for (Change& c : changes) {
      v1::SessionEvent se;
      *se.mutable_time() = NowTimestamp();
      if (c.previous) *se.mutable_previous() = c.previous->proto;
      *se.mutable_current() = c.next->proto;
      se.set_reason(c.reason);
      se.set_reaction_ms(reaction_ms);
      c.session->Publish(se);
      v1::DaemonEvent e;
      e.set_kind(v1::DaemonEvent::KIND_EVOLUTION);
      e.set_session_id(c.session->id());
      e.set_app_name(c.session->app());
      e.set_model(c.session->model()->name);
      *e.mutable_previous() = se.previous();
      *e.mutable_current() = se.current();
      e.set_reaction_ms(reaction_ms);
      e.set_message(absl::StrCat(c.session->id(), " (", c.session->app(),
                                 "): ", se.previous().text(), " -> ", se.current().text(), ": ",
                                 c.reason, breakdown));
      events_->Publish(std::move(e));
    }
    absl::MutexLock lock(&mu_);
    stats_.evolutions += evolutions;
    stats_.failed_evolutions += failures;
    if (!changes.empty()) stats_.last_reaction_ms = reaction_ms;
  }
  std::function<void(uint64_t)> on_plan;
  {
    absl::MutexLock lock(&mu_);
    on_plan = on_plan_;
  }
  if (on_plan) on_plan(plan_no);
}

}  // namespace adaspring::daemon
