// Per-app search on a precomputed frontier (DESIGN §3.6): a linear scan, microseconds.
//
// The exhaustive optimum of "max accuracy under constraints" (and of "min energy under
// constraints") is always attained by a Pareto-optimal point, so scanning the frontier gives
// the exhaustive answer when the frontier is exact (within accuracy_epsilon otherwise).
#include <algorithm>
#include <limits>

#include "adaspring/engine/search.h"

namespace adaspring::engine {
namespace {

struct Violation {
  double total = 0, worst = 0;
  const char* binding = "";
};

// Relative violation of each constraint (0 when met).
Violation Violations(const ConfigCost& c, const AppConstraints& k) {
  Violation v;
  auto add = [&](double amount, const char* name) {
    if (amount <= 0) return;
    v.total += amount;
    if (amount > v.worst) {
      v.worst = amount;
      v.binding = name;
    }
  };
  if (k.latency_budget_us > 0) add(c.latency_us / k.latency_budget_us - 1, "latency_budget_us");
  if (k.memory_cap_bytes > 0)
    add(static_cast<double>(c.memory_bytes) / static_cast<double>(k.memory_cap_bytes) - 1,
        "memory_cap_bytes");
  if (k.energy_budget_uj > 0) add(c.energy_uj / k.energy_budget_uj - 1, "energy_budget_uj");
  if (k.min_accuracy > 0) add((k.min_accuracy - c.accuracy) / k.min_accuracy, "min_accuracy");
  return v;
}

}  // namespace

bool MeetsConstraints(const ConfigCost& c, const AppConstraints& k) {
  return (k.latency_budget_us <= 0 || c.latency_us <= k.latency_budget_us) &&
         (k.memory_cap_bytes <= 0 || c.memory_bytes <= k.memory_cap_bytes) &&
         (k.energy_budget_uj <= 0 || c.energy_uj <= k.energy_budget_uj) &&
         c.accuracy >= k.min_accuracy;
}

SearchResult Frontier::Best(const AppConstraints& k) const {
  SearchResult r;
  if (points_.empty()) {
    r.binding = "empty_frontier";
    return r;
  }
  int best = -1;
  if (!k.prefer_energy) {
    // Points are sorted by accuracy (then latency): the first feasible one is the answer.
    for (size_t i = 0; i < points_.size(); ++i) {
      if (MeetsConstraints(points_[i].cost, k)) {
        best = static_cast<int>(i);
        break;
      }
    }
  } else {
    double best_energy = std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < points_.size(); ++i) {
      const ConfigCost& c = points_[i].cost;
      if (c.energy_uj < best_energy && MeetsConstraints(c, k)) {
        best_energy = c.energy_uj;
        best = static_cast<int>(i);
      }
    }
  }
  if (best >= 0) {
    r.config = points_[best].config;
    r.cost = points_[best].cost;
    r.feasible = true;
    return r;
  }
  // Infeasible: the point closest to meeting everything, and what it violates most.
  double closest = std::numeric_limits<double>::infinity();
  const char* binding = "";
  for (size_t i = 0; i < points_.size(); ++i) {
    const Violation v = Violations(points_[i].cost, k);
    if (v.total < closest) {
      closest = v.total;
      best = static_cast<int>(i);
      binding = v.binding;
    }
  }
  r.config = points_[best].config;
  r.cost = points_[best].cost;
  r.binding = binding;
  return r;
}

}  // namespace adaspring::engine
