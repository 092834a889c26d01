#include <gtest/gtest.h>

#include <algorithm>

#include "adaspring/engine/search.h"
#include "engine/search/search_test_util.h"

namespace adaspring::engine {
namespace {

class PerAppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    frontier_ = testing::SharedSmallSpace().exact;
    for (const FrontierPoint& p : frontier_.points()) {
      min_lat_ = std::min(min_lat_, p.cost.latency_us);
      max_lat_ = std::max(max_lat_, p.cost.latency_us);
      min_mem_ = std::min(min_mem_, p.cost.memory_bytes);
      max_acc_ = std::max(max_acc_, p.cost.accuracy);
      min_energy_ = std::min(min_energy_, p.cost.energy_uj);
    }
  }
  Frontier frontier_;
  double min_lat_ = 1e300, max_lat_ = 0, max_acc_ = 0, min_energy_ = 1e300;
  int64_t min_mem_ = INT64_MAX;
};

TEST_F(PerAppTest, UnconstrainedPicksTheMostAccurate) {
  const SearchResult r = frontier_.Best({});
  ASSERT_TRUE(r.feasible);
  EXPECT_DOUBLE_EQ(r.cost.accuracy, max_acc_);
  EXPECT_TRUE(r.binding.empty());
}

TEST_F(PerAppTest, TighterLatencyNeverRaisesAccuracyAndAlwaysMeetsTheBudget) {
  double last_acc = 2;
  for (double f = 1.0; f >= 0.0; f -= 0.05) {
    AppConstraints k;
    k.latency_budget_us = min_lat_ + f * (max_lat_ - min_lat_);
    const SearchResult r = frontier_.Best(k);
    ASSERT_TRUE(r.feasible);
    EXPECT_LE(r.cost.latency_us, k.latency_budget_us);
    EXPECT_LE(r.cost.accuracy, last_acc);
    last_acc = r.cost.accuracy;
  }
}

TEST_F(PerAppTest, EnergySaverPicksTheCheapestMeetingMinAccuracy) {
  AppConstraints k;
  k.prefer_energy = true;
  k.min_accuracy = max_acc_ - 0.05;
  const SearchResult r = frontier_.Best(k);
  ASSERT_TRUE(r.feasible);
  EXPECT_GE(r.cost.accuracy, k.min_accuracy);
  for (const FrontierPoint& p : frontier_.points())
    if (p.cost.accuracy >= k.min_accuracy) {
      EXPECT_GE(p.cost.energy_uj, r.cost.energy_uj);
    }
  // Without the accuracy floor the energy saver takes the cheapest point overall.
  k.min_accuracy = 0;
  EXPECT_DOUBLE_EQ(frontier_.Best(k).cost.energy_uj, min_energy_);
}

TEST_F(PerAppTest, InfeasibleReportsClosestAndBindingConstraint) {
  AppConstraints lat;
  lat.latency_budget_us = min_lat_ * 0.5;
  SearchResult r = frontier_.Best(lat);
  EXPECT_FALSE(r.feasible);
  EXPECT_EQ(r.binding, "latency_budget_us");
  EXPECT_DOUBLE_EQ(r.cost.latency_us, min_lat_);  // the closest is the fastest

  AppConstraints mem;
  mem.memory_cap_bytes = min_mem_ / 2;
  r = frontier_.Best(mem);
  EXPECT_FALSE(r.feasible);
  EXPECT_EQ(r.binding, "memory_cap_bytes");
  EXPECT_EQ(r.cost.memory_bytes, min_mem_);

  AppConstraints acc;
  acc.min_accuracy = std::min(1.0, max_acc_ + 0.01);
  r = frontier_.Best(acc);
  EXPECT_FALSE(r.feasible);
  EXPECT_EQ(r.binding, "min_accuracy");
  EXPECT_DOUBLE_EQ(r.cost.accuracy, max_acc_);

  AppConstraints energy;
  energy.energy_budget_uj = min_energy_ * 0.25;
  r = frontier_.Best(energy);
  EXPECT_FALSE(r.feasible);
  EXPECT_EQ(r.binding, "energy_budget_uj");

  // Two constraints each satisfiable alone but not together: the one violated most binds.
  AppConstraints both;
  both.latency_budget_us = min_lat_ * 1.01;
  both.min_accuracy = max_acc_;
  r = frontier_.Best(both);
  EXPECT_FALSE(r.feasible);
  EXPECT_TRUE(r.binding == "latency_budget_us" || r.binding == "min_accuracy") << r.binding;
}

TEST(PerAppEmptyTest, EmptyFrontierIsInfeasible) {
  Frontier f;
  const SearchResult r = f.Best({});
  EXPECT_FALSE(r.feasible);
  EXPECT_EQ(r.binding, "empty_frontier");
}

}  // namespace
}  // namespace adaspring::engine
