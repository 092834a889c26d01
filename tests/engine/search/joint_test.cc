#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "adaspring/engine/search.h"
#include "engine/search/search_test_util.h"

namespace adaspring::engine {
namespace {

using testing::SmallSpaceModel;
using testing::SyntheticCostModel;

class JointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cost_ = testing::SharedSmallSpace().cost.get();
    frontier_ = testing::SharedSmallSpace().exact;
  }
  AppDemand Demand(const std::string& name, double priority, double rate_hz,
                   const Frontier* frontier = nullptr) const {
    AppDemand d;
    d.app = name;
    d.frontier = frontier ? frontier : &frontier_;
    d.cost = cost_;
    d.priority = priority;
    d.rate_hz = rate_hz;
    return d;
  }
  const FrontierPoint& Cheapest() const {
    return *std::min_element(frontier_.points().begin(), frontier_.points().end(),
                             [](const FrontierPoint& a, const FrontierPoint& b) {
                               return a.cost.memory_bytes < b.cost.memory_bytes;
                             });
  }
  const CostModel* cost_ = nullptr;
  Frontier frontier_;
};

void ExpectWithinBudget(const std::vector<AppDemand>& demands, const JointResult& r,
                        const DeviceBudget& b) {
  int64_t mem = 0;
  double cpu = 0, power = 0;
  for (size_t i = 0; i < demands.size(); ++i) {
    const ConfigCost& c = r.per_app[i].cost;
    EXPECT_TRUE(MeetsConstraints(c, demands[i].constraints)) << demands[i].app;
    mem += c.memory_bytes;
    cpu += demands[i].rate_hz * c.latency_us * 1e-6;
    power += demands[i].rate_hz * c.energy_uj * 1e-6;
  }
  if (b.memory_bytes > 0) {
    EXPECT_LE(mem, b.memory_bytes);
  }
  if (b.cpu_capacity > 0) {
    EXPECT_LE(cpu, b.cpu_capacity * (1 + 1e-9));
  }
  if (b.power_w > 0) {
    EXPECT_LE(power, b.power_w * (1 + 1e-9));
  }
}

TEST_F(JointTest, ResultsSatisfyEveryConstraint) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0, 1);
  const ConfigCost top = frontier_.points().front().cost;
  for (int trial = 0; trial < 30; ++trial) {
    std::vector<AppDemand> demands;
    const int n = 2 + trial % 8;
    for (int i = 0; i < n; ++i) {
      AppDemand d = Demand("app" + std::to_string(i), 1 + 9 * u(rng), 1 + 200 * u(rng));
      if (u(rng) < 0.5) d.constraints.latency_budget_us = top.latency_us * (0.3 + u(rng));
      demands.push_back(d);
    }
    DeviceBudget b;
    b.memory_bytes = static_cast<int64_t>(n * top.memory_bytes * (0.3 + 0.7 * u(rng)));
    b.cpu_capacity = 0.2 + 0.8 * u(rng);
    b.power_w = u(rng) < 0.5 ? 0.5 + 2 * u(rng) : 0;
    const JointResult r = JointSearch(demands, b);
    if (!r.feasible) continue;
    ExpectWithinBudget(demands, r, b);
  }
}

// Exhaustive over 3 apps on thinned frontiers (every 8th point): the greedy is within 2% of
// the optimum objective (stated gap; typically exact).
TEST_F(JointTest, GreedyIsNearExhaustiveOnSmallCases) {
  std::vector<FrontierPoint> thin;
  for (size_t i = 0; i < frontier_.points().size(); i += 8) thin.push_back(frontier_.points()[i]);
  const Frontier small = Frontier::FromPoints(thin);
  const auto& pts = small.points();
  ASSERT_LE(pts.size(), 60u);
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0, 1);
  double worst_gap = 0;
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<AppDemand> demands = {Demand("a", 1 + 9 * u(rng), 10 + 100 * u(rng), &small),
                                      Demand("b", 1 + 9 * u(rng), 10 + 100 * u(rng), &small),
                                      Demand("c", 1 + 9 * u(rng), 10 + 100 * u(rng), &small)};
    DeviceBudget b;
    b.memory_bytes = static_cast<int64_t>(3 * pts.front().cost.memory_bytes * (0.2 + 0.6 * u(rng)));
    b.cpu_capacity = 0.05 + 0.5 * u(rng);
    double best = -1;
    for (const auto& x : pts)
      for (const auto& y : pts)
        for (const auto& z : pts) {
          const ConfigCost* c[3] = {&x.cost, &y.cost, &z.cost};
          int64_t mem = 0;
          double cpu = 0, obj = 0;
          for (int i = 0; i < 3; ++i) {
            mem += c[i]->memory_bytes;
            cpu += demands[i].rate_hz * c[i]->latency_us * 1e-6;
            obj += demands[i].priority * c[i]->accuracy;
          }
          if (mem <= b.memory_bytes && cpu <= b.cpu_capacity) best = std::max(best, obj);
        }
    const JointResult r = JointSearch(demands, b);
    ASSERT_EQ(r.feasible, best >= 0) << trial;
    if (best < 0) continue;
    ExpectWithinBudget(demands, r, b);
    worst_gap = std::max(worst_gap, (best - r.objective) / best);
  }
  EXPECT_LE(worst_gap, 0.02);
  RecordProperty("worst_gap_pct", std::to_string(worst_gap * 100));
}

TEST_F(JointTest, InfeasibleBudgetNamesTheBindingResource) {
  std::vector<AppDemand> demands = {Demand("a", 1, 10), Demand("b", 1, 10)};
  DeviceBudget b;
  b.memory_bytes = Cheapest().cost.memory_bytes;  // room for one app only
  JointResult r = JointSearch(demands, b);
  EXPECT_FALSE(r.feasible);
  EXPECT_EQ(r.binding, "memory_bytes");

  b = DeviceBudget{};
  b.cpu_capacity = 1e-9;
  r = JointSearch(demands, b);
  EXPECT_FALSE(r.feasible);
  EXPECT_EQ(r.binding, "cpu_capacity");

  b = DeviceBudget{};
  b.power_w = 1e-9;
  r = JointSearch(demands, b);
  EXPECT_FALSE(r.feasible);
  EXPECT_EQ(r.binding, "power_w");
}

TEST_F(JointTest, AppThatCannotMeetItsOwnConstraintsIsReported) {
  std::vector<AppDemand> demands = {Demand("a", 1, 10), Demand("b", 1, 10)};
  demands[1].constraints.min_accuracy = 1.5;
  const JointResult r = JointSearch(demands, DeviceBudget{});
  EXPECT_FALSE(r.feasible);
  EXPECT_EQ(r.binding, "app:b:min_accuracy");
  EXPECT_FALSE(r.per_app[1].feasible);
  EXPECT_EQ(r.per_app[1].binding, "min_accuracy");
  EXPECT_DOUBLE_EQ(r.per_app[0].cost.accuracy, frontier_.points().front().cost.accuracy);
}

TEST_F(JointTest, PriorityDecidesWhoGetsTheScarceResource) {
  std::vector<AppDemand> demands = {Demand("low", 1, 100), Demand("high", 10, 100)};
  DeviceBudget b;
  b.cpu_capacity =
      100 * 1e-6 * (Cheapest().cost.latency_us + frontier_.points().front().cost.latency_us);
  const JointResult r = JointSearch(demands, b);
  ASSERT_TRUE(r.feasible);
  EXPECT_GE(r.per_app[1].cost.accuracy, r.per_app[0].cost.accuracy);
}

// Hysteresis: a current configuration that still fits is kept when the new optimum gains less
// than min_accuracy_gain, and replaced when the gain is above it.
TEST_F(JointTest, HysteresisBlocksSmallGainsAndAllowsLargeOnes) {
  // Fine-grained accuracies so that points a fraction of the threshold apart exist.
  auto fine_cost = SyntheticCostModel(SmallSpaceModel(), 1, testing::FineAccuracy);
  FrontierOptions exact;
  exact.accuracy_epsilon = 0;
  auto fine = Frontier::Compute(*fine_cost, exact);
  ASSERT_TRUE(fine.ok());
  frontier_ = std::move(*fine);
  cost_ = fine_cost.get();
  std::vector<AppDemand> demands = {Demand("a", 1, 10)};
  const JointResult fresh = JointSearch(demands, DeviceBudget{});
  ASSERT_TRUE(fresh.feasible);
  const double best = fresh.per_app[0].cost.accuracy;
  // A slightly worse point (gain below threshold) and a much worse one (gain above).
  const FrontierPoint* near = nullptr;
  const FrontierPoint* far = nullptr;
  double fastest = 1e300;
  for (const FrontierPoint& p : frontier_.points()) fastest = std::min(fastest, p.cost.latency_us);
  for (const FrontierPoint& p : frontier_.points()) {
    const double gain = best - p.cost.accuracy;
    if (!near && gain > 0 && gain < 0.0015) near = &p;
    if (!far && gain > 0.02 && p.cost.latency_us > 1.05 * fastest) far = &p;
  }
  ASSERT_NE(near, nullptr);
  ASSERT_NE(far, nullptr);
  HysteresisOptions h;
  h.min_accuracy_gain = 0.002;
  demands[0].current = near->config;
  JointResult r = JointSearch(demands, DeviceBudget{}, h);
  ASSERT_TRUE(r.feasible);
  EXPECT_EQ(r.per_app[0].config, near->config);  // kept
  demands[0].current = far->config;
  r = JointSearch(demands, DeviceBudget{}, h);
  EXPECT_EQ(r.per_app[0].config, fresh.per_app[0].config);  // switched
  // Within the cool-down even a large gain waits...
  demands[0].seconds_since_switch = 1;
  r = JointSearch(demands, DeviceBudget{}, h);
  EXPECT_EQ(r.per_app[0].config, far->config);
  // ...unless the current configuration violates a constraint.
  demands[0].constraints.latency_budget_us = (fastest + far->cost.latency_us) / 2;
  r = JointSearch(demands, DeviceBudget{}, h);
  EXPECT_TRUE(r.feasible);
  EXPECT_NE(r.per_app[0].config, far->config);
  EXPECT_LE(r.per_app[0].cost.latency_us, demands[0].constraints.latency_budget_us);
}

TEST_F(JointTest, KeptConfigurationThatBreaksTheBudgetIsReleased) {
  std::vector<AppDemand> demands = {Demand("a", 1, 10), Demand("b", 1, 10)};
  const FrontierPoint& top = frontier_.points().front();
  demands[0].current = top.config;
  demands[0].seconds_since_switch = 0;  // in cool-down
  DeviceBudget b;
  b.memory_bytes = top.cost.memory_bytes + Cheapest().cost.memory_bytes - 1;
  const JointResult r = JointSearch(demands, b);
  ASSERT_TRUE(r.feasible);
  ExpectWithinBudget(demands, r, b);
  EXPECT_NE(r.per_app[0].config, top.config);
}

TEST(JointEmptyTest, MissingFrontierIsReported) {
  std::vector<AppDemand> demands(1);
  demands[0].app = "x";
  const JointResult r = JointSearch(demands, DeviceBudget{});
  EXPECT_FALSE(r.feasible);
  EXPECT_EQ(r.binding, "app:x:no_frontier");
}

}  // namespace
}  // namespace adaspring::engine
