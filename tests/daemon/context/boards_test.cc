// Each fake board parses to the values a person reading its files would expect.
#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>

#include "context/default_sources.h"
#include "context/faulty_file_system.h"
#include "context/parse.h"
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
using testing::TreeTable;

constexpr int64_t kMiB = 1024 * 1024;

SourceState StateOf(const ContextSnapshot& snapshot, const std::string& name) {
  const SourceStatus* status = snapshot.FindSource(name);
  return status ? status->state : SourceState::kUnspecified;
}

std::string ReasonOf(const ContextSnapshot& snapshot, const std::string& name) {
  const SourceStatus* status = snapshot.FindSource(name);
  return status ? status->reason : "<no such source>";
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// One sample of the default sources on a tree.
ContextSnapshot SampleTree(const FakeTree& tree, const SourceOptions& options = {}) {
  auto sources = MakeDefaultSources(std::make_shared<RealFileSystem>(tree.root()), options);
  return SampleSources(sources, std::chrono::steady_clock::now());
}

// Asserts that `source` is degraded with a reason containing every part.
void ExpectDegraded(const ContextSnapshot& s, const std::string& source,
                    std::initializer_list<std::string> parts) {
  EXPECT_EQ(StateOf(s, source), SourceState::kDegraded) << source << ": " << ReasonOf(s, source);
  for (const std::string& part : parts)
    EXPECT_TRUE(Contains(ReasonOf(s, source), part))
        << source << " reason \"" << ReasonOf(s, source) << "\" lacks \"" << part << "\"";
}

constexpr char kCgroupDir[] = "/sys/fs/cgroup/user.slice/adaspringd.service";

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

TEST(BoardsTest, ADaemonMovedToAnotherCgroupIsFollowedAtTheNextSample) {
  FakeTree tree(IntelLaptop());
  auto sources = MakeDefaultSources(std::make_shared<RealFileSystem>(tree.root()));
  const ContextSnapshot before = SampleSources(sources, std::chrono::steady_clock::now());
  EXPECT_EQ(before.memory_limit_bytes, 2048 * kMiB);

  // Both cgroups exist: only /proc/self/cgroup says which one the daemon is in now.
  tree.Write({{"/sys/fs/cgroup/capped.slice/memory.current", "52428800\n"},
              {"/sys/fs/cgroup/capped.slice/memory.max", "268435456\n"},
              {"/proc/self/cgroup", "0::/capped.slice\n"}});
  const ContextSnapshot after = SampleSources(sources, std::chrono::steady_clock::now());
  EXPECT_EQ(StateOf(after, "cgroup"), SourceState::kAvailable) << ReasonOf(after, "cgroup");
  EXPECT_EQ(after.memory_limit_bytes, 256 * kMiB);
  EXPECT_EQ(after.memory_available_bytes, (256 - 50) * kMiB);
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

// --- Implausible values (audit of the context readers) -------------------------------------

TEST(BoardsTest, MeminfoValuesThatOverflowInBytesAreOutOfRange) {
  for (const char* total : {"9223372036854775807", "18014398509481985"}) {
    FakeTree tree(IntelLaptop());
    tree.Write(
        {{"/proc/meminfo", std::string("MemTotal: ") + total + " kB\nMemAvailable: 1 kB\n"}});
    const ContextSnapshot s = SampleTree(tree);
    ExpectDegraded(s, "meminfo",
                   {std::string("/proc/meminfo: MemTotal ") + total + " kB out of range"});
    // The cgroup still bounds memory; nothing from meminfo is published.
    EXPECT_EQ(s.memory_limit_bytes, 2048 * kMiB);
    EXPECT_EQ(s.memory_available_bytes, (2048 - 300) * kMiB);
  }
}

TEST(BoardsTest, NegativeMemAvailableIsNotAnOldKernel) {
  FakeTree tree(ServerVm());
  tree.Write({{"/proc/meminfo", "MemTotal: 16303428 kB\nMemAvailable: -5 kB\n"}});
  const ContextSnapshot s = SampleTree(tree);
  ExpectDegraded(s, "meminfo", {"/proc/meminfo: MemAvailable -5 kB out of range"});
  EXPECT_EQ(s.memory_available_bytes, 0);  // no bound at all: the v1 cgroup is unlimited
  EXPECT_EQ(s.memory_limit_bytes, 0);
}

TEST(BoardsTest, MeminfoWithoutMemAvailableSumsWithinMemTotal) {
  FakeTree tree(ServerVm());
  tree.Write({{"/proc/meminfo",
               "MemTotal: 1000 kB\nMemFree: 9007199254740991 kB\nBuffers: 9007199254740991 kB\n"
               "Cached: 9007199254740991 kB\n"}});
  const ContextSnapshot s = SampleTree(tree);
  EXPECT_EQ(StateOf(s, "meminfo"), SourceState::kAvailable) << ReasonOf(s, "meminfo");
  EXPECT_EQ(s.memory_available_bytes, 1000 * 1024);
  EXPECT_EQ(s.memory_limit_bytes, 1000 * 1024);
}

TEST(BoardsTest, CgroupV2NegativeValuesDegrade) {
  {
    FakeTree tree(IntelLaptop());
    tree.Write({{std::string(kCgroupDir) + "/memory.max", "-1\n"}});
    const ContextSnapshot s = SampleTree(tree);
    ExpectDegraded(s, "cgroup", {std::string(kCgroupDir) + "/memory.max: negative value -1"});
    EXPECT_GT(s.memory_limit_bytes, 0);  // MemTotal
  }
  {
    FakeTree tree(IntelLaptop());
    tree.Write({{std::string(kCgroupDir) + "/memory.current", "-9000000000\n"}});
    const ContextSnapshot s = SampleTree(tree);
    ExpectDegraded(s, "cgroup",
                   {std::string(kCgroupDir) + "/memory.current: negative value -9000000000"});
    EXPECT_GE(s.memory_used_bytes, 0);
    EXPECT_LE(s.memory_available_bytes, s.memory_limit_bytes);
  }
}

TEST(BoardsTest, CgroupV1NegativeValuesDegrade) {
  constexpr char kDir[] = "/sys/fs/cgroup/memory/docker/abc123";
  {
    FakeTree tree(ServerVm());
    tree.Write({{std::string(kDir) + "/memory.limit_in_bytes", "-4096\n"}});
    const ContextSnapshot s = SampleTree(tree);
    ExpectDegraded(s, "cgroup", {"memory.limit_in_bytes: negative value -4096"});
    EXPECT_EQ(s.memory_limit_bytes, int64_t{8152000} * 1024);  // MemTotal
  }
  {
    FakeTree tree(ServerVm());
    tree.Write({{std::string(kDir) + "/memory.limit_in_bytes", "4611686018427387903\n"},
                {std::string(kDir) + "/memory.usage_in_bytes", "-9223372036854775808\n"}});
    const ContextSnapshot s = SampleTree(tree);
    ExpectDegraded(s, "cgroup", {"memory.usage_in_bytes: negative value -9223372036854775808"});
    EXPECT_GE(s.memory_used_bytes, 0);
  }
}

TEST(BoardsTest, HwmonNegativeOrAbsurdPowerDegrades) {
  struct Case {
    TreeTable change;
    std::string reason;
  };
  const Case cases[] = {
      {{{"/sys/class/hwmon/hwmon0/in1_input", "-5000\n"}},
       "/sys/class/hwmon/hwmon0/in1_input: negative value -5000 mV"},
      {{{"/sys/class/hwmon/hwmon1/power1_input", "-70000000\n"}},
       "/sys/class/hwmon/hwmon1/power1_input: negative value -70000000 uW"},
      {{{"/sys/class/hwmon/hwmon1/power1_input", "20000000000\n"}},
       "/sys/class/hwmon/hwmon1/power1_input: implausible 20000 W"},
      {{{"/sys/class/hwmon/hwmon0/in1_input", "9223372036854775807\n"},
        {"/sys/class/hwmon/hwmon0/curr1_input", "9223372036854775807\n"}},
       "/sys/class/hwmon/hwmon0/in1_input (9223372036854775807 mV) x curr1_input "
       "(9223372036854775807 mA): implausible 8.50706e+31 W"},
  };
  for (const Case& c : cases) {
    FakeTree tree(ArmBoard());
    tree.Write(c.change);
    const ContextSnapshot s = SampleTree(tree);
    ExpectDegraded(s, "hwmon", {c.reason});
    EXPECT_EQ(s.power_w, 0) << c.reason;
  }
}

TEST(BoardsTest, UnreadableHwmonDeviceIsReportedNotSwallowed) {
  FakeTree tree(ArmBoard());
  auto faulty = std::make_shared<FaultyFileSystem>(std::make_shared<RealFileSystem>(tree.root()));
  faulty->Inject("/sys/class/hwmon/hwmon*", Fault::kPermissionDenied);
  auto sources = MakeDefaultSources(faulty);
  const ContextSnapshot none = SampleSources(sources, std::chrono::steady_clock::now());
  ExpectDegraded(none, "hwmon", {"/sys/class/hwmon/hwmon0: Permission denied"});

  // One unreadable device among readable ones: power from the others, the bad one named.
  faulty->ClearFaults();
  faulty->Inject("/sys/class/hwmon/hwmon0", Fault::kPermissionDenied);
  const ContextSnapshot some = SampleSources(sources, std::chrono::steady_clock::now());
  EXPECT_EQ(StateOf(some, "hwmon"), SourceState::kAvailable);
  EXPECT_EQ(ReasonOf(some, "hwmon"), "/sys/class/hwmon/hwmon0: Permission denied");
  EXPECT_NEAR(some.power_w, 1.5, 1e-9);  // the INA219 alone
}

TEST(BoardsTest, NanBatteryCapacityDegrades) {
  for (const char* value : {"nan", "-nan", "101"}) {
    FakeTree tree(IntelLaptop());
    tree.Write({{"/sys/class/power_supply/BAT0/capacity", std::string(value) + "\n"}});
    const ContextSnapshot s = SampleTree(tree);
    ExpectDegraded(s, "battery", {"/sys/class/power_supply/BAT0/capacity: implausible"});
    EXPECT_FALSE(s.has_battery) << value;
    EXPECT_EQ(s.battery_percent, 0) << value;
  }
}

TEST(BoardsTest, BatteryEnergyRatioIsClampedOrNamesEnergyNow) {
  constexpr char kBat[] = "/sys/class/power_supply/BAT0";
  auto tree_with = [&](const std::string& now, const std::string& full) {
    auto tree = std::make_unique<FakeTree>(IntelLaptop());
    tree->Remove(std::string(kBat) + "/capacity");
    tree->Write({{std::string(kBat) + "/energy_now", now + "\n"},
                 {std::string(kBat) + "/energy_full", full + "\n"}});
    return tree;
  };
  {
    auto tree = tree_with("51000000", "50000000");  // 102 %: a full battery's gauge
    const ContextSnapshot s = SampleTree(*tree);
    EXPECT_EQ(StateOf(s, "battery"), SourceState::kAvailable) << ReasonOf(s, "battery");
    EXPECT_DOUBLE_EQ(s.battery_percent, 100.0);
  }
  {
    auto tree = tree_with("60000000", "50000000");  // 120 %
    const ContextSnapshot s = SampleTree(*tree);
    ExpectDegraded(
        s, "battery",
        {std::string(kBat) + "/energy_now: implausible 6e+07 uWh, 120 % of energy_full"});
    EXPECT_FALSE(s.has_battery);
  }
  {
    auto tree = tree_with("junk", "50000000");
    const ContextSnapshot s = SampleTree(*tree);
    ExpectDegraded(s, "battery", {std::string(kBat) + "/energy_now: garbage", "junk"});
  }
  {
    auto tree = tree_with("nan", "50000000");
    const ContextSnapshot s = SampleTree(*tree);
    ExpectDegraded(s, "battery", {std::string(kBat) + "/energy_now: implausible nan uWh"});
  }
  {
    auto tree = tree_with("100", "0");
    const ContextSnapshot s = SampleTree(*tree);
    ExpectDegraded(s, "battery", {std::string(kBat) + "/energy_full: implausible 0 uWh"});
  }
}

TEST(BoardsTest, ImplausibleTripPointIsSkippedAndNamed) {
  FakeTree tree(IntelLaptop());
  tree.Write({{"/sys/class/thermal/thermal_zone1/trip_point_0_temp", "9223372036854775807\n"}});
  const ContextSnapshot s = SampleTree(tree);
  EXPECT_EQ(StateOf(s, "thermal"), SourceState::kAvailable);
  EXPECT_DOUBLE_EQ(s.temperature_c, 62.0);
  EXPECT_DOUBLE_EQ(s.temperature_trip_c, 105.0);  // the critical trip; the passive one is absurd
  EXPECT_EQ(ReasonOf(s, "thermal"),
            "/sys/class/thermal/thermal_zone1/trip_point_0_temp: implausible "
            "9223372036854775807 millidegrees, ignored");
}

TEST(BoardsTest, UnreadableOrImplausibleZoneKeepsItsErrorText) {
  {
    FakeTree tree(IntelLaptop());
    tree.Remove("/sys/class/thermal/thermal_zone1/temp");
    tree.Write({{"/sys/class/thermal/thermal_zone1/temp/", ""}});  // a directory
    const ContextSnapshot s = SampleTree(tree);
    EXPECT_EQ(StateOf(s, "thermal"), SourceState::kAvailable);
    EXPECT_DOUBLE_EQ(s.temperature_c, 45.0);
    EXPECT_EQ(ReasonOf(s, "thermal"),
              "1 of 2 zones skipped: /sys/class/thermal/thermal_zone1/temp: Is a directory");
    const SourceStatus* thermal = s.FindSource("thermal");
    ASSERT_NE(thermal, nullptr);
    EXPECT_EQ(thermal->values[1].second,
              "x86_pkg_temp unreadable: /sys/class/thermal/thermal_zone1/temp: Is a directory");
  }
  {
    FakeTree tree(IntelLaptop());
    tree.Write({{"/sys/class/thermal/thermal_zone1/temp", "300000\n"}});
    const ContextSnapshot s = SampleTree(tree);
    EXPECT_TRUE(
        Contains(ReasonOf(s, "thermal"), "thermal_zone1/temp: implausible 300000 millidegrees"))
        << ReasonOf(s, "thermal");
    EXPECT_DOUBLE_EQ(s.temperature_c, 45.0);
  }
}

TEST(BoardsTest, CpufreqNegativeOrHugeValuesDegrade) {
  {
    FakeTree tree(IntelLaptop());
    for (int cpu = 0; cpu < 4; ++cpu) {
      const std::string dir = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/cpufreq/";
      tree.Write({{dir + "scaling_cur_freq", "-2400000\n"}, {dir + "cpuinfo_max_freq", "-1\n"}});
    }
    const ContextSnapshot s = SampleTree(tree);
    ExpectDegraded(s, "cpufreq", {"cpu0/cpufreq/scaling_cur_freq: negative value -2400000 kHz"});
    EXPECT_EQ(s.cpu_freq_khz, 0);
    EXPECT_EQ(s.cpu_max_freq_khz, 0);
  }
  {
    FakeTree tree(IntelLaptop());
    for (int cpu = 0; cpu < 4; ++cpu)
      tree.Write(
          {{"/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/cpufreq/scaling_cur_freq",
            "9223372036854775807\n"}});
    const ContextSnapshot s = SampleTree(tree);
    ExpectDegraded(s, "cpufreq",
                   {"implausible value 9223372036854775807 kHz (expected "
                    "1..100000000 kHz)"});
    EXPECT_EQ(s.cpu_freq_khz, 0);
  }
}

TEST(BoardsTest, ProcStatCountsOnlyCpuDigitLines) {
  FakeTree tree(IntelLaptop());
  tree.Write({{"/proc/stat",
               "cpufoo\ncpubar\ncpu  10 0 5 80 5 0 0 0 0 0\ncpu0 1 0 1 1 1 0 0 0 0 0\n"
               "cpu12x 1 0 1 1 1\nintr\n"}});
  const ContextSnapshot s = SampleTree(tree);
  EXPECT_EQ(StateOf(s, "cpu"), SourceState::kAvailable) << ReasonOf(s, "cpu");
  EXPECT_EQ(s.cpu_count, 1u);
  tree.Write({{"/proc/stat", "cpufoo\ncpubar\ncpu  10 0 5 80 5 0 0 0 0 0\nintr\n"}});
  ExpectDegraded(SampleTree(tree), "cpu", {"/proc/stat: garbage"});
}

TEST(BoardsTest, PsiOutOfRangeNamesTheValue) {
  for (const char* value : {"200", "nan"}) {
    FakeTree tree(IntelLaptop());
    tree.Write({{"/proc/pressure/io",
                 std::string("some avg10=") + value + " avg60=0.50 avg300=0.20 total=1\n"}});
    const ContextSnapshot s = SampleTree(tree);
    ExpectDegraded(s, "psi",
                   {std::string("/proc/pressure/io: implausible \"some avg10=") + value +
                    "\" (expected a percentage 0..100)"});
    // The other two resources keep their values.
    EXPECT_GT(s.psi_cpu_some_avg10 + s.psi_memory_some_avg10, 0) << ReasonOf(s, "psi");
  }
}

// One supply whose driver misbehaves (here its type is a directory) costs only itself: the
// battery is still read, and the reason names the entry that was skipped.
TEST(BoardsTest, OneBrokenSupplyDoesNotHideTheBattery) {
  FakeTree tree(IntelLaptop());
  tree.Remove("/sys/class/power_supply/AC/type");
  std::filesystem::create_directories(tree.root() + "/sys/class/power_supply/AC/type");
  const ContextSnapshot s = SampleTree(tree);
  EXPECT_EQ(StateOf(s, "battery"), SourceState::kAvailable) << ReasonOf(s, "battery");
  EXPECT_TRUE(s.has_battery);
  EXPECT_DOUBLE_EQ(s.battery_percent, 57.0);
  EXPECT_NE(ReasonOf(s, "battery").find("1 supply entry skipped: "), std::string::npos)
      << ReasonOf(s, "battery");
  EXPECT_NE(ReasonOf(s, "battery").find("power_supply/AC/type"), std::string::npos)
      << ReasonOf(s, "battery");
}

TEST(BoardsTest, OversizedFileIsReportedAsCutAtTheReadLimit) {
  FakeTree tree(IntelLaptop());
  tree.Write({{"/proc/meminfo", std::string(200 * 1024, 'x')}});
  ExpectDegraded(SampleTree(tree), "meminfo", {"/proc/meminfo: cut at 64 KiB, the read limit"});
}

TEST(BoardsTest, FifoIsNotARegularFile) {
  FakeTree tree(IntelLaptop());
  tree.Remove("/proc/meminfo");
  ASSERT_EQ(mkfifo((tree.root() + "/proc/meminfo").c_str(), 0600), 0);
  ExpectDegraded(SampleTree(tree), "meminfo", {"/proc/meminfo: not a regular file (a FIFO)"});
}

// Directory and cgroup names are bytes, not UTF-8; reasons carry them escaped.
TEST(BoardsTest, GarbageInProcSelfCgroupIsNamedNotReadAsNoCgroup) {
  for (const std::string& garbage : {std::string("\x01\x02 not a cgroup file\n"),
                                     std::string("memory\n0:/x\n"), std::string()}) {
    FakeTree tree(IntelLaptop());
    tree.Write({{"/proc/self/cgroup", garbage}});
    const ContextSnapshot s = SampleTree(tree);
    EXPECT_EQ(StateOf(s, "cgroup"), SourceState::kDegraded) << garbage;
    EXPECT_NE(ReasonOf(s, "cgroup").find("/proc/self/cgroup"), std::string::npos)
        << ReasonOf(s, "cgroup");
    // The other memory source still answers.
    EXPECT_EQ(StateOf(s, "meminfo"), SourceState::kAvailable);
  }
}

TEST(BoardsTest, NonUtf8NamesAreEscapedInReasons) {
  {
    FakeTree tree(IntelLaptop());
    tree.Write({{"/sys/class/power_supply/B\xffX/type/", ""}});
    const ContextSnapshot s = SampleTree(tree);
    // The broken entry is skipped (BAT0 is still read) and named in the reason.
    EXPECT_EQ(StateOf(s, "battery"), SourceState::kAvailable);
    EXPECT_NE(ReasonOf(s, "battery").find("/sys/class/power_supply/B\\xffX/type: Is a directory"),
              std::string::npos)
        << ReasonOf(s, "battery");
    EXPECT_EQ(ValidUtf8(ReasonOf(s, "battery")), ReasonOf(s, "battery"));
  }
  {
    FakeTree tree(IntelLaptop());
    tree.Write({{"/proc/self/cgroup",
                 "0::/user.slice/a\xff"
                 "b.service\n"},
                {"/sys/fs/cgroup/user.slice/a\xff"
                 "b.service/memory.current/",
                 ""}});
    const ContextSnapshot s = SampleTree(tree);
    ExpectDegraded(s, "cgroup",
                   {"/sys/fs/cgroup/user.slice/a\\xffb.service/memory.current: Is a directory"});
  }
}

}  // namespace
}  // namespace adaspring::context
