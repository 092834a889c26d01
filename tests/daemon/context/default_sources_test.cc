#include "context/default_sources.h"

#include <chrono>
#include <memory>
#include <string>

#include "context/real_file_system.h"
#include "daemon/context/fake_tree.h"
#include "gtest/gtest.h"

namespace adaspring::context {
namespace {

std::vector<std::string> Names(const std::vector<std::shared_ptr<Source>>& sources) {
  std::vector<std::string> names;
  for (const auto& source : sources) names.push_back(source->name());
  return names;
}

TEST(DefaultSourcesTest, OrderAndNamesMatchTheConfigSchema) {
  auto fs = std::make_shared<RealFileSystem>("/nonexistent");
  SourceOptions options;
  options.extra_cgroup = "/apps.slice";
  EXPECT_EQ(
      Names(MakeDefaultSources(fs, options)),
      (std::vector<std::string>{"rapl", "hwmon", "thermal", "cgroup", "cgroup:/apps.slice",
                                "meminfo", "psi", "cpu", "cgroup-cpu", "cpufreq", "battery"}));
}

TEST(DefaultSourcesTest, DisabledSourcesAreListedAsAbsent) {
  testing::FakeTree tree(testing::IntelLaptop());
  SourceOptions options;
  options.extra_cgroup = "/apps.slice";
  options.disabled = {"rapl", "cgroup"};
  auto sources = MakeDefaultSources(std::make_shared<RealFileSystem>(tree.root()), options);
  const ContextSnapshot s = SampleSources(sources, std::chrono::steady_clock::now());
  for (const char* name : {"rapl", "cgroup", "cgroup:/apps.slice"}) {
    const SourceStatus* status = s.FindSource(name);
    ASSERT_NE(status, nullptr) << name;
    EXPECT_EQ(status->state, SourceState::kAbsent) << name;
    EXPECT_EQ(status->reason, "disabled in the configuration");
  }
  EXPECT_EQ(s.FindSource("thermal")->state, SourceState::kAvailable);
  // Without the cgroup bound, MemAvailable binds.
  EXPECT_EQ(s.memory_available_bytes, int64_t{12227572} * 1024);
}

TEST(DefaultSourcesTest, ReplaySourcesFromAFile) {
  auto sources = MakeReplaySources(std::string(ADASPRING_SOURCE_DIR) + "/configs/traces/tight.csv");
  ASSERT_TRUE(sources.ok()) << sources.status();
  const ContextSnapshot s = SampleSources(*sources, std::chrono::steady_clock::now());
  EXPECT_EQ(s.memory_limit_bytes, 200 * 1024 * 1024);
  EXPECT_EQ(s.phase, "tight");
  EXPECT_TRUE(absl::IsNotFound(MakeReplaySources("/nonexistent.csv").status()));
}

}  // namespace
}  // namespace adaspring::context
