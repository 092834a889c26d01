// Every injected fault leaves the monitor running, with the affected source degraded (or
// absent) and the reason spelled out.
#include "context/faulty_file_system.h"

#include <chrono>
#include <memory>
#include <string>

#include "context/default_sources.h"
#include "context/real_file_system.h"
#include "daemon/context/fake_tree.h"
#include "daemon/context/monitor_harness.h"
#include "gtest/gtest.h"

namespace adaspring::context {
namespace {

using std::chrono::milliseconds;

struct FaultCase {
  const char* label;
  const char* pattern;
  Fault fault;
  const char* source;
  SourceState state;
  const char* reason_part;
};

const FaultCase kCases[] = {
    {"rapl_eacces", "*/energy_uj", Fault::kPermissionDenied, "rapl", SourceState::kDegraded,
     "root-only since CVE-2020-8694"},
    {"rapl_garbage", "*/intel-rapl:0/energy_uj", Fault::kGarbage, "rapl", SourceState::kDegraded,
     "garbage"},
    {"meminfo_enoent", "/proc/meminfo", Fault::kNotFound, "meminfo", SourceState::kAbsent,
     "no /proc/meminfo"},
    {"meminfo_short", "/proc/meminfo", Fault::kShortRead, "meminfo", SourceState::kDegraded,
     "short read"},
    {"thermal_short", "*/thermal_zone*/temp", Fault::kShortRead, "thermal", SourceState::kDegraded,
     "short read"},
    {"thermal_eacces", "*/thermal_zone*/temp", Fault::kPermissionDenied, "thermal",
     SourceState::kDegraded, "Permission denied"},
    {"psi_garbage", "/proc/pressure/memory", Fault::kGarbage, "psi", SourceState::kDegraded,
     "garbage"},
    {"cpu_garbage", "/proc/stat", Fault::kGarbage, "cpu", SourceState::kDegraded, "garbage"},
    {"cpu_eintr_forever", "/proc/stat", Fault::kInterrupted, "cpu", SourceState::kDegraded,
     "Interrupted system call"},
    {"cgroup_eacces", "*/memory.current", Fault::kPermissionDenied, "cgroup",
     SourceState::kDegraded, "Permission denied"},
    {"cgroup_garbage", "*/adaspringd.service/memory.max", Fault::kGarbage, "cgroup",
     SourceState::kDegraded, "garbage"},
    {"battery_garbage", "*/BAT0/capacity", Fault::kGarbage, "battery", SourceState::kDegraded,
     "garbage"},
    {"battery_list_eacces", "/sys/class/power_supply", Fault::kPermissionDenied, "battery",
     SourceState::kDegraded, "Permission denied"},
    {"cpufreq_short", "*/cpu0/cpufreq/scaling_cur_freq", Fault::kShortRead, "cpufreq",
     SourceState::kDegraded, "short read"},
};

class FaultTest : public ::testing::TestWithParam<FaultCase> {};

TEST_P(FaultTest, SourceDegradesAndMonitorKeepsRunning) {
  const FaultCase& c = GetParam();
  testing::FakeTree tree(testing::IntelLaptop());
  auto faulty = std::make_shared<FaultyFileSystem>(std::make_shared<RealFileSystem>(tree.root()));
  faulty->Inject(c.pattern, c.fault);
  ContextMonitorOptions options;
  options.period = milliseconds(20);
  options.psi_trigger_path = "";
  testing::MonitorHarness harness(faulty, MakeDefaultSources(faulty), options);
  harness.monitor().Start();

  auto degraded = harness.WaitFor([&](const ContextSnapshot& s) {
    const SourceStatus* status = s.FindSource(c.source);
    return status && status->state == c.state;
  });
  ASSERT_TRUE(degraded.has_value())
      << c.label << ": source never became " << SourceStateName(c.state);
  const SourceStatus* status = degraded->FindSource(c.source);
  EXPECT_NE(status->reason.find(c.reason_part), std::string::npos)
      << c.label << ": reason \"" << status->reason << "\"";
  // The other sources are unaffected.
  EXPECT_EQ(degraded->FindSource("psi" == std::string(c.source) ? "cpu" : "psi")->state,
            SourceState::kAvailable);

  // Still sampling: a later snapshot arrives, and once the fault is gone the source recovers.
  faulty->ClearFaults();
  auto recovered = harness.WaitFor(
      [&](const ContextSnapshot& s) {
        const SourceStatus* st = s.FindSource(c.source);
        return st && st->state == SourceState::kAvailable;
      },
      degraded->sequence);
  EXPECT_TRUE(recovered.has_value()) << c.label << ": source did not recover";
}

INSTANTIATE_TEST_SUITE_P(AllFaults, FaultTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<FaultCase>& info) {
                           return std::string(info.param.label);
                         });

TEST(FaultyFileSystemTest, InterruptedReadsAreRetried) {
  testing::FakeTree tree(testing::TreeTable{{"/proc/loadavg", "0.10 0.20 0.30 1/100 42\n"}});
  FaultyFileSystem fs(std::make_shared<RealFileSystem>(tree.root()));
  fs.Inject("/proc/loadavg", Fault::kInterrupted, FileSystem::kMaxInterruptRetries);
  absl::StatusOr<std::string> content = fs.ReadFile("/proc/loadavg");
  ASSERT_TRUE(content.ok()) << content.status();
  EXPECT_EQ(*content, "0.10 0.20 0.30 1/100 42\n");
  fs.Inject("/proc/loadavg", Fault::kInterrupted, FileSystem::kMaxInterruptRetries + 1);
  EXPECT_FALSE(fs.ReadFile("/proc/loadavg").ok());
}

TEST(FaultyFileSystemTest, ErrnoBecomesStatusWithPath) {
  testing::FakeTree tree;
  FaultyFileSystem fs(std::make_shared<RealFileSystem>(tree.root()));
  fs.Inject("/a", Fault::kPermissionDenied);
  absl::StatusOr<std::string> denied = fs.ReadFile("/a");
  EXPECT_TRUE(absl::IsPermissionDenied(denied.status()));
  EXPECT_EQ(denied.status().message(), "/a: Permission denied");
  absl::StatusOr<std::string> missing = fs.ReadFile("/b");
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
  EXPECT_EQ(missing.status().message(), "/b: No such file or directory");
}

// A read that hangs (a wedged driver) must not stall the loop: the source is reported as
// timed out, the others keep updating, and it comes back once the read returns.
TEST(FaultyFileSystemTest, StalledReadTimesOutWithoutBlockingTheLoop) {
  testing::FakeTree tree(testing::IntelLaptop());
  auto faulty = std::make_shared<FaultyFileSystem>(std::make_shared<RealFileSystem>(tree.root()));
  faulty->Inject("*/thermal_zone1/temp", Fault::kStall, 1);
  ContextMonitorOptions options;
  options.period = milliseconds(20);
  options.read_timeout = milliseconds(100);
  options.psi_trigger_path = "";
  testing::MonitorHarness harness(faulty, MakeDefaultSources(faulty), options);
  harness.monitor().Start();

  auto timed_out = harness.WaitFor([](const ContextSnapshot& s) {
    const SourceStatus* thermal = s.FindSource("thermal");
    return thermal && thermal->state == SourceState::kDegraded;
  });
  ASSERT_TRUE(timed_out.has_value());
  // The reason names the file whose read hung.
  EXPECT_NE(timed_out->FindSource("thermal")->reason.find(
                "/sys/class/thermal/thermal_zone1/temp: read timed out after 100 ms"),
            std::string::npos)
      << timed_out->FindSource("thermal")->reason;
  EXPECT_EQ(timed_out->FindSource("battery")->state, SourceState::kAvailable);
  EXPECT_EQ(faulty->stalled_reads(), 1);

  // The loop keeps publishing while the read is still blocked, with fresh values elsewhere.
  tree.Write({{"/sys/class/power_supply/BAT0/capacity", "42\n"}});
  auto fresh = harness.WaitFor([](const ContextSnapshot& s) { return s.battery_percent == 42.0; },
                               timed_out->sequence);
  ASSERT_TRUE(fresh.has_value());
  EXPECT_EQ(fresh->FindSource("thermal")->state, SourceState::kDegraded);

  faulty->ReleaseStalls();
  auto back = harness.WaitFor(
      [](const ContextSnapshot& s) {
        return s.FindSource("thermal")->state == SourceState::kAvailable;
      },
      fresh->sequence);
  ASSERT_TRUE(back.has_value());
  EXPECT_DOUBLE_EQ(back->temperature_c, 62.0);
}

}  // namespace
}  // namespace adaspring::context
