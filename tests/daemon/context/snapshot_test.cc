#include "context/snapshot.h"

#include "context/readings.h"
#include "gtest/gtest.h"

namespace adaspring::context {
namespace {

constexpr int64_t kMiB = 1024 * 1024;

ContextSnapshot Sensed() {
  ContextSnapshot s;
  s.memory_limit_bytes = 4096 * kMiB;
  s.memory_used_bytes = 1000 * kMiB;
  s.memory_available_bytes = 3000 * kMiB;
  s.battery_percent = 80;
  s.on_ac = true;
  s.temperature_c = 50;
  return s;
}

TEST(SnapshotTest, OverrideMemoryLimitKeepsUsedMemory) {
  ContextSnapshot s = Sensed();
  ContextOverride o;
  o.memory_limit_bytes = 200 * kMiB;  // "memory.max dropped to 200 MB"
  ApplyOverride(o, &s);
  EXPECT_TRUE(s.overridden);
  EXPECT_EQ(s.memory_limit_bytes, 200 * kMiB);
  EXPECT_EQ(s.memory_available_bytes, 0);  // 1000 MiB already used
  ContextSnapshot t = Sensed();
  t.memory_used_bytes = 50 * kMiB;
  ApplyOverride(o, &t);
  EXPECT_EQ(t.memory_available_bytes, 150 * kMiB);
}

TEST(SnapshotTest, OverrideOfEachScalar) {
  ContextSnapshot s = Sensed();
  ContextOverride o;
  o.battery_percent = 10;
  o.on_ac = false;
  o.temperature_c = 85;
  o.cpu_busy_fraction = 0.9;
  o.power_w = 3;
  ApplyOverride(o, &s);
  EXPECT_EQ(s.battery_percent, 10);
  EXPECT_TRUE(s.has_battery);
  EXPECT_FALSE(s.on_ac);
  EXPECT_EQ(s.temperature_c, 85);
  EXPECT_EQ(s.cpu_busy_fraction, 0.9);
  EXPECT_EQ(s.power_w, 3);
  ContextSnapshot untouched = Sensed();
  ApplyOverride(ContextOverride(), &untouched);
  EXPECT_FALSE(untouched.overridden);
}

TEST(SnapshotTest, ValidateOverrideNamesFieldAndValue) {
  ContextOverride o;
  o.battery_percent = 140;
  absl::Status status = ValidateOverride(o);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_EQ(status.message(), "battery_percent = 140 is out of range (0..100)");
  ContextOverride negative;
  negative.memory_limit_bytes = -1;
  EXPECT_FALSE(ValidateOverride(negative).ok());
  ContextOverride fine;
  fine.cpu_busy_fraction = 1.0;
  EXPECT_TRUE(ValidateOverride(fine).ok());
}

TEST(ReadingsTest, TightestMemoryBoundWins) {
  Readings r;
  r.memory.push_back({"cgroup", std::nullopt, 100 * kMiB, std::nullopt});
  r.memory.push_back({"meminfo", 8192 * kMiB, 6000 * kMiB, 2192 * kMiB});
  ContextSnapshot s = Combine(r);
  EXPECT_EQ(s.memory_limit_bytes, 8192 * kMiB);
  EXPECT_EQ(s.memory_available_bytes, 2192 * kMiB);
  r.memory.push_back({"cgroup:/apps", 1024 * kMiB, 1000 * kMiB, std::nullopt});
  s = Combine(r);
  EXPECT_EQ(s.memory_limit_bytes, 1024 * kMiB);
  EXPECT_EQ(s.memory_available_bytes, 24 * kMiB);
  EXPECT_EQ(s.memory_used_bytes, 1000 * kMiB);
}

TEST(ReadingsTest, ReplayedValuesReplaceSensedOnes) {
  Readings r;
  r.sensed.temperature_c = 40;
  r.sensed.cpu_count = 4;
  r.replayed.temperature_c = 80;
  r.phase = "thermal_rise";
  ContextSnapshot s = Combine(r);
  EXPECT_EQ(s.temperature_c, 80);
  EXPECT_EQ(s.cpu_count, 4u);
  EXPECT_EQ(s.phase, "thermal_rise");
}

}  // namespace
}  // namespace adaspring::context
