#include "context/rapl_source.h"

#include <chrono>
#include <memory>
#include <string>

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

// A counter that goes back further than one wrap explains in the interval (a reset on resume,
// a driver reload) is no power spike: degraded "counter reset", then a fresh baseline.
TEST(RaplSourceTest, CounterResetIsNotAPowerSpike) {
  constexpr char kEnergy[] = "/sys/class/powercap/intel-rapl:0/energy_uj";
  testing::FakeTree tree(
      {{kEnergy, "200000000000\n"},
       {"/sys/class/powercap/intel-rapl:0/max_energy_range_uj", "262143328850\n"}});
  RaplSource rapl(std::make_shared<RealFileSystem>(tree.root()));
  const SteadyTime t0 = std::chrono::steady_clock::now();
  Readings first;
  rapl.Sample(t0, &first);

  tree.Write({{kEnergy, "1000\n"}});
  Readings reset;
  const SourceStatus status = rapl.Sample(t0 + milliseconds(120), &reset);
  EXPECT_EQ(status.state, SourceState::kDegraded);
  EXPECT_NE(status.reason.find(std::string(kEnergy) +
                               ": counter reset (200000000000 -> 1000 uJ in 0.120 s"),
            std::string::npos)
      << status.reason;
  EXPECT_NE(status.reason.find("new baseline taken"), std::string::npos) << status.reason;
  EXPECT_FALSE(reset.sensed.power_w.has_value());

  // The reading after the reset was the new baseline: 10 J in 1 s is 10 W.
  tree.Write({{kEnergy, "10001000\n"}});
  Readings after;
  EXPECT_EQ(rapl.Sample(t0 + milliseconds(1120), &after).state, SourceState::kAvailable);
  ASSERT_TRUE(after.sensed.power_w.has_value());
  EXPECT_NEAR(*after.sensed.power_w, 10.0, 1e-6);
}

TEST(RaplSourceTest, NegativeOrOutOfRangeCountersAreRejected) {
  constexpr char kEnergy[] = "/sys/class/powercap/intel-rapl:0/energy_uj";
  constexpr char kRange[] = "/sys/class/powercap/intel-rapl:0/max_energy_range_uj";
  struct Case {
    const char* energy;
    const char* range;
    std::string reason;
  };
  const Case cases[] = {
      {"-5", "1000", std::string(kEnergy) + ": negative value -5"},
      {"5", "-1000", std::string(kRange) + ": negative value -1000"},
      {"5", "0", std::string(kRange) + ": implausible value 0"},
      {"2000", "1000", std::string(kEnergy) + ": 2000 exceeds max_energy_range_uj 1000"},
  };
  for (const Case& c : cases) {
    testing::FakeTree tree(
        {{kEnergy, std::string(c.energy) + "\n"}, {kRange, std::string(c.range) + "\n"}});
    RaplSource rapl(std::make_shared<RealFileSystem>(tree.root()));
    Readings readings;
    const SourceStatus status = rapl.Sample(std::chrono::steady_clock::now(), &readings);
    EXPECT_EQ(status.state, SourceState::kDegraded) << c.reason;
    EXPECT_NE(status.reason.find(c.reason), std::string::npos) << status.reason;
    EXPECT_FALSE(readings.sensed.power_w.has_value());
  }
}

}  // namespace
}  // namespace adaspring::context
