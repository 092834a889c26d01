#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

#include "adaspring/engine/search.h"
#include "adaspring/engine/variant.h"
#include "engine/search/search_test_util.h"

namespace adaspring::engine {
namespace {

using testing::SmallSpaceModel;
using testing::SyntheticCostModel;

TEST(CostModelTest, LayerVariantsAreDistinctAndCoverEveryConfiguration) {
  auto model = Model::Random(*BuiltinArch("smallres28"), 1);
  const auto distinct = DistinctLayerVariants(*model);
  const std::set<std::string> set(distinct.begin(), distinct.end());
  EXPECT_EQ(set.size(), distinct.size());
  // 6 blocks x 4 widths x 3 ranks x 2 precisions + the fixed part at 2 precisions.
  EXPECT_EQ(distinct.size(), 6u * 12 * 2 + 2);
  std::mt19937_64 rng(5);
  for (int i = 0; i < 50; ++i) {
    const Config c = model->space().Sample(rng);
    for (const std::string& k : LayerVariantKeys(*model, c)) {
      EXPECT_TRUE(set.count(k)) << k;
    }
  }
  // ResNet-18's repeated blocks share rows: fewer variants than blocks x choices.
  auto resnet = Model::Random(*BuiltinArch("resnet18"), 1);
  EXPECT_LT(DistinctLayerVariants(*resnet).size(), 8u * 12 * 2 + 2);
}

TEST(CostModelTest, LatencyIsTheTableSumPlusPrimitiveOverhead) {
  auto model = SmallSpaceModel();
  LatencyTable table = SyntheticLatencyTable(*model, 1, 2.0);
  table.scale = 1.5;
  table.per_primitive_us = 3.0;
  auto cost = CostModel::CreateWithTable(model, {}, table);
  ASSERT_TRUE(cost.ok());
  EXPECT_TRUE((*cost)->profiled());
  std::mt19937_64 rng(9);
  for (int i = 0; i < 20; ++i) {
    const Config c = model->space().Sample(rng);
    double sum = 0;
    int prims = 0;
    for (const std::string& k : LayerVariantKeys(*model, c)) {
      sum += table.rows.at(k).us;
      prims += table.rows.at(k).primitives;
    }
    const ConfigCost pc = (*cost)->Predict(c);
    EXPECT_NEAR(pc.latency_us, 1.5 * sum + 3.0 * prims, 1e-9 * pc.latency_us);
    EXPECT_TRUE(pc.latency_profiled);
  }
}

TEST(CostModelTest, MissingRowsFallBackAndAreLabelled) {
  auto model = SmallSpaceModel();
  LatencyTable table = SyntheticLatencyTable(*model, 1, 2.0);
  const Config full = model->space().Full();
  table.rows.erase(LayerVariantKeys(*model, full).front());
  auto cost = CostModel::CreateWithTable(model, {}, table);
  ASSERT_TRUE(cost.ok());
  EXPECT_FALSE((*cost)->profiled());
  const ConfigCost c = (*cost)->Predict(full);
  EXPECT_FALSE(c.latency_profiled);
  EXPECT_GT(c.latency_us, 0);
  EXPECT_EQ((*cost)->Profile(false).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(CostModelTest, EnergyIsLabelledEstimatedUnlessPowerIsMeasured) {
  CostModelOptions options;
  options.threads = 2;
  auto model = SmallSpaceModel();
  auto cost = CostModel::CreateWithTable(model, options, SyntheticLatencyTable(*model, 2, 2.0));
  ASSERT_TRUE(cost.ok());
  const Config c = model->space().Full();
  ConfigCost pc = (*cost)->Predict(c);
  EXPECT_TRUE(pc.energy_estimated);
  EXPECT_DOUBLE_EQ(pc.energy_uj, pc.latency_us * 2 * EstimatedCoreWatts());
  (*cost)->SetMeasuredPower(7.5);
  pc = (*cost)->Predict(c);
  EXPECT_FALSE(pc.energy_estimated);
  EXPECT_DOUBLE_EQ(pc.energy_uj, pc.latency_us * 7.5);
  (*cost)->SetMeasuredPower(0);
  EXPECT_TRUE((*cost)->Predict(c).energy_estimated);
}

TEST(CostModelTest, OnlineCorrectionTracksObservedOverPredicted) {
  auto model = SmallSpaceModel();
  auto cost = SyntheticCostModel(model);
  const Config c = model->space().Full();
  const double raw = cost->PredictRawLatencyUs(c);
  EXPECT_DOUBLE_EQ(cost->correction(), 1.0);
  for (int i = 0; i < 100; ++i) cost->ObserveLatency(c, 1.5 * raw);
  EXPECT_NEAR(cost->correction(), 1.5, 0.01);
  EXPECT_NEAR(cost->Predict(c).latency_us, 1.5 * raw, 0.02 * raw);
  // Garbage observations are ignored; one outlier moves it by at most alpha x 20.
  const double before = cost->correction();
  cost->ObserveLatency(c, std::nan(""));
  cost->ObserveLatency(c, -5);
  EXPECT_DOUBLE_EQ(cost->correction(), before);
  cost->ObserveLatency(c, 1e12);
  EXPECT_LE(cost->correction(), 0.9 * before + 0.1 * 20 + 1e-9);
}

TEST(CostModelTest, AccuracyIsTheLabelledPriorForUntrainedModels) {
  auto model = SmallSpaceModel();
  auto cost = SyntheticCostModel(model);
  EXPECT_FALSE(cost->accuracy_fitted());
  const ConfigSpace& space = model->space();
  EXPECT_GT(cost->Predict(space.Full()).accuracy, cost->Predict(space.Smallest()).accuracy);
  // An injected accuracy function is used as given.
  auto fixed = SyntheticCostModel(model, 1, [](const Config&) { return 0.42; });
  EXPECT_DOUBLE_EQ(fixed->Predict(space.Full()).accuracy, 0.42);
}

TEST(CostModelTest, InvalidArgumentsAreRejected) {
  EXPECT_EQ(CostModel::Create(nullptr, {}).status().code(), absl::StatusCode::kInvalidArgument);
  CostModelOptions bad;
  bad.threads = 0;
  EXPECT_EQ(CostModel::Create(SmallSpaceModel(), bad).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// The memory model must equal what the engine allocates for the built variant.
TEST(CostModelTest, MemoryEqualsTheBuiltVariant) {
  auto model = testing::CalibratedRandomModel(*BuiltinArch("smallres28"), 3);
  auto cost = SyntheticCostModel(model);
  auto evolver = Evolver::Create(model);
  ASSERT_TRUE(evolver.ok()) << evolver.status();
  EXPECT_FALSE((*evolver)->stats().self_calibrated);
  ASSERT_TRUE(evolver.ok()) << evolver.status();
  std::mt19937_64 rng(17);
  std::vector<Config> configs = {model->space().Full(Precision::kF32),
                                 model->space().Full(Precision::kInt8),
                                 model->space().Smallest(Precision::kF32)};
  for (int i = 0; i < 3; ++i) configs.push_back(model->space().Sample(rng));
  for (const Config& c : configs) {
    auto v = (*evolver)->Evolve(c);
    ASSERT_TRUE(v.ok()) << v.status();
    const ConfigCost pc = cost->Predict(c);
    EXPECT_EQ(pc.memory_bytes, (*v)->stats().weight_bytes + (*v)->ArenaBytes(1))
        << model->space().ToText(c);
    EXPECT_EQ(pc.macs, (*v)->stats().macs);
  }
}

}  // namespace
}  // namespace adaspring::engine
