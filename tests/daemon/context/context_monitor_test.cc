#include "context/context_monitor.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "context/default_sources.h"
#include "context/real_file_system.h"
#include "context/replay_source.h"
#include "context/trace.h"
#include "daemon/context/fake_tree.h"
#include "daemon/context/monitor_harness.h"
#include "gtest/gtest.h"

namespace adaspring::context {
namespace {

using std::chrono::milliseconds;
constexpr int64_t kMiB = 1024 * 1024;

ContextMonitorOptions FastOptions() {
  ContextMonitorOptions options;
  options.period = milliseconds(20);
  options.psi_trigger_path = "";
  return options;
}

TEST(ContextMonitorTest, PublishesNumberedSnapshotsEveryPeriod) {
  testing::FakeTree tree(testing::ServerVm());
  auto fs = std::make_shared<RealFileSystem>(tree.root());
  testing::MonitorHarness harness(fs, MakeDefaultSources(fs), FastOptions());
  EXPECT_EQ(harness.monitor().Latest().sequence, 0u);
  harness.monitor().Start();
  ASSERT_TRUE(harness.WaitFor([](const ContextSnapshot& s) { return s.sequence >= 5; }));
  const std::vector<ContextSnapshot> log = harness.Log();
  for (size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].sequence, i + 1);
    EXPECT_EQ(log[i].cause, "timer");
    if (i > 0) {
      EXPECT_GE(log[i].steady_time, log[i - 1].steady_time);
    }
  }
  EXPECT_GE(harness.monitor().Latest().sequence, 5u);
  EXPECT_EQ(harness.monitor().Latest().memory_limit_bytes, int64_t{8152000} * 1024);
}

TEST(ContextMonitorTest, SampleNowPublishesWithItsCause) {
  testing::FakeTree tree(testing::ServerVm());
  auto fs = std::make_shared<RealFileSystem>(tree.root());
  ContextMonitorOptions options = FastOptions();
  options.period = std::chrono::hours(1);  // only the first tick and the request
  testing::MonitorHarness harness(fs, MakeDefaultSources(fs), options);
  harness.monitor().Start();
  auto first = harness.WaitFor([](const ContextSnapshot&) { return true; });
  ASSERT_TRUE(first);
  harness.monitor().SampleNow("policy");
  EXPECT_TRUE(harness.WaitFor([](const ContextSnapshot& s) { return s.cause == "policy"; }));
}

TEST(ContextMonitorTest, OverrideAppliesAndClears) {
  testing::FakeTree tree(testing::IntelLaptop());
  auto fs = std::make_shared<RealFileSystem>(tree.root());
  testing::MonitorHarness harness(fs, MakeDefaultSources(fs), FastOptions());
  harness.monitor().Start();
  auto sensed = harness.WaitFor([](const ContextSnapshot& s) { return s.sequence >= 1; });
  ASSERT_TRUE(sensed);
  EXPECT_FALSE(sensed->overridden);
  EXPECT_EQ(sensed->memory_limit_bytes, 2048 * kMiB);

  ContextOverride bad;
  bad.cpu_busy_fraction = 2;
  EXPECT_TRUE(absl::IsInvalidArgument(harness.monitor().SetOverride(bad)));

  ContextOverride o;
  o.memory_limit_bytes = 200 * kMiB;
  o.on_ac = false;
  ASSERT_TRUE(harness.monitor().SetOverride(o).ok());
  auto overridden = harness.WaitFor([](const ContextSnapshot& s) { return s.cause == "override"; });
  ASSERT_TRUE(overridden);
  EXPECT_TRUE(overridden->overridden);
  EXPECT_EQ(overridden->memory_limit_bytes, 200 * kMiB);
  EXPECT_EQ(overridden->memory_available_bytes, (200 - 300 < 0 ? 0 : 200 - 300) * kMiB);
  EXPECT_FALSE(overridden->on_ac);
  EXPECT_DOUBLE_EQ(overridden->temperature_c, 62.0);  // not overridden: still sensed
  // Later periodic samples keep the override.
  auto later = harness.WaitFor([](const ContextSnapshot& s) { return s.cause == "timer"; },
                               overridden->sequence);
  ASSERT_TRUE(later);
  EXPECT_TRUE(later->overridden);
  EXPECT_EQ(later->memory_limit_bytes, 200 * kMiB);

  harness.monitor().ClearOverride();
  auto cleared = harness.WaitFor(
      [](const ContextSnapshot& s) { return s.cause == "override cleared"; }, later->sequence);
  ASSERT_TRUE(cleared);
  EXPECT_FALSE(cleared->overridden);
  EXPECT_EQ(cleared->memory_limit_bytes, 2048 * kMiB);
  EXPECT_TRUE(cleared->on_ac);
  EXPECT_FALSE(harness.monitor().Latest().overridden);
}

// An override is a context change at the moment it is set: the snapshot that carries it must
// say so (the adaptation loop measures its reaction time from steady_time), not keep the time
// of the last sensor sample, up to a whole period earlier.
TEST(ContextMonitorTest, AnOverrideIsTimedWhenItIsSetNotAtTheLastSample) {
  testing::FakeTree tree(testing::IntelLaptop());
  auto fs = std::make_shared<RealFileSystem>(tree.root());
  ContextMonitorOptions options = FastOptions();
  options.period = std::chrono::hours(1);  // only the first tick
  testing::MonitorHarness harness(fs, MakeDefaultSources(fs), options);
  harness.monitor().Start();
  auto sensed = harness.WaitFor([](const ContextSnapshot& s) { return s.sequence >= 1; });
  ASSERT_TRUE(sensed);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto set_at = std::chrono::steady_clock::now();
  ContextOverride o;
  o.memory_limit_bytes = 200 * kMiB;
  ASSERT_TRUE(harness.monitor().SetOverride(o).ok());
  auto overridden = harness.WaitFor([](const ContextSnapshot& s) { return s.cause == "override"; });
  ASSERT_TRUE(overridden);
  EXPECT_GE(overridden->steady_time, set_at);
  EXPECT_GT(overridden->steady_time, sensed->steady_time + std::chrono::milliseconds(40));
  const auto cleared_at = std::chrono::steady_clock::now();
  harness.monitor().ClearOverride();
  auto cleared = harness.WaitFor(
      [](const ContextSnapshot& s) { return s.cause == "override cleared"; }, overridden->sequence);
  ASSERT_TRUE(cleared);
  EXPECT_GE(cleared->steady_time, cleared_at);
}

TEST(ContextMonitorTest, ReplaysTraceInOrderAndRoughlyOnTime) {
  absl::StatusOr<Trace> trace =
      LoadTraceFile(std::string(ADASPRING_SOURCE_DIR) + "/configs/traces/short_squeeze.csv");
  ASSERT_TRUE(trace.ok()) << trace.status();
  auto fs = std::make_shared<RealFileSystem>("/nonexistent");
  ContextMonitorOptions options = FastOptions();
  options.period = std::chrono::seconds(5);  // rows must be published by their own wake-ups
  testing::MonitorHarness harness(fs, {std::make_shared<ReplaySource>(*trace)}, options);
  harness.monitor().Start();
  ASSERT_TRUE(harness.WaitFor([](const ContextSnapshot& s) { return s.phase == "end"; }));

  const std::vector<ContextSnapshot> log = harness.Log();
  const auto start = log.front().steady_time;
  const std::vector<std::pair<std::string, double>> expected = {{"idle", 0.0},
                                                                {"memory_squeeze", 0.1},
                                                                {"cpu_contention", 0.2},
                                                                {"battery_low", 0.3},
                                                                {"end", 0.5}};
  size_t next = 0;
  for (const ContextSnapshot& s : log) {
    if (next < expected.size() && s.phase == expected[next].first) {
      const double at_s = std::chrono::duration<double>(s.steady_time - start).count();
      // Generous: the point is "at its own time, not at the next period (5 s)".
      EXPECT_GE(at_s, expected[next].second - 0.005) << s.phase;
      EXPECT_LE(at_s, expected[next].second + 0.25) << s.phase;
      ++next;
    } else if (next > 0) {
      EXPECT_EQ(s.phase, expected[next - 1].first) << "phases out of order";
    }
  }
  EXPECT_EQ(next, expected.size());
  for (const ContextSnapshot& s : log) {
    if (s.phase == "memory_squeeze") {
      EXPECT_EQ(s.memory_available_bytes, 800 * kMiB);
      EXPECT_EQ(s.memory_limit_bytes, 4096 * kMiB);
      EXPECT_DOUBLE_EQ(s.psi_memory_some_avg10, 20.0);
    }
    if (s.phase == "battery_low") {
      EXPECT_FALSE(s.on_ac);
      EXPECT_DOUBLE_EQ(s.battery_percent, 15.0);
    }
  }
}

// A FileSystem whose "PSI trigger" is the receiving end of a loopback TCP connection: urgent
// (out-of-band) data makes it POLLPRI-readable, exactly like a firing PSI trigger. This tests
// the monitor's wake-up path on any kernel.
class OobTriggerFileSystem final : public FileSystem {
 public:
  OobTriggerFileSystem() {
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    ::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    ::listen(listener, 1);
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
    sender_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ::connect(sender_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    receiver_ = ::accept(listener, nullptr, nullptr);
    ::close(listener);
  }
  ~OobTriggerFileSystem() override {
    ::close(sender_);
    if (receiver_ >= 0) ::close(receiver_);
  }
  bool ok() const { return sender_ >= 0 && receiver_ >= 0; }
  void Fire() { ::send(sender_, "!", 1, MSG_OOB); }

  absl::StatusOr<std::vector<std::string>> ListDirectory(const std::string& path) override {
    return absl::NotFoundError(path);
  }
  bool Exists(const std::string&) override { return false; }
  absl::StatusOr<int> OpenPsiTrigger(const std::string& path, const std::string&) override {
    if (receiver_ < 0) return absl::NotFoundError(path);
    return std::exchange(receiver_, -1);  // the monitor owns it now
  }

 protected:
  absl::StatusOr<std::string> ReadFileOnce(const std::string& path) override {
    return absl::NotFoundError(path);
  }

 private:
  int sender_ = -1;
  int receiver_ = -1;
};

TEST(ContextMonitorTest, TriggerFdWakesTheMonitorAtOnce) {
  auto fs = std::make_shared<OobTriggerFileSystem>();
  ASSERT_TRUE(fs->ok());
  ContextMonitorOptions options;
  options.period = std::chrono::hours(1);
  options.psi_trigger_path = "/proc/pressure/memory";
  testing::MonitorHarness harness(fs, MakeDefaultSources(fs), options);
  harness.monitor().Start();
  auto first = harness.WaitFor([](const ContextSnapshot&) { return true; });
  ASSERT_TRUE(first);
  const SourceStatus* trigger = first->FindSource("psi_trigger");
  ASSERT_NE(trigger, nullptr);
  EXPECT_EQ(trigger->state, SourceState::kAvailable) << trigger->reason;
  fs->Fire();
  auto woken =
      harness.WaitFor([](const ContextSnapshot& s) { return s.cause == "psi"; }, first->sequence);
  EXPECT_TRUE(woken.has_value());
}

// The real thing where the kernel allows it: a trigger on /proc/pressure/cpu, and a short
// burst of runnable threads (more than cores) to make tasks wait for a CPU.
TEST(ContextMonitorTest, RealPsiTriggerWakesTheMonitor) {
  auto fs = std::make_shared<RealFileSystem>("/");
  ContextMonitorOptions options;
  options.period = std::chrono::hours(1);
  options.psi_trigger_path = "/proc/pressure/cpu";
  options.psi_trigger_spec = "some 20000 1000000";  // 20 ms of CPU stall within 1 s
  testing::MonitorHarness harness(fs, {}, options);
  harness.monitor().Start();
  auto first = harness.WaitFor([](const ContextSnapshot&) { return true; });
  ASSERT_TRUE(first);
  const SourceStatus* trigger = first->FindSource("psi_trigger");
  ASSERT_NE(trigger, nullptr);
  if (trigger->state != SourceState::kAvailable)
    GTEST_SKIP() << "kernel gives no PSI trigger here: " << trigger->reason;
  std::cout << "armed " << trigger->values.front().second
            << (trigger->reason.empty() ? "" : " (" + trigger->reason + ")") << "\n";

  std::atomic<bool> stop{false};
  std::vector<std::thread> spinners;
  const unsigned count = std::thread::hardware_concurrency() + 2;
  for (unsigned i = 0; i < count; ++i)
    spinners.emplace_back([&stop] {
      volatile uint64_t x = 0;
      while (!stop.load(std::memory_order_relaxed)) x = x + 1;
    });
  auto woken = harness.WaitFor([](const ContextSnapshot& s) { return s.cause == "psi"; },
                               first->sequence, std::chrono::seconds(8));
  stop = true;
  for (std::thread& spinner : spinners) spinner.join();
  EXPECT_TRUE(woken.has_value()) << "no PSI wake-up within 8 s of CPU contention";
}

}  // namespace
}  // namespace adaspring::context
