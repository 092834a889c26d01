// adaspringctl as a user runs it: the binary of this build against the in-process FakeDaemon
// (every command's --json parsed and checked, tables, exit codes, --help texts).
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "adaspring/client/client.h"
#include "ctl_runner.h"
#include "fake_daemon.h"
#include "test_files.h"

namespace adaspring::testing {
namespace {

using nlohmann::json;

#define SKIP_WITHOUT_CTL() \
  if (!CtlBuilt()) GTEST_SKIP() << "adaspringctl not built at " << CtlPath()

class CtlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<FakeDaemon>(dir_.path());
    daemon_->Start();
  }
  CtlResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--socket", daemon_->app_socket()});
    return RunCtl(args);
  }
  json RunJson(std::vector<std::string> args) {
    args.push_back("--json");
    const CtlResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto lines = Lines(r.out);
    EXPECT_EQ(lines.size(), 1u) << r.out;
    return lines.empty() ? json() : json::parse(lines[0]);
  }
  TempDir dir_;
  std::unique_ptr<FakeDaemon> daemon_;
};

TEST(CtlHelpTest, EveryCommandsHelpMentionsEveryOption) {
  SKIP_WITHOUT_CTL();
  const std::map<std::vector<std::string>, std::vector<std::string>> commands = {
      {{},
       {"--socket", "--admin-socket", "--json", "--timeout", "status", "models", "sessions",
        "context", "watch", "infer", "profile", "override", "Exit codes"}},
      {{"status"}, {"--help"}},
      {{"context"}, {"--help"}},
      {{"sessions"}, {"--help"}},
      {{"models"}, {"list", "load", "unload"}},
      {{"models", "load"}, {"PATH"}},
      {{"models", "unload"}, {"NAME", "--force"}},
      {{"watch"}, {"--all-samples", "--count", "--seconds"}},
      {{"infer"},
       {"--model", "--input", "--index", "--count", "--top-k", "--labels", "--config",
        "--budget-ms", "--app"}},
      {{"profile"}, {"NAME", "--force"}},
      {{"override"}, {"set", "clear"}},
      {{"override", "set"},
       {"--memory-limit-mb", "--memory-available-mb", "--battery-pct", "--on-ac", "--temp-c",
        "--cpu-busy", "--power-w"}},
      {{"override", "clear"}, {"--help"}},
  };
  for (const auto& [path, options] : commands) {
    std::vector<std::string> args = path;
    args.push_back("--help");
    const CtlResult r = RunCtl(args);
    const std::string what = "adaspringctl " + ::testing::PrintToString(path) + " --help";
    EXPECT_EQ(r.exit_code, 0) << what;
    EXPECT_GT(r.out.size(), 80u) << what;
    for (const auto& o : options) EXPECT_NE(r.out.find(o), std::string::npos) << what << ": " << o;
  }
}

TEST(CtlHelpTest, UsageErrorsExitWith2) {
  SKIP_WITHOUT_CTL();
  EXPECT_EQ(RunCtl({}).exit_code, 2);
  EXPECT_EQ(RunCtl({"status", "--bogus"}).exit_code, 2);
  EXPECT_EQ(RunCtl({"infer", "--input", "x.png"}).exit_code, 2);  // --model missing
  EXPECT_EQ(RunCtl({"override", "set", "--cpu-busy", "80"}).exit_code, 2);
  EXPECT_EQ(RunCtl({"models", "unload"}).exit_code, 2);
  const CtlResult unknown = RunCtl({"--socket", "/x.sock", "stauts"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(unknown.err, "adaspringctl: unknown command 'stauts' (see 'adaspringctl --help')\n");
}

TEST(CtlHelpTest, DaemonNotRunningIsOneLineNamingTheSocketAndExit3) {
  SKIP_WITHOUT_CTL();
  TempDir dir;
  const std::string sock = dir.path() + "/adaspringd.sock";
  const std::vector<std::vector<std::string>> commands = {
      {"status"},
      {"context"},
      {"sessions"},
      {"models"},
      {"watch"},
      {"profile", "m"},
      {"override", "clear"},
      {"models", "unload", "m"},
      {"infer", "--model", "m", "--input", "/dev/null"}};
  for (auto args : commands) {
    args.insert(args.begin(), {"--socket", sock});
    for (bool as_json : {false, true}) {
      if (as_json) args.push_back("--json");
      const CtlResult r = RunCtl(args);
      EXPECT_EQ(r.exit_code, 3) << args[2] << ": " << r.err;
      const auto lines = Lines(r.err);
      ASSERT_EQ(lines.size(), 1u) << r.err;
      EXPECT_NE(lines[0].find("adaspringd is not running"), std::string::npos) << lines[0];
      EXPECT_NE(lines[0].find(dir.path()), std::string::npos) << lines[0];
      EXPECT_TRUE(r.out.empty()) << r.out;
    }
  }
}

TEST_F(CtlTest, StatusContextModelsJson) {
  SKIP_WITHOUT_CTL();
  const json st = RunJson({"status"});
  EXPECT_EQ(st["version"], "0.1.0-fake");
  EXPECT_EQ(st["mode"], "user");
  EXPECT_DOUBLE_EQ(st["uptime_s"].get<double>(), 3725);
  EXPECT_EQ(st["context"]["memory_available_bytes"].get<int64_t>(), int64_t{3} << 30);
  EXPECT_EQ(st["context"]["sources"][0]["state"], "degraded");
  EXPECT_EQ(st["context"]["time"], "2025-11-28T13:20:00Z");

  const json ctx = RunJson({"context"});
  EXPECT_DOUBLE_EQ(ctx["budgets"]["cpu_capacity"].get<double>(), 1.4);
  EXPECT_EQ(ctx["budgets"]["notes"][0], "cpu: 25% busy outside");
  EXPECT_EQ(ctx["context"]["cpu_count"], 2);

  const json models = RunJson({"models"});
  ASSERT_EQ(models["models"].size(), 1u);
  EXPECT_EQ(models["models"][0]["name"], "fake");
  EXPECT_EQ(models["models"][0]["input_shape"], json::array({1, 4, 4}));
  EXPECT_EQ(models["models"][0]["full"]["precision"], "fp32");
  EXPECT_EQ(models["models"][0]["smallest"]["id"], 7);
  EXPECT_EQ(RunJson({"models", "list"}), models);
}

TEST_F(CtlTest, HumanOutputIsAlignedTables) {
  SKIP_WITHOUT_CTL();
  const CtlResult r = Run({"models"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = Lines(r.out);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[0].find("NAME"), 0u);
  // Right-aligned numeric column: the header and the value end in the same column.
  const size_t header_end = lines[0].find("CLASSES") + std::string("CLASSES").size();
  EXPECT_EQ(lines[1].substr(header_end - 2, 2), "10");
  const CtlResult st = Run({"status"});
  EXPECT_NE(st.out.find("adaspringd 0.1.0-fake (user mode), up 1h 02m"), std::string::npos)
      << st.out;
}

TEST_F(CtlTest, SessionsJsonListsOpenSessions) {
  SKIP_WITHOUT_CTL();
  client::ClientOptions o;
  o.socket_path = daemon_->app_socket();
  auto c = client::Client::Connect(o);
  ASSERT_TRUE(c.ok());
  client::SessionOptions so;
  so.app_name = "camera";
  so.model = "fake";
  auto s = (*c)->OpenSession(so);
  ASSERT_TRUE(s.ok());
  const json j = RunJson({"sessions"});
  ASSERT_EQ(j["sessions"].size(), 1u);
  EXPECT_EQ(j["sessions"][0]["app_name"], "camera");
  EXPECT_EQ(j["sessions"][0]["slo"]["latency_budget_us"], 5000);
  EXPECT_EQ(j["sessions"][0]["configuration"]["text"], "d=2.2 w=100.100.100.100 r=1.1.1.1 p=f32");
  const CtlResult human = Run({"sessions"});
  EXPECT_NE(human.out.find("camera"), std::string::npos);
}

TEST_F(CtlTest, WatchPrintsEventsAsLinesOrJson) {
  SKIP_WITHOUT_CTL();
  const CtlResult r = Run({"watch", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(json::parse(lines[0])["kind"], "session_opened");
  EXPECT_EQ(json::parse(lines[1])["kind"], "evolution");
  EXPECT_DOUBLE_EQ(json::parse(lines[1])["reaction_ms"].get<double>(), 4.5);
  const CtlResult one = Run({"watch", "--count", "1"});
  EXPECT_EQ(one.exit_code, 0);
  const auto human = Lines(one.out);
  ASSERT_EQ(human.size(), 2u);  // "Watching ..." and one event
  EXPECT_NE(human[1].find("session_opened"), std::string::npos);
  EXPECT_NE(human[1].find("session s-1 opened by cam on fake"), std::string::npos);
}

TEST_F(CtlTest, InferOnIdxAndPngPrintsLabelsAndConfiguration) {
  SKIP_WITHOUT_CTL();
  // Classes by first pixel: 3, 7, 0, 9, 5; labels say 3, 7, 0, 9, 4 (one wrong).
  std::vector<uint8_t> px(5 * 16, 2);
  const uint8_t firsts[] = {3, 7, 10, 9, 5};
  for (int i = 0; i < 5; ++i) px[i * 16] = firsts[i];
  WriteGzFile(dir_.path() + "/t-images-idx3-ubyte.gz", IdxImagesBytes(5, 4, 4, px));
  WriteGzFile(dir_.path() + "/t-labels-idx1-ubyte.gz", IdxLabelsBytes({3, 7, 0, 9, 4}));
  const json j =
      RunJson({"infer", "--model", "fake", "--input", dir_.path() + "/t-images-idx3-ubyte.gz",
               "--index", "0", "--count", "5", "--top-k", "2"});
  ASSERT_EQ(j["images"].size(), 5u);
  EXPECT_EQ(j["images"][1]["label"], "class7");
  EXPECT_EQ(j["images"][1]["top_k"].size(), 2u);
  EXPECT_EQ(j["images"][4]["correct"], false);
  EXPECT_EQ(j["correct"], 4);
  EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), 0.8);
  EXPECT_EQ(j["configuration_id"], 4242);

  std::vector<uint8_t> png_px(16, 1);
  png_px[0] = 6;
  WriteFile(dir_.path() + "/six.png", GrayPng(4, 4, png_px));
  const json p = RunJson({"infer", "--model", "fake", "--input", dir_.path() + "/six.png"});
  EXPECT_EQ(p["images"][0]["label_index"], 6);
  EXPECT_TRUE(p["correct"].is_null());

  const CtlResult human = Run({"infer", "--model", "fake", "--input", dir_.path() + "/six.png"});
  EXPECT_NE(human.out.find("class6"), std::string::npos);
  EXPECT_NE(human.out.find("d=2.2 w=100.100.100.100 r=1.1.1.1 p=f32"), std::string::npos);

  // Local problems are usage errors; daemon refusals are server errors.
  WriteFile(dir_.path() + "/big.png", GrayPng(5, 4, std::vector<uint8_t>(20, 0)));
  const CtlResult size = Run({"infer", "--model", "fake", "--input", dir_.path() + "/big.png"});
  EXPECT_EQ(size.exit_code, 2);
  EXPECT_NE(size.err.find("takes 4x4"), std::string::npos) << size.err;
  EXPECT_EQ(Run({"infer", "--model", "fake", "--input", dir_.path() + "/none"}).exit_code, 2);
  const CtlResult nomodel = Run({"infer", "--model", "zzz", "--input", dir_.path() + "/six.png"});
  EXPECT_EQ(nomodel.exit_code, 1);
  EXPECT_EQ(Lines(nomodel.err).size(), 1u);
  EXPECT_NE(nomodel.err.find("model 'zzz' is not loaded (NOT_FOUND)"), std::string::npos);
}

TEST_F(CtlTest, AdminCommandsUseTheAdminSocket) {
  SKIP_WITHOUT_CTL();
  const json set = RunJson({"override", "set", "--memory-available-mb", "100", "--battery-pct",
                            "15", "--on-ac=false", "--cpu-busy", "0.5"});
  EXPECT_EQ(set["context"]["memory_available_bytes"], 100 * 1024 * 1024);
  EXPECT_EQ(set["context"]["overridden"], true);
  EXPECT_EQ(RunJson({"override", "clear"})["context"]["overridden"], false);
  EXPECT_EQ(RunJson({"models", "load", "/x/other.asb"})["model"]["name"], "other");
  const json un = RunJson({"models", "unload", "other", "--force"});
  EXPECT_EQ(un["unloaded"], "other");
  EXPECT_EQ(un["force"], true);
  EXPECT_EQ(RunJson({"profile", "fake"})["layers"][0]["layer"], "stem");

  const CtlResult bad = Run({"models", "load", "/x/bad.asb"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err, "adaspringctl: /x/bad.asb: bad magic (INVALID_ARGUMENT)\n");
  EXPECT_EQ(Run({"override", "set", "--battery-pct", "120"}).exit_code, 1);
  EXPECT_EQ(Run({"override", "set"}).exit_code, 2);
  // Pointing the admin socket at the app socket: the daemon refuses the change.
  const CtlResult denied = Run({"--admin-socket", daemon_->app_socket(), "override", "clear"});
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_NE(denied.err.find("PERMISSION_DENIED"), std::string::npos);
}

}  // namespace
}  // namespace adaspring::testing
