// A short run of the main job (`adaspringctl demo`) against the real daemon and the bundled
// reference model: no failed requests, a summary consistent with the per-request log it was
// computed from, and a valid PNG plot.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/str_split.h"
#include "client/ctl_runner.h"
#include "client/test_files.h"

namespace adaspring::testing {
namespace {

using json = nlohmann::json;

bool Exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Empty when a real demo can run: the bundled model, the dataset and the binaries are there.
std::string WhyADemoCannotRun(const std::string& models, const std::string& daemon) {
  if (!Exists(models + "/smallres28.asb")) return "no bundled model in " + models;
  if (!Exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"))
    return "dataset-fashion-mnist is not installed";
  if (!CtlBuilt() || !Exists(daemon)) return "adaspringctl/adaspringd not built";
  return "";
}

struct Tally {
  int64_t requests = 0, failed = 0, ok = 0, correct = 0;
};

TEST(DemoTest, ShortRunIsConsistentAndFailsNoRequest) {
  const std::string models = std::string(ADASPRING_SOURCE_DIR) + "/models";
  const std::string daemon = std::string(ADASPRING_BINARY_DIR) + "/daemon/adaspringd";
  if (const std::string why = WhyADemoCannotRun(models, daemon); !why.empty()) GTEST_SKIP() << why;
  TempDir dir;
  const std::string out = dir.path() + "/demo";
  const CtlResult r = RunCtl({"demo", "--duration", "21", "--out", out, "--models-dir", models,
                              "--daemon", daemon, "--quiet", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const json summary = json::parse(ReadAll(out + "/summary.json"));
  ASSERT_TRUE(summary.contains("policies"));
  ASSERT_TRUE(summary.contains("reaction_ms"));
  for (const char* policy : {"adaptive", "static_full", "static_compressed"}) {
    ASSERT_TRUE(summary["policies"].contains(policy)) << policy;
    for (const char* app : {"camera", "assistant", "wearable"}) {
      const json& a = summary["policies"][policy]["apps"][app];
      EXPECT_EQ(a["failed_requests"].get<int64_t>(), 0) << policy << "/" << app;
      EXPECT_GT(a["requests"].get<int64_t>(), 0) << policy << "/" << app;
      for (const char* key :
           {"slo_violation_pct", "accuracy", "p50_ms", "p99_ms", "energy_mj_per_inference",
            "switches", "energy_source", "tight", "compute_p99_ms", "daemon_p99_ms"})
        EXPECT_TRUE(a.contains(key)) << policy << "/" << app << " lacks " << key;
      EXPECT_EQ(a["energy_source"], "estimated");  // no power meter on this machine
    }
  }
  // Pinned policies never switch; the adaptive one evolves at least once.
  int adaptive_switches = 0;
  for (const char* app : {"camera", "assistant", "wearable"}) {
    EXPECT_EQ(summary["policies"]["static_full"]["apps"][app]["switches"], 0);
    EXPECT_EQ(summary["policies"]["static_compressed"]["apps"][app]["switches"], 0);
    adaptive_switches += summary["policies"]["adaptive"]["apps"][app]["switches"].get<int>();
  }
  EXPECT_GT(adaptive_switches, 0);

  // The summary's counts and accuracies follow from requests.csv.
  std::map<std::string, Tally> tally;  // policy/app
  std::istringstream csv(ReadAll(out + "/requests.csv"));
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line,
            "policy,app,t_s,phase,latency_ms,ok,code,correct,config_id,compute_us,macs,queue_us");
  while (std::getline(csv, line)) {
    std::vector<std::string> c = absl::StrSplit(line, ',');
    ASSERT_EQ(c.size(), 12u) << line;
    Tally& t = tally[c[0] + "/" + c[1]];
    ++t.requests;
    if (c[5] == "1") {
      ++t.ok;
      t.correct += c[7] == "1";
      // The daemon's own share (queued + compute) lies inside the end-to-end time.
      const double latency_ms = std::stod(c[4]), compute_us = std::stod(c[9]);
      const double queue_us = std::stod(c[11]);
      EXPECT_GT(compute_us, 0) << line;
      EXPECT_LE((queue_us + compute_us) / 1000.0, latency_ms + 0.01) << line;
    } else {
      ++t.failed;
    }
  }
  for (const auto& [key, t] : tally) {
    const std::vector<std::string> pa = absl::StrSplit(key, '/');
    const json& a = summary["policies"][pa[0]]["apps"][pa[1]];
    EXPECT_EQ(a["requests"].get<int64_t>(), t.requests) << key;
    EXPECT_EQ(a["failed_requests"].get<int64_t>(), t.failed) << key;
    EXPECT_NEAR(a["accuracy"].get<double>(), static_cast<double>(t.correct) / t.ok, 1e-9) << key;
    // Real images through a trained model: far above chance (10%).
    EXPECT_GT(a["accuracy"].get<double>(), 0.3) << key;
  }
  EXPECT_EQ(tally.size(), 9u);

  const std::string png = ReadAll(out + "/plot.png");
  ASSERT_GT(png.size(), 1000u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

TEST(DemoTest, AScenarioMayCapTheDaemonsCpuAndTheCapIsLiftedAfterwards) {
  const std::string models = std::string(ADASPRING_SOURCE_DIR) + "/models";
  const std::string daemon = std::string(ADASPRING_BINARY_DIR) + "/daemon/adaspringd";
  if (const std::string why = WhyADemoCannotRun(models, daemon); !why.empty()) GTEST_SKIP() << why;
  TempDir dir;
  WriteFile(dir.path() + "/capped.csv",
            "t_s,phase,busy_procs,cpu_cap_cores\n0,calm,0,\n4,capped,0,0.5\n8,after,0,\n");
  const CtlResult r = RunCtl({"demo", "--duration", "6", "--policies", "adaptive", "--scenario",
                              dir.path() + "/capped.csv", "--out", dir.path() + "/out",
                              "--models-dir", models, "--daemon", daemon, "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // As root the daemon is capped and released; elsewhere the demo says it cannot cap.
  const bool capped = r.err.find("demo: the daemon is capped at 0.50 cores") != std::string::npos;
  if (capped) {
    EXPECT_NE(r.err.find("demo: the daemon's CPU cap is lifted"), std::string::npos) << r.err;
  } else {
    EXPECT_NE(r.err.find("demo: cannot cap the daemon's CPU ("), std::string::npos) << r.err;
  }
  const json summary = json::parse(ReadAll(dir.path() + "/out/summary.json"));
  for (const char* app : {"camera", "assistant", "wearable"})
    EXPECT_EQ(summary["policies"]["adaptive"]["apps"][app]["failed_requests"].get<int64_t>(), 0)
        << app;
  // The capped child cgroup is gone.
  std::string left;
  for (const char* mount : {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup"}) {
    if (!Exists(mount)) continue;
    for (const auto& e : std::filesystem::directory_iterator(mount))
      if (e.path().filename().string().rfind("adaspring-demo-cap-", 0) == 0) left = e.path();
  }
  EXPECT_EQ(left, "");
}

TEST(DemoTest, ABadCpuCapInTheScenarioIsAUsageError) {
  if (!Exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  if (!CtlBuilt()) GTEST_SKIP() << "adaspringctl not built";
  TempDir dir;
  WriteFile(dir.path() + "/bad.csv", "t_s,phase,cpu_cap_cores\n0,calm,0\n");
  const CtlResult r = RunCtl({"demo", "--duration", "3", "--scenario", dir.path() + "/bad.csv",
                              "--out", dir.path() + "/out", "--quiet"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("bad.csv:2: cpu_cap_cores must be 0.01..1024 (empty: no cap)"),
            std::string::npos)
      << r.err;
}

TEST(DemoTest, ADaemonThatExitsAtStartIsReportedAtOnceWithTheEndOfItsLog) {
  if (!Exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  if (!CtlBuilt()) GTEST_SKIP() << "adaspringctl not built";
  TempDir dir;
  // Stands in for an adaspringd that finds a configuration error and exits 78.
  const std::string daemon = dir.path() + "/broken-adaspringd";
  WriteFile(daemon,
            "#!/bin/sh\necho 'adaspringd: starting'\n"
            "echo 'adaspringd: models.directory = \"/x\": no such directory' >&2\nexit 78\n");
  ASSERT_EQ(chmod(daemon.c_str(), 0755), 0);
  const auto t0 = std::chrono::steady_clock::now();
  const CtlResult r = RunCtl({"demo", "--duration", "3", "--out", dir.path() + "/out",
                              "--models-dir", dir.path(), "--daemon", daemon, "--quiet"});
  const double elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_LT(elapsed_s, 10) << "the demo waited for a daemon that had exited";
  EXPECT_NE(r.err.find(daemon + " exited with status 78 before serving; the end of " + dir.path() +
                       "/out/daemon.log:\n"
                       "  adaspringd: starting\n"
                       "  adaspringd: models.directory = \"/x\": no such directory\n"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace adaspring::testing
