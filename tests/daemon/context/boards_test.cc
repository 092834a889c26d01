// Each fake board parses to the values a person reading its files would expect.
#include <chrono>
#include <memory>

#include "context/default_sources.h"
#include "context/real_file_system.h"
#include "daemon/context/fake_tree.h"
#include "gtest/gtest.h"

namespace adaspring::context {
namespace {

using std::chrono::seconds;
using testing::ArmBoard;
using testing::FakeTree;
using testing::IntelLaptop;
using testing::ServerVm;

constexpr int64_t kMiB = 1024 * 1024;

SourceState StateOf(const ContextSnapshot& snapshot, const std::string& name) {
  const SourceStatus* status = snapshot.FindSource(name);
  return status ? status->state : SourceState::kUnspecified;
}

std::string ReasonOf(const ContextSnapshot& snapshot, const std::string& name) {
  const SourceStatus* status = snapshot.FindSource(name);
  return status ? status->reason : "<no such source>";
}

TEST(BoardsTest, IntelLaptopParsesToExpectedValues) {
  FakeTree tree(IntelLaptop());
  auto fs = std::make_shared<RealFileSystem>(tree.root());
  auto sources = MakeDefaultSources(fs);
  const SteadyTime t0 = std::chrono::steady_clock::now();
  const ContextSnapshot first = SampleSources(sources, t0);
  EXPECT_EQ(first.power_w, 0) << "one RAPL sample gives no power yet";

  // One second later: 10 J more package energy, 1000 jiffies of which 250 idle.
  tree.Write({{"/sys/class/powercap/intel-rapl:0/energy_uj", "11000000\n"},
              {"/proc/stat",
               "cpu  1600 0 650 8200 550 0 0 0 0 0\ncpu0 1 0 1 1 1 0 0 0 0 0\n"
               "cpu1 1 0 1 1 1 0 0 0 0 0\ncpu2 1 0 1 1 1 0 0 0 0 0\n"
               "cpu3 1 0 1 1 1 0 0 0 0 0\n"}});
  const ContextSnapshot s = SampleSources(sources, t0 + seconds(1));

  for (const char* name :
       {"rapl", "thermal", "cgroup", "meminfo", "psi", "cpu", "cpufreq", "battery"})
    EXPECT_EQ(StateOf(s, name), SourceState::kAvailable) << name << ": " << ReasonOf(s, name);
  EXPECT_EQ(StateOf(s, "hwmon"), SourceState::kAbsent);
  EXPECT_NE(ReasonOf(s, "hwmon").find("coretemp"), std::string::npos);

  EXPECT_NEAR(s.power_w, 10.0, 1e-9);
  EXPECT_DOUBLE_EQ(s.temperature_c, 62.0);       // x86_pkg_temp is the hottest zone
  EXPECT_DOUBLE_EQ(s.temperature_trip_c, 95.0);  // its passive trip
  EXPECT_TRUE(s.has_battery);
  EXPECT_DOUBLE_EQ(s.battery_percent, 57.0);  // the mouse battery (scope Device) is ignored
  EXPECT_TRUE(s.on_ac);
  EXPECT_EQ(s.memory_limit_bytes, 2048 * kMiB);
  EXPECT_EQ(s.memory_used_bytes, 300 * kMiB);
  EXPECT_EQ(s.memory_available_bytes, (2048 - 300) * kMiB);  // the cgroup binds, not MemAvailable
  EXPECT_DOUBLE_EQ(s.psi_cpu_some_avg10, 2.5);
  EXPECT_DOUBLE_EQ(s.psi_memory_some_avg10, 0.75);
  EXPECT_DOUBLE_EQ(s.psi_io_some_avg10, 1.25);
  EXPECT_EQ(s.cpu_count, 4u);
  EXPECT_NEAR(s.cpu_busy_fraction, 0.75, 1e-9);
  EXPECT_EQ(s.cpu_freq_khz, 2000000);
  EXPECT_EQ(s.cpu_max_freq_khz, 4200000);
}

TEST(BoardsTest, IntelLaptopOnBatteryWhenMainsOffline) {
  FakeTree tree(IntelLaptop());
  tree.Write({{"/sys/class/power_supply/AC/online", "0\n"},
              {"/sys/class/power_supply/BAT0/status", "Discharging\n"},
              {"/sys/class/power_supply/BAT0/capacity", "12\n"}});
  auto sources = MakeDefaultSources(std::make_shared<RealFileSystem>(tree.root()));
  const ContextSnapshot s = SampleSources(sources, std::chrono::steady_clock::now());
  EXPECT_FALSE(s.on_ac);
  EXPECT_DOUBLE_EQ(s.battery_percent, 12.0);
}

TEST(BoardsTest, ArmBoardUsesHwmonInaSensors) {
  FakeTree tree(ArmBoard());
  auto sources = MakeDefaultSources(std::make_shared<RealFileSystem>(tree.root()));
  const ContextSnapshot s = SampleSources(sources, std::chrono::steady_clock::now());

  EXPECT_EQ(StateOf(s, "rapl"), SourceState::kAbsent);
  EXPECT_NE(ReasonOf(s, "rapl").find("powercap"), std::string::npos);
  EXPECT_EQ(StateOf(s, "hwmon"), SourceState::kAvailable) << ReasonOf(s, "hwmon");
  // INA3221: VDD_IN 5.000 V x 1.200 A = 6 W (the other rails are inside it);
  // INA219: power1_input 1.5 W.
  EXPECT_NEAR(s.power_w, 7.5, 1e-9);
  EXPECT_EQ(StateOf(s, "thermal"), SourceState::kAvailable);
  EXPECT_DOUBLE_EQ(s.temperature_c, 51.54);
  EXPECT_DOUBLE_EQ(s.temperature_trip_c, 80.0);
  EXPECT_EQ(StateOf(s, "battery"), SourceState::kAbsent);
  EXPECT_FALSE(s.has_battery);
  EXPECT_TRUE(s.on_ac);
  // memory.max is "max" all the way up: MemAvailable and MemTotal bound the daemon.
  EXPECT_EQ(StateOf(s, "cgroup"), SourceState::kAvailable) << ReasonOf(s, "cgroup");
  EXPECT_EQ(s.memory_available_bytes, 2048 * kMiB);
  EXPECT_EQ(s.memory_limit_bytes, int64_t{3955188} * 1024);
  EXPECT_DOUBLE_EQ(s.psi_memory_some_avg10, 3.0);
  EXPECT_EQ(s.cpu_freq_khz, 1500000);
  EXPECT_EQ(s.cpu_max_freq_khz, 1800000);
  EXPECT_EQ(s.cpu_count, 4u);
}

TEST(BoardsTest, ServerVmHasOnlyProcAndCgroupV1) {
  FakeTree tree(ServerVm());
  auto sources = MakeDefaultSources(std::make_shared<RealFileSystem>(tree.root()));
  const ContextSnapshot s = SampleSources(sources, std::chrono::steady_clock::now());

  for (const char* name : {"rapl", "hwmon", "thermal", "cpufreq", "battery"})
    EXPECT_EQ(StateOf(s, name), SourceState::kAbsent) << name;
  for (const char* name : {"cgroup", "meminfo", "psi", "cpu"})
    EXPECT_EQ(StateOf(s, name), SourceState::kAvailable) << name << ": " << ReasonOf(s, name);
  const SourceStatus* cgroup = s.FindSource("cgroup");
  ASSERT_NE(cgroup, nullptr);
  EXPECT_EQ(cgroup->values.front(), std::make_pair(std::string("version"), std::string("v1")));
  // The v1 "unlimited" value is no limit: MemTotal and MemAvailable bound the daemon.
  EXPECT_EQ(s.memory_limit_bytes, int64_t{8152000} * 1024);
  EXPECT_EQ(s.memory_available_bytes, int64_t{7000000} * 1024);
  EXPECT_DOUBLE_EQ(s.psi_cpu_some_avg10, 12.0);
  EXPECT_DOUBLE_EQ(s.psi_io_some_avg10, 4.0);
  EXPECT_EQ(s.cpu_count, 2u);
  EXPECT_EQ(s.power_w, 0);
  EXPECT_TRUE(s.on_ac);
}

TEST(BoardsTest, CgroupV1LimitBindsWhenSet) {
  FakeTree tree(ServerVm());
  tree.Write({{"/sys/fs/cgroup/memory/docker/abc123/memory.limit_in_bytes", "536870912\n"}});
  auto sources = MakeDefaultSources(std::make_shared<RealFileSystem>(tree.root()));
  const ContextSnapshot s = SampleSources(sources, std::chrono::steady_clock::now());
  EXPECT_EQ(s.memory_limit_bytes, 512 * kMiB);
  EXPECT_EQ(s.memory_used_bytes, 50 * kMiB);
  EXPECT_EQ(s.memory_available_bytes, (512 - 50) * kMiB);
}

TEST(BoardsTest, CgroupV2AncestorLimitBinds) {
  FakeTree tree(IntelLaptop());
  tree.Write({{"/sys/fs/cgroup/user.slice/memory.max", "1073741824\n"}});
  auto sources = MakeDefaultSources(std::make_shared<RealFileSystem>(tree.root()));
  const ContextSnapshot s = SampleSources(sources, std::chrono::steady_clock::now());
  EXPECT_EQ(s.memory_limit_bytes, 1024 * kMiB);
  EXPECT_EQ(s.memory_available_bytes, (1024 - 300) * kMiB);
}

TEST(BoardsTest, ConfiguredCgroupIsASecondBound) {
  FakeTree tree(IntelLaptop());
  tree.Write({{"/sys/fs/cgroup/apps.slice/memory.current", "104857600\n"},
              {"/sys/fs/cgroup/apps.slice/memory.max", "209715200\n"}});
  SourceOptions options;
  options.extra_cgroup = "/apps.slice";
  auto sources = MakeDefaultSources(std::make_shared<RealFileSystem>(tree.root()), options);
  const ContextSnapshot s = SampleSources(sources, std::chrono::steady_clock::now());
  EXPECT_EQ(StateOf(s, "cgroup:/apps.slice"), SourceState::kAvailable);
  EXPECT_EQ(s.memory_available_bytes, 100 * kMiB);
  EXPECT_EQ(s.memory_limit_bytes, 200 * kMiB);

  tree.Remove("/sys/fs/cgroup/apps.slice");
  const ContextSnapshot gone = SampleSources(sources, std::chrono::steady_clock::now());
  EXPECT_EQ(StateOf(gone, "cgroup:/apps.slice"), SourceState::kDegraded);
  EXPECT_EQ(gone.memory_available_bytes, (2048 - 300) * kMiB);
}

TEST(BoardsTest, ThermalZoneThatVanishesIsSkipped) {
  FakeTree tree(IntelLaptop());
  auto sources = MakeDefaultSources(std::make_shared<RealFileSystem>(tree.root()));
  tree.Remove("/sys/class/thermal/thermal_zone1/temp");  // unplugged mid-listing
  const ContextSnapshot s = SampleSources(sources, std::chrono::steady_clock::now());
  EXPECT_EQ(StateOf(s, "thermal"), SourceState::kAvailable);
  EXPECT_DOUBLE_EQ(s.temperature_c, 45.0);
  EXPECT_DOUBLE_EQ(s.temperature_trip_c, 120.0);
  tree.Remove("/sys/class/thermal/thermal_zone0/temp");
  const ContextSnapshot none = SampleSources(sources, std::chrono::steady_clock::now());
  EXPECT_EQ(StateOf(none, "thermal"), SourceState::kDegraded);
  EXPECT_EQ(ReasonOf(none, "thermal"), "every thermal zone vanished");
}

}  // namespace
}  // namespace adaspring::context
