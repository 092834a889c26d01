#include "context/snapshot.h"

#include <cstdint>
#include <limits>
#include <string>

#include "context/parse.h"
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
  ContextOverride infinite;
  infinite.power_w = std::numeric_limits<double>::infinity();
  EXPECT_EQ(ValidateOverride(infinite).message(), "power_w = inf is out of range (finite, >= 0)");
  ContextOverride inverted;
  inverted.memory_limit_bytes = 1000;
  inverted.memory_available_bytes = 1000000;
  EXPECT_EQ(ValidateOverride(inverted).message(),
            "memory_available_bytes = 1000000 exceeds memory_limit_bytes = 1000");
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

TEST(ReadingsTest, LimitMinusUsedSaturates) {
  Readings r;
  r.memory.push_back(
      {"cgroup", int64_t{1} << 62, std::numeric_limits<int64_t>::min(), std::nullopt});
  ContextSnapshot s = Combine(r);
  EXPECT_GT(s.memory_available_bytes, 0);  // no wrap into a negative number
  r.memory.clear();
  r.memory.push_back(
      {"cgroup", -(int64_t{1} << 62), std::numeric_limits<int64_t>::max(), std::nullopt});
  s = Combine(r);
  EXPECT_EQ(s.memory_available_bytes, 0);
}

TEST(ParseTest, ValidUtf8KeepsTextAndEscapesStrayBytes) {
  EXPECT_EQ(ValidUtf8("plain /sys/class/x: ok"), "plain /sys/class/x: ok");
  EXPECT_EQ(ValidUtf8("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x94\x8b"),
            "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x94\x8b");
  EXPECT_EQ(ValidUtf8("B\xffX"), "B\\xffX");
  EXPECT_EQ(ValidUtf8("\xc0\xaf"), "\\xc0\\xaf");                    // overlong '/'
  EXPECT_EQ(ValidUtf8("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // surrogate
  EXPECT_EQ(ValidUtf8("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
  EXPECT_EQ(ValidUtf8("cut \xe6\x97"), "cut \\xe6\\x97");            // truncated sequence
  EXPECT_EQ(ValidUtf8(std::string("a\0b\n", 4)), "a\\x00b\\x0a");
  const std::string once = ValidUtf8("x\xfe\xff\x01");
  EXPECT_EQ(ValidUtf8(once), once);
}

TEST(ParseTest, MakeValidUtf8CoversReasonAndValues) {
  SourceStatus status = MakeStatus("battery", SourceState::kDegraded, "/a/B\xffX: Is a directory");
  EXPECT_EQ(status.reason, "/a/B\\xffX: Is a directory");
  status.reason = "\xfe";
  status.values.emplace_back("k\xff", "v\xff");
  MakeValidUtf8(&status);
  EXPECT_EQ(status.reason, "\\xfe");
  EXPECT_EQ(status.values[0].first, "k\\xff");
  EXPECT_EQ(status.values[0].second, "v\\xff");
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
