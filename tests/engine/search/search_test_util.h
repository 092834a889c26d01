// Shared fixtures of the search tests: a small space that can be enumerated, deterministic
// cost models (synthetic latency table, the labelled prior for accuracy), exhaustive answers.
#ifndef ADASPRING_TESTS_ENGINE_SEARCH_SEARCH_TEST_UTIL_H_
#define ADASPRING_TESTS_ENGINE_SEARCH_SEARCH_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "adaspring/engine/model.h"
#include "adaspring/engine/search.h"
#include "adaspring/engine/variant.h"

namespace adaspring::engine::testing {

// smallres28 with widths {50,100} and ranks {1,2}: 16000 configurations.
inline ArchSpec SmallSpaceArch() {
  ArchSpec a = *BuiltinArch("smallres28");
  a.name = "smallres28-w2r2";
  a.width_percent = {50, 100};
  a.rank_divisors = {1, 2};
  return a;
}

inline std::shared_ptr<const Model> SmallSpaceModel(uint64_t seed = 7) {
  return Model::Random(SmallSpaceArch(), seed);
}

// A random model with int8 calibration from two f32 configurations (full rank and
// factorised) on two synthetic images, so that Evolver::Create skips its (slower)
// self-calibration.
inline std::shared_ptr<const Model> CalibratedRandomModel(const ArchSpec& arch, uint64_t seed) {
  std::shared_ptr<Model> model = Model::Random(arch, seed);
  const ConfigSpace& space = model->space();
  Config factorised = space.Full();
  for (const BlockSpec& b : space.net().blocks)
    factorised.rank_idx[b.global_index] = static_cast<uint8_t>(b.rank_choices > 1 ? 1 : 0);
  std::vector<float> images(2 * arch.in_channels * arch.in_height * arch.in_width);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  for (float& x : images) x = normal(rng);
  auto amax = CalibrateActivations(*model, {space.Full(), factorised}, images.data(), 2);
  EXPECT_TRUE(amax.ok()) << amax.status();
  if (amax.ok()) model->activation_amax = *amax;
  return model;
}

// Synthetic table (2 us per million MACs, 1 us per primitive), prior accuracy.
inline std::unique_ptr<CostModel> SyntheticCostModel(std::shared_ptr<const Model> model,
                                                     int threads = 1,
                                                     AccuracyFn accuracy = nullptr) {
  CostModelOptions options;
  options.threads = threads;
  LatencyTable table = SyntheticLatencyTable(*model, threads, 2.0);
  auto cost = CostModel::CreateWithTable(model, options, table, std::move(accuracy));
  EXPECT_TRUE(cost.ok()) << cost.status();
  return std::move(*cost);
}

// Every configuration of the space with its cost.
inline std::vector<FrontierPoint> AllPoints(const CostModel& cost) {
  std::vector<FrontierPoint> all;
  cost.model().space().Enumerate([&](const Config& c) {
    all.push_back(FrontierPoint{c, cost.Predict(c)});
    return true;
  });
  return all;
}

// Exhaustive answer of a per-app query: best accuracy (or least energy when prefer_energy);
// -1 when infeasible.
inline double ExhaustiveBest(const std::vector<FrontierPoint>& all, const AppConstraints& k) {
  double best = -1;
  double best_energy = std::numeric_limits<double>::infinity();
  for (const FrontierPoint& p : all) {
    if (!MeetsConstraints(p.cost, k)) continue;
    if (k.prefer_energy) {
      if (p.cost.energy_uj < best_energy) {
        best_energy = p.cost.energy_uj;
        best = p.cost.energy_uj;
      }
    } else {
      best = std::max(best, p.cost.accuracy);
    }
  }
  return best;
}

// Fine-grained deterministic accuracy (distinct values a few 0.0001 apart), for tests that
// need points close in accuracy.
inline double FineAccuracy(const Config& c) {
  double a = 0.80 + (c.precision == Precision::kF32 ? 0.0011 : 0);
  for (size_t b = 0; b < c.width_idx.size(); ++b)
    a += 0.004 * c.width_idx[b] + 0.0017 * (1 - c.rank_idx[b]) + 0.0003 * static_cast<double>(b);
  for (size_t s = 0; s < c.depth.size(); ++s) a += 0.0023 * c.depth[s];
  return a;
}

// The small space's cost model, exact frontier and every point, computed once per process.
struct SmallSpace {
  std::shared_ptr<const Model> model;
  std::unique_ptr<CostModel> cost;
  Frontier exact;                  // accuracy_epsilon = 0
  std::vector<FrontierPoint> all;  // every configuration
};

inline const SmallSpace& SharedSmallSpace() {
  static const SmallSpace* space = [] {
    auto* s = new SmallSpace;
    s->model = SmallSpaceModel();
    s->cost = SyntheticCostModel(s->model);
    FrontierOptions options;
    options.accuracy_epsilon = 0;
    s->exact = *Frontier::Compute(*s->cost, options);
    s->all = AllPoints(*s->cost);
    return s;
  }();
  return *space;
}

}  // namespace adaspring::engine::testing

#endif  // ADASPRING_TESTS_ENGINE_SEARCH_SEARCH_TEST_UTIL_H_
