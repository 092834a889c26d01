#include "context/rapl_source.h"

#include <chrono>
#include <memory>

#include "context/real_file_system.h"
#include "daemon/context/fake_tree.h"
#include "gtest/gtest.h"

namespace adaspring::context {
namespace {

using std::chrono::milliseconds;

TEST(RaplSourceTest, EnergyDeltaHandlesWrapAround) {
  EXPECT_EQ(RaplSource::EnergyDeltaUj(100, 350, 1000), 250);
  EXPECT_EQ(RaplSource::EnergyDeltaUj(900, 100, 1000), 200);
  EXPECT_EQ(RaplSource::EnergyDeltaUj(0, 0, 1000), 0);
}

TEST(RaplSourceTest, WrapAroundGivesTheRightPower) {
  // max_energy_range_uj as on a common laptop (~262 kJ); the counter wraps between samples.
  const int64_t max_uj = 262143328850;
  testing::FakeTree tree(
      {{"/sys/class/powercap/intel-rapl:0/name", "package-0\n"},
       {"/sys/class/powercap/intel-rapl:0/energy_uj", std::to_string(max_uj - 3'000'000) + "\n"},
       {"/sys/class/powercap/intel-rapl:0/max_energy_range_uj", std::to_string(max_uj) + "\n"}});
  RaplSource rapl(std::make_shared<RealFileSystem>(tree.root()));
  const SteadyTime t0 = std::chrono::steady_clock::now();
  Readings first;
  EXPECT_EQ(rapl.Sample(t0, &first).state, SourceState::kAvailable);
  EXPECT_FALSE(first.sensed.power_w.has_value());

  // 3 J up to the wrap and 2 J after it, in 500 ms: 10 W.
  tree.Write({{"/sys/class/powercap/intel-rapl:0/energy_uj", "2000000\n"}});
  Readings second;
  EXPECT_EQ(rapl.Sample(t0 + milliseconds(500), &second).state, SourceState::kAvailable);
  ASSERT_TRUE(second.sensed.power_w.has_value());
  EXPECT_NEAR(*second.sensed.power_w, 10.0, 1e-6);
}

TEST(RaplSourceTest, TwoPackagesAreSummedAndSubzonesSkipped) {
  testing::FakeTree tree({
      {"/sys/class/powercap/intel-rapl:0/energy_uj", "1000000\n"},
      {"/sys/class/powercap/intel-rapl:0/max_energy_range_uj", "100000000\n"},
      {"/sys/class/powercap/intel-rapl:1/energy_uj", "1000000\n"},
      {"/sys/class/powercap/intel-rapl:1/max_energy_range_uj", "100000000\n"},
      {"/sys/class/powercap/intel-rapl:0:0/energy_uj", "1\n"},
      {"/sys/class/powercap/intel-rapl-mmio:0/energy_uj", "1\n"},
  });
  RaplSource rapl(std::make_shared<RealFileSystem>(tree.root()));
  const SteadyTime t0 = std::chrono::steady_clock::now();
  Readings readings;
  rapl.Sample(t0, &readings);
  tree.Write({{"/sys/class/powercap/intel-rapl:0/energy_uj", "3000000\n"},
              {"/sys/class/powercap/intel-rapl:1/energy_uj", "4000000\n"},
              {"/sys/class/powercap/intel-rapl:0:0/energy_uj", "99999999\n"}});
  rapl.Sample(t0 + std::chrono::seconds(1), &readings);
  ASSERT_TRUE(readings.sensed.power_w.has_value());
  EXPECT_NEAR(*readings.sensed.power_w, 5.0, 1e-9);
}

}  // namespace
}  // namespace adaspring::context
