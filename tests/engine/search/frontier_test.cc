#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "adaspring/engine/search.h"
#include "engine/search/search_test_util.h"

namespace adaspring::engine {
namespace {

using testing::ExhaustiveBest;
using testing::SmallSpaceModel;
using testing::SyntheticCostModel;

struct Ranges {
  double lat_min = 1e300, lat_max = 0, acc_min = 1, acc_max = 0, e_min = 1e300, e_max = 0;
  int64_t mem_min = INT64_MAX, mem_max = 0;
};

Ranges RangesOf(const std::vector<FrontierPoint>& all) {
  Ranges r;
  for (const FrontierPoint& p : all) {
    r.lat_min = std::min(r.lat_min, p.cost.latency_us);
    r.lat_max = std::max(r.lat_max, p.cost.latency_us);
    r.acc_min = std::min(r.acc_min, p.cost.accuracy);
    r.acc_max = std::max(r.acc_max, p.cost.accuracy);
    r.e_min = std::min(r.e_min, p.cost.energy_uj);
    r.e_max = std::max(r.e_max, p.cost.energy_uj);
    r.mem_min = std::min(r.mem_min, p.cost.memory_bytes);
    r.mem_max = std::max(r.mem_max, p.cost.memory_bytes);
  }
  return r;
}

AppConstraints RandomQuery(const Ranges& r, std::mt19937_64& rng, bool prefer_energy) {
  std::uniform_real_distribution<double> u(0, 1);
  AppConstraints k;
  if (u(rng) < 0.8) k.latency_budget_us = r.lat_min + u(rng) * (r.lat_max - r.lat_min);
  if (u(rng) < 0.6)
    k.memory_cap_bytes =
        r.mem_min + static_cast<int64_t>(u(rng) * static_cast<double>(r.mem_max - r.mem_min));
  if (u(rng) < 0.3) k.energy_budget_uj = r.e_min + u(rng) * (r.e_max - r.e_min);
  if (prefer_energy || u(rng) < 0.3) k.min_accuracy = r.acc_min + u(rng) * (r.acc_max - r.acc_min);
  k.prefer_energy = prefer_energy;
  return k;
}

TEST(FrontierTest, ExactFrontierIsNonDominatedAndCoversTheSpace) {
  const auto& small = testing::SharedSmallSpace();
  const Frontier* frontier = &small.exact;
  EXPECT_TRUE(frontier->stats().exhaustive);
  EXPECT_EQ(frontier->stats().evaluations, 16000);
  EXPECT_LT(frontier->stats().exact_evaluations, 16000);
  const auto& pts = frontier->points();
  ASSERT_GT(pts.size(), 5u);
  for (size_t i = 0; i < pts.size(); ++i)
    for (size_t j = 0; j < pts.size(); ++j)
      if (i != j) {
        ASSERT_FALSE(Dominates(pts[i].cost, pts[j].cost)) << i << " dominates " << j;
      }
  // Every configuration is matched or dominated by a frontier point.
  for (const FrontierPoint& p : small.all) {
    const bool covered = std::any_of(pts.begin(), pts.end(), [&](const FrontierPoint& f) {
      return f.cost.accuracy >= p.cost.accuracy && f.cost.latency_us <= p.cost.latency_us &&
             f.cost.memory_bytes <= p.cost.memory_bytes && f.cost.energy_uj <= p.cost.energy_uj;
    });
    ASSERT_TRUE(covered) << small.model->space().ToText(p.config);
  }
}

TEST(FrontierTest, BestEqualsExhaustiveSearchOnSmallSpace) {
  const auto& small = testing::SharedSmallSpace();
  const Frontier* frontier = &small.exact;
  const auto& all = small.all;
  const Ranges ranges = RangesOf(all);
  std::mt19937_64 rng(42);
  int feasible = 0;
  for (int q = 0; q < 300; ++q) {
    const AppConstraints k = RandomQuery(ranges, rng, q % 3 == 0);
    const double want = ExhaustiveBest(all, k);
    const SearchResult got = frontier->Best(k);
    ASSERT_EQ(got.feasible, want >= 0) << q;
    if (!got.feasible) continue;
    ++feasible;
    EXPECT_TRUE(MeetsConstraints(got.cost, k));
    if (k.prefer_energy) {
      EXPECT_DOUBLE_EQ(got.cost.energy_uj, want) << q;
    } else {
      EXPECT_DOUBLE_EQ(got.cost.accuracy, want) << q;
    }
  }
  EXPECT_GT(feasible, 100);
}

// The local search (used for spaces too large to enumerate) on the small space, against the
// exhaustive answers: the stated gap is at most 1% of accuracy on every query (in practice
// the accuracy epsilon, 0.05 points).
TEST(FrontierTest, LocalSearchIsWithinOnePercentOfExhaustive) {
  const auto& small = testing::SharedSmallSpace();
  FrontierOptions options;
  options.force_local_search = true;
  auto frontier = Frontier::Compute(*small.cost, options);
  ASSERT_TRUE(frontier.ok());
  EXPECT_FALSE(frontier->stats().exhaustive);
  const auto& all = small.all;
  const Ranges ranges = RangesOf(all);
  std::mt19937_64 rng(7);
  double worst_gap = 0;
  int missed = 0;
  for (int q = 0; q < 300; ++q) {
    const AppConstraints k = RandomQuery(ranges, rng, false);
    const double want = ExhaustiveBest(all, k);
    const SearchResult got = frontier->Best(k);
    if (want < 0) {
      EXPECT_FALSE(got.feasible);
      continue;
    }
    if (!got.feasible) {
      ++missed;
      continue;
    }
    EXPECT_TRUE(MeetsConstraints(got.cost, k));
    worst_gap = std::max(worst_gap, (want - got.cost.accuracy) / want);
  }
  EXPECT_EQ(missed, 0);
  EXPECT_LE(worst_gap, 0.01);
  RecordProperty("worst_gap_pct", std::to_string(worst_gap * 100));
}

TEST(FrontierTest, RefreshAppliesCorrectionAndPower) {
  auto cost = SyntheticCostModel(SmallSpaceModel());
  auto frontier = Frontier::Compute(*cost);
  ASSERT_TRUE(frontier.ok());
  const double before = frontier->points()[0].cost.latency_us;
  const Config c = frontier->points()[0].config;
  for (int i = 0; i < 200; ++i) cost->ObserveLatency(c, 2 * cost->PredictRawLatencyUs(c));
  frontier->Refresh(*cost);
  EXPECT_NEAR(frontier->points()[0].cost.latency_us, 2 * before, 0.01 * before);
  cost->SetMeasuredPower(3.0);
  frontier->Refresh(*cost);
  const ConfigCost& p = frontier->points()[0].cost;
  EXPECT_FALSE(p.energy_estimated);
  EXPECT_DOUBLE_EQ(p.energy_uj, p.latency_us * 3.0);
}

TEST(FrontierTest, FromPointsDropsDominated) {
  auto mk = [](double acc, double lat, int64_t mem) {
    FrontierPoint p;
    p.cost.accuracy = acc;
    p.cost.latency_us = lat;
    p.cost.memory_bytes = mem;
    p.cost.energy_uj = lat;
    return p;
  };
  Frontier f = Frontier::FromPoints(
      {mk(0.9, 10, 100), mk(0.8, 12, 100), mk(0.7, 5, 100), mk(0.9, 10, 100), mk(0.95, 20, 50)});
  ASSERT_EQ(f.points().size(), 3u);
  EXPECT_DOUBLE_EQ(f.points()[0].cost.accuracy, 0.95);
  EXPECT_DOUBLE_EQ(f.points()[1].cost.accuracy, 0.9);
  EXPECT_DOUBLE_EQ(f.points()[2].cost.accuracy, 0.7);
}

}  // namespace
}  // namespace adaspring::engine
