#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "adaspring/engine/build_id.h"
#include "adaspring/engine/search.h"
#include "engine/search/search_test_util.h"

namespace adaspring::engine {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "latency_table_test.XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(LatencyTableTest, SaveLoadRoundTrip) {
  TempDir dir;
  LatencyTable t = SyntheticLatencyTable(*testing::SmallSpaceModel(), 3, 1.25);
  t.cpu_model = "Intel(R) Xeon(R) CPU @ 2.20GHz";
  t.engine_version = "0.1.0";
  t.scale = 1.0625;
  t.per_primitive_us = 2.5;
  const std::string path = dir.path() + "/t.txt";
  ASSERT_TRUE(SaveLatencyTable(t, path).ok());
  auto back = LoadLatencyTable(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->cpu_model, t.cpu_model);
  EXPECT_EQ(back->engine_version, t.engine_version);
  EXPECT_EQ(back->threads, 3);
  EXPECT_DOUBLE_EQ(back->scale, t.scale);
  EXPECT_DOUBLE_EQ(back->per_primitive_us, t.per_primitive_us);
  ASSERT_EQ(back->rows.size(), t.rows.size());
  for (const auto& [k, row] : t.rows) {
    EXPECT_NEAR(back->rows.at(k).us, row.us, 1e-8 * row.us) << k;
    EXPECT_EQ(back->rows.at(k).primitives, row.primitives);
  }
  // Atomic write leaves no temporary behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST(LatencyTableTest, DamagedAndMissingFilesAreReported) {
  TempDir dir;
  EXPECT_EQ(LoadLatencyTable(dir.path() + "/absent").status().code(), absl::StatusCode::kNotFound);
  const std::string path = dir.path() + "/bad.txt";
  WriteFile(path, "something else\n");
  EXPECT_EQ(LoadLatencyTable(path).status().code(), absl::StatusCode::kInvalidArgument);
  WriteFile(path, "adaspring-latency-table v1\nthreads 1\nrow abc 1 key\n");
  auto s = LoadLatencyTable(path).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(":3:"), absl::string_view::npos) << s;
  WriteFile(path, "adaspring-latency-table v1\nthreads 0\n");
  EXPECT_EQ(LoadLatencyTable(path).status().code(), absl::StatusCode::kInvalidArgument);
  WriteFile(path, "");
  EXPECT_EQ(LoadLatencyTable(path).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(LatencyTableTest, CpuModelFromCpuinfo) {
  TempDir dir;
  const std::string x86 = dir.path() + "/x86";
  WriteFile(x86,
            "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Core(TM) "
            "i5-8250U CPU @ 1.60GHz\nflags\t\t: fpu\n\nprocessor\t: 1\n");
  EXPECT_EQ(CpuModelName(x86), "Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz");
  const std::string arm = dir.path() + "/arm";
  WriteFile(arm,
            "processor\t: 0\nCPU part\t: 0xd08\n\nHardware\t: BCM2835\n"
            "Model\t\t: Raspberry Pi 4 Model B Rev 1.4\n");
  EXPECT_EQ(CpuModelName(arm), "BCM2835");
  EXPECT_EQ(CpuModelName(dir.path() + "/absent"), "unknown");
  WriteFile(arm, "garbage without colons\n\0\x01");
  EXPECT_EQ(CpuModelName(arm), "unknown");
}

TEST(LatencyTableTest, PathIsKeyedByCpuVersionAndThreads) {
  const std::string a = LatencyTablePath("/s", "cpu A", 1);
  EXPECT_NE(a, LatencyTablePath("/s", "cpu B", 1));
  EXPECT_NE(a, LatencyTablePath("/s", "cpu A", 2));
  EXPECT_EQ(a.rfind("/s/", 0), 0u);
}

// The build id names the oneDNN in use and, in a git checkout, the commit: a table measured
// by another build is neither found nor trusted.
TEST(LatencyTableTest, BuildIdNamesVersionAndOneDnn) {
  const std::string id = EngineBuildId();
  EXPECT_NE(id.find("+dnnl"), std::string::npos) << id;
  const std::string commit = EngineGitCommit();
  if (!commit.empty()) {
    EXPECT_EQ(commit.size(), 12u) << commit;
    EXPECT_NE(id.find("+g" + commit), std::string::npos) << id;
  }
}

// Real profiling of a small model on this device (a few seconds at most): every layer
// variant gets a row, the table is cached atomically, and a second cost model loads it.
TEST(LatencyTableTest, ProfileMeasuresEveryVariantAndCachesTheTable) {
  TempDir dir;
  // One width and one rank: every variant is covered by two configurations (f32, int8).
  ArchSpec arch = testing::SmallSpaceArch();
  arch.width_percent = {100};
  arch.rank_divisors = {1};
  auto model = testing::CalibratedRandomModel(arch, 5);
  CostModelOptions options;
  options.state_dir = dir.path();
  options.profile_reps = 3;
  auto cost = CostModel::Create(model, options);
  ASSERT_TRUE(cost.ok()) << cost.status();
  EXPECT_FALSE((*cost)->profiled());
  ASSERT_TRUE((*cost)->Profile(false).ok());
  EXPECT_TRUE((*cost)->profiled());
  EXPECT_EQ((*cost)->LayerTable().size(), DistinctLayerVariants(*model).size());
  const ConfigCost full = (*cost)->Predict(model->space().Full());
  EXPECT_TRUE(full.latency_profiled);
  EXPECT_GT(full.latency_us, 0);
  const std::string path = LatencyTablePath(dir.path(), CpuModelName(), options.threads);
  ASSERT_TRUE(fs::exists(path));
  auto again = CostModel::Create(model, options);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)->profiled());  // loaded from the cache, no profiling
  EXPECT_NEAR((*again)->Predict(model->space().Full()).latency_us, full.latency_us,
              1e-6 * full.latency_us);
}

}  // namespace
}  // namespace adaspring::engine
