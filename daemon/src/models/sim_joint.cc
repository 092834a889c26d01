// Greedy joint allocation over frontier points, for SimEngine (the real engine has its own
// JointSearch). Start every app at its cheapest point that meets its own constraints, then
// repeatedly take the upgrade with the best priority-weighted accuracy gain per unit of the
// scarcer device resource that still fits; finally apply hysteresis against the current
// configuration.
#include <algorithm>
#include <limits>

#include "models/engine_facade.h"

namespace adaspring::daemon {
namespace {

bool MeetsApp(const engine::ConfigCost& c, const engine::AppConstraints& k, std::string* binding) {
  if (k.latency_budget_us > 0 && c.latency_us > k.latency_budget_us) {
    *binding = "latency_budget_us";
    return false;
  }
  if (k.memory_cap_bytes > 0 && c.memory_bytes > k.memory_cap_bytes) {
    *binding = "memory_cap_bytes";
    return false;
  }
  if (k.energy_budget_uj > 0 && c.energy_uj > k.energy_budget_uj) {
    *binding = "energy_budget_uj";
    return false;
  }
  if (c.accuracy + 1e-12 < k.min_accuracy) {
    *binding = "min_accuracy";
    return false;
  }
  return true;
}

struct Usage {
  double memory = 0, cpu = 0, power = 0;
};

}  // namespace

engine::JointResult SimJoint(const std::vector<PlanDemand>& demands,
                             const engine::DeviceBudget& budget,
                             const engine::HysteresisOptions& hysteresis) {
  const size_t n = demands.size();
  engine::JointResult result;
  result.per_app.resize(n);
  std::vector<std::vector<engine::FrontierPoint>> cands(n);
  std::vector<size_t> pick(n, 0);
  bool all_feasible = true;
  for (size_t i = 0; i < n; ++i) {
    std::vector<engine::FrontierPoint> pts = demands[i].backend->FrontierPoints();
    std::sort(pts.begin(), pts.end(),
              [](const auto& a, const auto& b) { return a.cost.latency_us < b.cost.latency_us; });
    std::string binding;
    for (const auto& p : pts) {
      if (MeetsApp(p.cost, demands[i].constraints, &binding)) cands[i].push_back(p);
    }
    if (cands[i].empty() && !pts.empty()) {
      // Infeasible for the app alone: serve the cheapest point and say what binds.
      MeetsApp(pts.front().cost, demands[i].constraints, &result.per_app[i].binding);
      cands[i].push_back(pts.front());
      all_feasible = false;
    }
  }
  auto usage_of = [&](const engine::ConfigCost& c, size_t i) {
    Usage u;
    u.memory = static_cast<double>(c.memory_bytes);
    u.cpu = demands[i].rate_hz * c.latency_us * 1e-6;
    u.power = u.cpu * 2.0;  // W per busy core, as SimEngine's energy estimate
    return u;
  };
  auto fits = [&](const Usage& u) {
    return (budget.memory_bytes <= 0 || u.memory <= static_cast<double>(budget.memory_bytes)) &&
           u.cpu <= budget.cpu_capacity + 1e-9 &&
           (budget.power_w <= 0 || u.power <= budget.power_w);
  };
  Usage total;
  for (size_t i = 0; i < n; ++i) {
    if (cands[i].empty()) continue;
    Usage u = usage_of(cands[i][0].cost, i);
    total.memory += u.memory;
    total.cpu += u.cpu;
    total.power += u.power;
  }
  if (!fits(total)) {
    all_feasible = false;
    result.binding = total.cpu > budget.cpu_capacity ? "cpu_capacity" : "memory_bytes";
  }
  // Greedy upgrades.
  for (;;) {
    double best_score = 0;
    size_t best_i = n, best_j = 0;
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = pick[i] + 1; j < cands[i].size(); ++j) {
        const auto& cur = cands[i][pick[i]].cost;
        const auto& nxt = cands[i][j].cost;
        const double gain = demands[i].priority * (nxt.accuracy - cur.accuracy);
        if (gain <= 0) continue;
        Usage a = usage_of(cur, i), b = usage_of(nxt, i);
        Usage t = {total.memory - a.memory + b.memory, total.cpu - a.cpu + b.cpu,
                   total.power - a.power + b.power};
        if (!fits(t)) continue;
        const double mem_frac =
            budget.memory_bytes > 0 ? (b.memory - a.memory) / budget.memory_bytes : 0;
        const double cpu_frac = (b.cpu - a.cpu) / std::max(1e-9, budget.cpu_capacity);
        const double score = gain / std::max(1e-9, std::max(mem_frac, cpu_frac));
        if (score > best_score) {
          best_score = score;
          best_i = i;
          best_j = j;
        }
      }
    }
    if (best_i == n) break;
    Usage a = usage_of(cands[best_i][pick[best_i]].cost, best_i);
    Usage b = usage_of(cands[best_i][best_j].cost, best_i);
    total = {total.memory - a.memory + b.memory, total.cpu - a.cpu + b.cpu,
             total.power - a.power + b.power};
    pick[best_i] = best_j;
  }
  for (size_t i = 0; i < n; ++i) {
    if (cands[i].empty()) continue;
    engine::SearchResult& r = result.per_app[i];
    r.config = cands[i][pick[i]].config;
    r.cost = cands[i][pick[i]].cost;
    r.feasible = r.binding.empty();
    // Hysteresis: keep the current configuration when the change is too small to matter and
    // the current one still fits everything.
    if (demands[i].current && !(*demands[i].current == r.config)) {
      const engine::ConfigCost cur = demands[i].backend->Predict(*demands[i].current);
      std::string ignored;
      Usage a = usage_of(r.cost, i), c = usage_of(cur, i);
      Usage t = {total.memory - a.memory + c.memory, total.cpu - a.cpu + c.cpu,
                 total.power - a.power + c.power};
      const bool up = r.cost.accuracy > cur.accuracy;
      const bool small = up ? r.cost.accuracy - cur.accuracy < hysteresis.min_accuracy_gain
                            : cur.latency_us > 0 &&
                                  (cur.latency_us - r.cost.latency_us) / cur.latency_us <
                                      hysteresis.min_cost_saving &&
                                  cur.memory_bytes <= r.cost.memory_bytes;
      if (small && fits(t) && MeetsApp(cur, demands[i].constraints, &ignored)) {
        r.config = *demands[i].current;
        r.cost = cur;
        total = t;
      }
    }
    result.objective += demands[i].priority * r.cost.accuracy;
  }
  result.feasible = all_feasible && fits(total);
  return result;
}

}  // namespace adaspring::daemon
