#include "context/cgroup_cpu_source.h"

#include <chrono>
#include <memory>
#include <string>

#include "context/readings.h"
#include "context/real_file_system.h"
#include "daemon/context/fake_tree.h"
#include "gtest/gtest.h"
#include "policy/budgets.h"

namespace adaspring::context {
namespace {

using testing::FakeTree;
using testing::TreeTable;

// A systemd service under cgroup v2.
TreeTable V2Service(const std::string& service_max, const std::string& slice_max) {
  return {{"/proc/self/cgroup", "0::/system.slice/adaspringd.service\n"},
          {"/proc/self/mountinfo", "30 1 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n"},
          {"/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n"},
          {"/sys/fs/cgroup/system.slice/cpu.max", slice_max},
          {"/sys/fs/cgroup/system.slice/adaspringd.service/cpu.max", service_max}};
}

// A container under cgroup v1 with cpu and cpuacct mounted together (the usual layout).
TreeTable V1Container(const std::string& quota, const std::string& rt_runtime) {
  const std::string dir = "/sys/fs/cgroup/cpu,cpuacct/docker/abc";
  return {{"/proc/self/cgroup", "11:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n0::/\n"},
          {"/proc/self/mountinfo",
           "41 30 0:36 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"},
          {"/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n"},
          {"/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n"},
          {"/sys/fs/cgroup/cpu,cpuacct/cpu.rt_runtime_us", "950000\n"},
          {"/sys/fs/cgroup/cpu,cpuacct/cpu.rt_period_us", "1000000\n"},
          {"/sys/fs/cgroup/cpu,cpuacct/docker/cpu.cfs_quota_us", "-1\n"},
          {"/sys/fs/cgroup/cpu,cpuacct/docker/cpu.cfs_period_us", "100000\n"},
          {dir + "/cpu.cfs_quota_us", quota},
          {dir + "/cpu.cfs_period_us", "100000\n"},
          {dir + "/cpu.rt_runtime_us", rt_runtime},
          {dir + "/cpu.rt_period_us", "10000\n"}};
}

struct Sampled {
  SourceStatus status;
  Readings readings;
};

Sampled Sample(const FakeTree& tree, bool realtime, int cpus = 2) {
  CgroupCpuSource source(
      std::make_shared<RealFileSystem>(tree.root()), [realtime] { return realtime; }, cpus);
  Sampled s;
  s.status = source.Sample(std::chrono::steady_clock::now(), &s.readings);
  return s;
}

std::string Value(const SourceStatus& status, const std::string& key) {
  for (const auto& [k, v] : status.values)
    if (k == key) return v;
  return "";
}

TEST(CgroupCpuSourceTest, V2TightestCpuMaxOnTheWayUpBinds) {
  {
    FakeTree tree(V2Service("50000 100000\n", "max 100000\n"));
    const Sampled s = Sample(tree, false);
    ASSERT_EQ(s.status.state, SourceState::kAvailable) << s.status.reason;
    ASSERT_TRUE(s.readings.sensed.cpu_quota_cores.has_value());
    EXPECT_DOUBLE_EQ(*s.readings.sensed.cpu_quota_cores, 0.5);
    EXPECT_NE(Value(s.status, "quota").find("adaspringd.service/cpu.max"), std::string::npos);
  }
  {
    // The slice is tighter than the service.
    FakeTree tree(V2Service("150000 100000\n", "25000 100000\n"));
    const Sampled s = Sample(tree, false);
    ASSERT_TRUE(s.readings.sensed.cpu_quota_cores.has_value());
    EXPECT_DOUBLE_EQ(*s.readings.sensed.cpu_quota_cores, 0.25);
    EXPECT_NE(Value(s.status, "quota").find("system.slice/cpu.max"), std::string::npos);
  }
  {
    FakeTree tree(V2Service("max 100000\n", "max 100000\n"));
    const Sampled s = Sample(tree, false);
    EXPECT_EQ(s.status.state, SourceState::kAvailable);
    EXPECT_FALSE(s.readings.sensed.cpu_quota_cores.has_value());
    EXPECT_EQ(Value(s.status, "quota"), "none");
  }
}

TEST(CgroupCpuSourceTest, V1CfsQuotaForNormalThreadsRealTimeRuntimeForRealTimeOnes) {
  FakeTree tree(V1Container("25000\n", "1250\n"));
  {
    const Sampled s = Sample(tree, false);
    ASSERT_EQ(s.status.state, SourceState::kAvailable) << s.status.reason;
    ASSERT_TRUE(s.readings.sensed.cpu_quota_cores.has_value());
    EXPECT_DOUBLE_EQ(*s.readings.sensed.cpu_quota_cores, 0.25);
  }
  {
    // 1250 us per 10 ms on each of 2 CPUs; the root's system-wide 95% does not count.
    const Sampled s = Sample(tree, true);
    ASSERT_EQ(s.status.state, SourceState::kAvailable) << s.status.reason;
    ASSERT_TRUE(s.readings.sensed.cpu_quota_cores.has_value());
    EXPECT_DOUBLE_EQ(*s.readings.sensed.cpu_quota_cores, 0.25);
    EXPECT_EQ(Value(s.status, "policy"), "real-time");
  }
  {
    FakeTree open(V1Container("-1\n", "-1\n"));
    EXPECT_FALSE(Sample(open, false).readings.sensed.cpu_quota_cores.has_value());
    EXPECT_FALSE(Sample(open, true).readings.sensed.cpu_quota_cores.has_value());
  }
}

TEST(CgroupCpuSourceTest, RealTimeThreadsUnderV2HaveNoLimitToRead) {
  FakeTree tree(V2Service("50000 100000\n", "max 100000\n"));
  const Sampled s = Sample(tree, true);
  EXPECT_EQ(s.status.state, SourceState::kAvailable);
  EXPECT_FALSE(s.readings.sensed.cpu_quota_cores.has_value());
  EXPECT_NE(Value(s.status, "note").find("no real-time"), std::string::npos);
}

TEST(CgroupCpuSourceTest, GarbageIsNamedAndMissingControllersAreAbsent) {
  {
    FakeTree tree(V2Service("banana\n", "max 100000\n"));
    const Sampled s = Sample(tree, false);
    EXPECT_EQ(s.status.state, SourceState::kDegraded);
    EXPECT_NE(s.status.reason.find("adaspringd.service/cpu.max"), std::string::npos)
        << s.status.reason;
    EXPECT_FALSE(s.readings.sensed.cpu_quota_cores.has_value());
  }
  {
    FakeTree tree(V2Service("-5 100000\n", "max 100000\n"));
    EXPECT_EQ(Sample(tree, false).status.state, SourceState::kDegraded);
  }
  {
    FakeTree tree(V1Container("lots\n", "-1\n"));
    const Sampled s = Sample(tree, false);
    EXPECT_EQ(s.status.state, SourceState::kDegraded);
    EXPECT_NE(s.status.reason.find("docker/abc/cpu.cfs_quota_us"), std::string::npos)
        << s.status.reason;
  }
  {
    FakeTree tree({{"/proc/self/cgroup", "0::/\n"},
                   {"/proc/self/mountinfo", "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"},
                   {"/sys/fs/cgroup/cgroup.controllers", "memory\n"}});
    const Sampled s = Sample(tree, false);
    EXPECT_EQ(s.status.state, SourceState::kAbsent);
    EXPECT_EQ(s.status.reason, "no cpu cgroup controller");
  }
  {
    FakeTree tree;
    EXPECT_EQ(Sample(tree, false).status.state, SourceState::kAbsent);
  }
}

TEST(CgroupCpuSourceTest, TheQuotaCapsTheCpuBudget) {
  daemon::PolicyConfig policy;
  ContextSnapshot s;
  s.cpu_count = 2;
  const double open = daemon::ComputeBudgets(s, policy, 0, false).cpu_capacity;
  s.cpu_quota_cores = 0.5;
  const daemon::Budgets capped = daemon::ComputeBudgets(s, policy, 0, false);
  EXPECT_DOUBLE_EQ(capped.cpu_capacity, 0.5 * (1.0 - policy.cpu_reserve_fraction));
  EXPECT_LT(capped.cpu_capacity, open);
  bool noted = false;
  for (const auto& note : capped.notes)
    noted |= note.find("cgroup quota 0.50 cores") != std::string::npos;
  EXPECT_TRUE(noted);
  // A quota above what the machine has left binds nothing.
  s.cpu_quota_cores = 8;
  EXPECT_DOUBLE_EQ(daemon::ComputeBudgets(s, policy, 0, false).cpu_capacity, open);
}

}  // namespace
}  // namespace adaspring::context
