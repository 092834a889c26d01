// Frontier computation: exhaustive enumeration for small spaces, Pareto local search
// otherwise (DESIGN §3.6).
//
// Pareto local search keeps an archive of non-dominated points and evaluates every one-step
// neighbour (ConfigSpace::Neighbours) of every archive member until all members are explored
// or the evaluation budget runs out. On smallres28 restricted to widths {50,100} and ranks
// {1,2} (16000 configurations) it reproduces the exhaustive frontier's answers to within the
// accuracy epsilon on random per-app queries (tests/engine/search/frontier_test.cc measures
// it; adaspring-bench search reports the gap as optimality_gap_pct).
#include <algorithm>
#include <chrono>
#include <random>
#include <unordered_set>

#include "absl/status/status.h"
#include "adaspring/engine/search.h"
#include "search/archive.h"
#include "search/weight_model.h"

namespace adaspring::engine {
namespace {

enum Tag { kUnexplored = 0, kExplored = 1 };

void SortByAccuracy(std::vector<FrontierPoint>& points) {
  std::sort(points.begin(), points.end(), [](const FrontierPoint& a, const FrontierPoint& b) {
    if (a.cost.accuracy != b.cost.accuracy) return a.cost.accuracy > b.cost.accuracy;
    if (a.cost.latency_us != b.cost.latency_us) return a.cost.latency_us < b.cost.latency_us;
    return a.cost.memory_bytes < b.cost.memory_bytes;
  });
}

// Configurations worth starting from: the extremes and every "uniform" configuration (all
// blocks at the same choice, every depth), which spread along the frontier.
std::vector<Config> UniformSeeds(const ConfigSpace& space) {
  std::vector<Config> seeds;
  int max_choices = 1, max_depth = 1;
  for (const BlockSpec& b : space.net().blocks)
    max_choices = std::max<int>(max_choices, b.inner_choices.size() * b.rank_choices);
  for (const StageSpec& s : space.arch().stages) max_depth = std::max(max_depth, s.num_blocks);
  for (Precision p : {Precision::kF32, Precision::kInt8}) {
    seeds.push_back(space.Full(p));
    seeds.push_back(space.Smallest(p));
    seeds.push_back(space.Narrowest(p));
    for (int d = 1; d <= max_depth; ++d) {
      for (int k = 0; k < max_choices; ++k) {
        Config c = space.Full(p);
        for (int s = 0; s < space.num_stages(); ++s)
          c.depth[s] = static_cast<uint8_t>(std::min(d, space.arch().stages[s].num_blocks));
        for (const BlockSpec& b : space.net().blocks) {
          const int n = static_cast<int>(b.inner_choices.size()) * b.rank_choices;
          const int choice = std::min(k, n - 1);
          c.width_idx[b.global_index] = static_cast<uint8_t>(choice / b.rank_choices);
          c.rank_idx[b.global_index] = static_cast<uint8_t>(choice % b.rank_choices);
        }
        seeds.push_back(space.Canonical(c));
      }
    }
  }
  return seeds;
}

}  // namespace

bool Dominates(const ConfigCost& a, const ConfigCost& b) {
  const bool no_worse = a.accuracy >= b.accuracy && a.latency_us <= b.latency_us &&
                        a.memory_bytes <= b.memory_bytes && a.energy_uj <= b.energy_uj;
  const bool better = a.accuracy > b.accuracy || a.latency_us < b.latency_us ||
                      a.memory_bytes < b.memory_bytes || a.energy_uj < b.energy_uj;
  return no_worse && better;
}

absl::StatusOr<Frontier> Frontier::Compute(const CostModel& cost) {
  return Compute(cost, FrontierOptions{});
}

absl::StatusOr<Frontier> Frontier::Compute(const CostModel& cost, const FrontierOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  const ConfigSpace& space = cost.model().space();
  search::ParetoArchive archive(std::max(0.0, options.accuracy_epsilon));
  FrontierStats stats;
  const double correction = cost.correction();

  // Cheap costs first (latency, energy, accuracy exact; memory a lower bound: exact weight
  // bytes + the largest activation pair): a point an archived one covers even at its lower bound is
  // covered exactly too, so the exact memory (PredictStats, tens of microseconds) is computed only
  // for the rest.
  const search::WeightModel weights(cost.model());
  const double power = cost.power_w();
  auto fast = [&](const Config& c) {
    ConfigCost k;
    k.latency_us = cost.PredictRawLatencyUs(c) * correction;
    k.energy_uj = k.latency_us * power;
    k.accuracy = cost.PredictAccuracy(c);
    k.memory_bytes = weights.MemoryLowerBound(c);
    return k;
  };
  auto consider = [&](const Config& c, const ConfigCost& lower, int tag) {
    if (archive.Covered(lower)) return;
    ++stats.exact_evaluations;
    archive.Insert(FrontierPoint{c, cost.Predict(c)}, tag);
  };

  if (!options.force_local_search && space.CanonicalCount() <= options.exhaustive_max_configs) {
    stats.exhaustive = true;
    stats.converged = true;
    // Collect, sort by accuracy, then insert: in that order few points are ever removed.
    std::vector<FrontierPoint> all;
    space.Enumerate([&](const Config& c) {
      all.push_back(FrontierPoint{c, fast(c)});
      return true;
    });
    stats.evaluations = static_cast<int64_t>(all.size());
    SortByAccuracy(all);
    for (const FrontierPoint& p : all) consider(p.config, p.cost, 0);
  } else {
    std::unordered_set<uint64_t> visited;
    auto evaluate = [&](const Config& c) {
      if (!visited.insert(space.ToId(c)).second) return;
      ++stats.evaluations;
      consider(c, fast(c), kUnexplored);
    };
    for (const Config& c : UniformSeeds(space)) evaluate(c);
    std::mt19937_64 rng(options.seed);
    for (int i = 0; i < options.random_seeds; ++i) evaluate(space.Sample(rng));
    auto in_budget = [&] {
      return stats.evaluations < options.max_evaluations &&
             std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                     .count() < options.max_compute_ms;
    };
    bool progress = true;
    while (progress && in_budget()) {
      progress = false;
      // Explore one unexplored member at a time; the archive changes under us, so rescan.
      for (int i = 0; i < archive.size() && in_budget(); ++i) {
        if (archive.tag(i) == kExplored) continue;
        archive.set_tag(i, kExplored);
        const Config c = archive.point(i).config;
        for (const Config& n : space.Neighbours(c)) evaluate(n);
        progress = true;
      }
    }
    stats.converged = !progress;
  }
  Frontier f;
  f.points_ = archive.Take();
  SortByAccuracy(f.points_);
  f.raw_latency_us_.reserve(f.points_.size());
  for (const FrontierPoint& p : f.points_)
    f.raw_latency_us_.push_back(correction > 0 ? p.cost.latency_us / correction
                                               : p.cost.latency_us);
  stats.compute_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  f.stats_ = stats;
  return f;
}

Frontier Frontier::FromPoints(std::vector<FrontierPoint> points, double accuracy_epsilon) {
  SortByAccuracy(points);
  search::ParetoArchive archive(std::max(0.0, accuracy_epsilon));
  for (const FrontierPoint& p : points) archive.Insert(p);
  Frontier f;
  f.points_ = archive.Take();
  SortByAccuracy(f.points_);
  for (const FrontierPoint& p : f.points_) f.raw_latency_us_.push_back(p.cost.latency_us);
  f.stats_.exhaustive = true;
  f.stats_.evaluations = static_cast<int64_t>(points.size());
  return f;
}

void Frontier::Refresh(const CostModel& cost) {
  const double correction = cost.correction();
  const double power = cost.power_w();
  const bool estimated = cost.energy_estimated();
  for (size_t i = 0; i < points_.size(); ++i) {
    ConfigCost& c = points_[i].cost;
    c.latency_us = raw_latency_us_[i] * correction;
    c.energy_uj = c.latency_us * power;
    c.energy_estimated = estimated;
  }
}

}  // namespace adaspring::engine
