// Joint allocation of shared budgets across apps (DESIGN §3.6).
//
// A multiple-choice knapsack with three resources (memory, CPU time, power), solved greedily:
// every app starts at its cheapest frontier point meeting its own constraints; then the
// upgrade with the largest priority-weighted accuracy gain per unit of resource, each resource
// weighed by 1 / its remaining budget (so the scarcest one dominates), is applied while one
// fits; a fill pass finally moves each app to the best point that still fits. Hysteresis pins
// apps whose current configuration still fits unless switching is worth it.
#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "adaspring/engine/search.h"

namespace adaspring::engine {
namespace {

constexpr int kResources = 3;
constexpr const char* kResourceNames[kResources] = {"memory_bytes", "cpu_capacity", "power_w"};
constexpr double kInf = std::numeric_limits<double>::infinity();

struct Candidate {
  double accuracy = 0;
  double use[kResources] = {0, 0, 0};
  const FrontierPoint* point = nullptr;
  ConfigCost cost;  // for a current configuration not taken from the frontier
  Config config;
};

struct AppState {
  std::vector<Candidate> candidates;  // meeting the app's own constraints, accuracy ascending
  int choice = -1;
  bool pinned = false;
  Candidate pin;  // the kept configuration when pinned
  const Candidate& chosen() const { return pinned ? pin : candidates[choice]; }
};

Candidate MakeCandidate(const AppDemand& d, const ConfigCost& cost) {
  Candidate c;
  c.accuracy = cost.accuracy;
  c.use[0] = static_cast<double>(cost.memory_bytes);
  c.use[1] = d.rate_hz * cost.latency_us * 1e-6;  // core-seconds per second
  c.use[2] = d.rate_hz * cost.energy_uj * 1e-6;   // joules per second = watts
  c.cost = cost;
  return c;
}

struct Greedy {
  double budget[kResources];
  std::vector<AppState>* apps;
  const std::vector<AppDemand>* demands;
  double usage[kResources] = {0, 0, 0};

  bool Fits(const Candidate& from, const Candidate& to) const {
    for (int k = 0; k < kResources; ++k)
      if (usage[k] - from.use[k] + to.use[k] > budget[k] * (1 + 1e-12)) return false;
    return true;
  }

  void Move(AppState& a, int j) {
    const Candidate& from = a.chosen();
    const Candidate& to = a.candidates[j];
    for (int k = 0; k < kResources; ++k) usage[k] += to.use[k] - from.use[k];
    a.choice = j;
  }

  // Returns the resource most over budget (-1 when everything fits).
  int Overrun() const {
    int worst = -1;
    double worst_ratio = 1 + 1e-12;
    for (int k = 0; k < kResources; ++k) {
      if (!std::isfinite(budget[k])) continue;
      const double ratio = budget[k] > 0 ? usage[k] / budget[k] : (usage[k] > 0 ? kInf : 0);
      if (ratio > worst_ratio) {
        worst_ratio = ratio;
        worst = k;
      }
    }
    return worst;
  }

  // Runs the greedy over unpinned apps. Returns the overrun resource (-1 = feasible).
  int Run() {
    std::fill(usage, usage + kResources, 0.0);
    for (AppState& a : *apps) {
      if (a.candidates.empty() && !a.pinned) continue;
      if (!a.pinned) {
        // Cheapest: smallest budget-normalised use (ties: more accurate).
        double best = kInf;
        int best_j = 0;
        for (size_t j = 0; j < a.candidates.size(); ++j) {
          double s = 0;
          for (int k = 0; k < kResources; ++k)
            if (std::isfinite(budget[k])) s += a.candidates[j].use[k] / std::max(budget[k], 1e-30);
          if (s < best || (s == best && a.candidates[j].accuracy > a.candidates[best_j].accuracy)) {
            best = s;
            best_j = static_cast<int>(j);
          }
        }
        a.choice = best_j;
      }
      for (int k = 0; k < kResources; ++k) usage[k] += a.chosen().use[k];
    }
    if (const int over = Overrun(); over >= 0) return over;
    // Upgrades by marginal utility per unit of (scarcity-weighted) resource.
    for (;;) {
      double best_ratio = 0;
      int best_app = -1, best_j = -1;
      double weight[kResources];
      for (int k = 0; k < kResources; ++k)
        weight[k] = std::isfinite(budget[k])
                        ? 1.0 / std::max(budget[k] - usage[k], 1e-9 * std::max(budget[k], 1e-30))
                        : 0.0;
      for (size_t i = 0; i < apps->size(); ++i) {
        AppState& a = (*apps)[i];
        if (a.pinned || a.candidates.empty()) continue;
        const Candidate& cur = a.candidates[a.choice];
        const double priority = (*demands)[i].priority;
        for (size_t j = a.choice + 1; j < a.candidates.size(); ++j) {
          const Candidate& to = a.candidates[j];
          if (to.accuracy <= cur.accuracy) continue;
          if (!Fits(cur, to)) continue;
          double cost = 0;
          for (int k = 0; k < kResources; ++k)
            cost += std::max(0.0, to.use[k] - cur.use[k]) * weight[k];
          const double ratio = priority * (to.accuracy - cur.accuracy) / (cost + 1e-12);
          if (ratio > best_ratio) {
            best_ratio = ratio;
            best_app = static_cast<int>(i);
            best_j = static_cast<int>(j);
          }
        }
      }
      if (best_app < 0) break;
      Move((*apps)[best_app], best_j);
    }
    // Fill: each app (highest priority first) to its most accurate point that still fits.
    std::vector<int> order(apps->size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
    std::stable_sort(order.begin(), order.end(),
                     [&](int x, int y) { return (*demands)[x].priority > (*demands)[y].priority; });
    for (int round = 0; round < 2; ++round) {
      for (int i : order) {
        AppState& a = (*apps)[i];
        if (a.pinned || a.candidates.empty()) continue;
        for (int j = static_cast<int>(a.candidates.size()) - 1; j > a.choice; --j) {
          if (a.candidates[j].accuracy > a.candidates[a.choice].accuracy &&
              Fits(a.candidates[a.choice], a.candidates[j])) {
            Move(a, j);
            break;
          }
        }
      }
    }
    return -1;
  }

  // The resource that stops further upgrades (for reporting), or -1.
  int Binding() const {
    int worst = -1;
    double worst_ratio = 0;
    for (int k = 0; k < kResources; ++k) {
      if (!std::isfinite(budget[k]) || budget[k] <= 0) continue;
      const double ratio = usage[k] / budget[k];
      if (ratio > worst_ratio) {
        worst_ratio = ratio;
        worst = k;
      }
    }
    return worst;
  }
};

}  // namespace

JointResult JointSearch(const std::vector<AppDemand>& demands, const DeviceBudget& budget,
                        const HysteresisOptions& hysteresis) {
  JointResult result;
  result.per_app.resize(demands.size());
  result.feasible = true;
  std::vector<AppState> apps(demands.size());
  std::vector<std::optional<Candidate>> current(demands.size());

  for (size_t i = 0; i < demands.size(); ++i) {
    const AppDemand& d = demands[i];
    if (d.frontier == nullptr) {
      result.feasible = false;
      result.per_app[i].binding = "no_frontier";
      if (result.binding.empty()) result.binding = absl::StrCat("app:", d.app, ":no_frontier");
      continue;
    }
    for (const FrontierPoint& p : d.frontier->points()) {
      if (!MeetsConstraints(p.cost, d.constraints)) continue;
      Candidate c = MakeCandidate(d, p.cost);
      c.point = &p;
      apps[i].candidates.push_back(std::move(c));
    }
    std::sort(apps[i].candidates.begin(), apps[i].candidates.end(),
              [](const Candidate& a, const Candidate& b) { return a.accuracy < b.accuracy; });
    if (apps[i].candidates.empty()) {
      // The app cannot meet its own constraints: report its closest point and why.
      result.per_app[i] = d.frontier->Best(d.constraints);
      result.feasible = false;
      if (result.binding.empty())
        result.binding = absl::StrCat("app:", d.app, ":", result.per_app[i].binding);
      // It still occupies resources at that point.
      apps[i].pinned = true;
      apps[i].pin = MakeCandidate(d, result.per_app[i].cost);
      apps[i].pin.config = result.per_app[i].config;
      continue;
    }
    if (d.current.has_value() && d.cost != nullptr) {
      const ConfigCost cur = d.cost->Predict(*d.current);
      if (MeetsConstraints(cur, d.constraints)) {
        Candidate c = MakeCandidate(d, cur);
        c.config = *d.current;
        current[i] = std::move(c);
      }
    }
  }

  Greedy g;
  g.budget[0] = budget.memory_bytes > 0 ? static_cast<double>(budget.memory_bytes) : kInf;
  g.budget[1] = budget.cpu_capacity > 0 ? budget.cpu_capacity : kInf;
  g.budget[2] = budget.power_w > 0 ? budget.power_w : kInf;
  g.apps = &apps;
  g.demands = &demands;
  int over = g.Run();

  // Hysteresis: keep a still-valid current configuration unless the move is worth it.
  bool any_pinned = false;
  if (over < 0) {
    for (size_t i = 0; i < apps.size(); ++i) {
      if (!current[i] || apps[i].pinned || apps[i].candidates.empty()) continue;
      const Candidate& cur = *current[i];
      const Candidate& next = apps[i].chosen();
      const Config& next_config = next.point->config;
      if (next_config == cur.config) continue;
      bool keep = demands[i].seconds_since_switch < hysteresis.cooldown_s;
      if (!keep) {
        const bool gain = next.accuracy >= cur.accuracy + hysteresis.min_accuracy_gain;
        const double lat_saving =
            cur.cost.latency_us > 0 ? 1 - next.cost.latency_us / cur.cost.latency_us : 0;
        const double mem_saving =
            cur.cost.memory_bytes > 0
                ? 1 - static_cast<double>(next.cost.memory_bytes) / cur.cost.memory_bytes
                : 0;
        const bool saving = next.accuracy >= cur.accuracy &&
                            std::max(lat_saving, mem_saving) >= hysteresis.min_cost_saving;
        keep = !gain && !saving;
      }
      if (keep) {
        apps[i].pinned = true;
        apps[i].pin = cur;
        any_pinned = true;
      }
    }
    if (any_pinned) {
      over = g.Run();
      // Pins that break the budget are released, largest user of the overrun resource first.
      while (over >= 0) {
        int release = -1;
        double most = -1;
        for (size_t i = 0; i < apps.size(); ++i) {
          if (!apps[i].pinned || !current[i] || apps[i].candidates.empty()) continue;
          if (apps[i].pin.use[over] > most) {
            most = apps[i].pin.use[over];
            release = static_cast<int>(i);
          }
        }
        if (release < 0) break;
        apps[release].pinned = false;
        over = g.Run();
      }
    }
  }

  if (over >= 0) {
    result.feasible = false;
    if (result.binding.empty()) result.binding = kResourceNames[over];
  } else if (result.feasible) {
    // Report the most used resource when some app could still have gone higher.
    bool capped = false;
    for (const AppState& a : apps)
      if (!a.pinned && !a.candidates.empty() &&
          a.choice + 1 < static_cast<int>(a.candidates.size()))
        capped = true;
    if (capped && g.Binding() >= 0) result.binding = kResourceNames[g.Binding()];
  }

  for (size_t i = 0; i < apps.size(); ++i) {
    const AppState& a = apps[i];
    if (demands[i].frontier == nullptr) continue;
    if (a.candidates.empty()) {
      result.objective += demands[i].priority * result.per_app[i].cost.accuracy;
      continue;  // per_app[i] already holds the infeasible per-app result
    }
    SearchResult& r = result.per_app[i];
    const Candidate& c = a.chosen();
    r.config = c.point ? c.point->config : c.config;
    r.cost = c.point ? c.point->cost : c.cost;
    r.feasible = over < 0;
    if (over >= 0) r.binding = kResourceNames[over];
    result.objective += demands[i].priority * r.cost.accuracy;
  }
  return result;
}

}  // namespace adaspring::engine
