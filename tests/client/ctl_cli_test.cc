// adaspringctl as a user runs it: the binary of this build against the in-process FakeDaemon
// (every command's --json parsed and checked, tables, exit codes, --help texts).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

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

// Every command's help, and the options it names.
const std::map<std::vector<std::string>, std::vector<std::string>>& HelpCommands() {
  static const auto* commands = new std::map<std::vector<std::string>, std::vector<std::string>>{
      {{},
       {"--socket", "--admin-socket", "--json", "--timeout", "--version", "status", "models",
        "sessions", "context", "watch", "infer", "profile", "override", "demo", "Exit codes"}},
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
      {{"demo"},
       {"--duration", "--out", "--scenario", "--daemon", "--models-dir", "--data-dir", "--policies",
        "--quiet", "--app-nice", "--daemon-rt-priority", "--app-rt-priority",
        "--cpu-wakeup-latency-us", "default 180"}},
  };
  return *commands;
}

TEST(CtlHelpTest, EveryCommandsHelpMentionsEveryOption) {
  SKIP_WITHOUT_CTL();
  for (const auto& [path, options] : HelpCommands()) {
    std::vector<std::string> args = path;
    args.push_back("--help");
    const CtlResult r = RunCtl(args);
    const std::string what = "adaspringctl " + ::testing::PrintToString(path) + " --help";
    EXPECT_EQ(r.exit_code, 0) << what;
    EXPECT_GT(r.out.size(), 80u) << what;
    for (const auto& o : options) EXPECT_NE(r.out.find(o), std::string::npos) << what << ": " << o;
    // A command's help also names the global options, which CLI11 shows only at the top.
    for (const char* global : {"--socket", "--admin-socket", "--json", "--timeout", "Exit codes"}) {
      EXPECT_NE(r.out.find(global), std::string::npos) << what << ": " << global;
    }
  }
}

TEST(CtlHelpTest, BashCompletionOffersEveryOptionOfTheHelp) {
  SKIP_WITHOUT_CTL();
  std::ifstream in(std::string(ADASPRING_SOURCE_DIR) + "/client/completion/adaspringctl.bash");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string completion = ss.str();
  ASSERT_FALSE(completion.empty());
  const std::regex option("--[a-z][a-z0-9-]*");
  for (const auto& [path, options] : HelpCommands()) {
    std::vector<std::string> args = path;
    args.push_back("--help");
    const std::string help = RunCtl(args).out;
    for (auto it = std::sregex_iterator(help.begin(), help.end(), option);
         it != std::sregex_iterator(); ++it) {
      const std::string o = it->str();
      EXPECT_NE(completion.find(o), std::string::npos)
          << "adaspringctl " << ::testing::PrintToString(path) << ": " << o;
    }
  }
}

TEST(CtlHelpTest, VersionPrintsTheClientVersion) {
  SKIP_WITHOUT_CTL();
  const CtlResult r = RunCtl({"--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("adaspringctl 0.", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("client library"), std::string::npos) << r.out;
}

TEST(CtlHelpTest, OptionValuesAreCheckedInTheUsersUnits) {
  SKIP_WITHOUT_CTL();
  const std::string sock = "/nonexistent/adaspringd.sock";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"infer", "--model", "m", "--input", "x", "--count", "abc"},
       "--count must be a positive integer (got 'abc')"},
      {{"infer", "--model", "m", "--input", "x", "--count", "0"},
       "--count must be a positive integer (got '0')"},
      {{"infer", "--model", "m", "--input", "x", "--index", "-1"},
       "--index must be an integer >= 0 (got '-1')"},
      {{"infer", "--model", "m", "--input", "x", "--budget-ms", "0"},
       "--budget-ms must be a number of milliseconds from 0.1 to 60000 (got '0')"},
      {{"status", "--timeout", "0"},
       "--timeout must be a number of seconds greater than 0 and at most 86400 (got '0')"},
      {{"status", "--timeout", "nan"},
       "--timeout must be a number of seconds greater than 0 and at most 86400 (got 'nan')"},
      {{"watch", "--seconds", "abc"},
       "--seconds must be a number of seconds >= 0 (0 = no limit) (got 'abc')"},
      {{"watch", "--count", "-1"}, "--count must be an integer >= 0 (0 = no limit) (got '-1')"},
      {{"demo", "--duration", "0"},
       "--duration must be a number of seconds from 1 to 1000000 (got '0')"},
      {{"override", "set", "--battery-pct", "150"},
       "--battery-pct must be a number from 0 to 100 (got '150')"},
      {{"override", "set", "--memory-available-mb", "-5"},
       "--memory-available-mb must be a number of MiB from 0 to 1000000000 (got '-5')"},
      {{"override", "set", "--temp-c", "400"},
       "--temp-c must be a number of degrees Celsius from -273 to 300 (got '400')"},
      {{"override", "set", "--power-w", "-1"},
       "--power-w must be a number of watts from 0 to 1000000 (got '-1')"},
      {{"override", "set", "--cpu-busy", "80"},
       "--cpu-busy must be a fraction from 0 to 1 (0.8 = 80% busy) (got '80')"},
      {{"demo", "--policies", "adaptive,static-full"},
       "--policies must be one of adaptive, static_full, static_compressed (got 'static-full'; "
       "did you mean 'static_full'?)"},
      {{"demo", "--policies", "foo"},
       "--policies must be one of adaptive, static_full, static_compressed (got 'foo')"},
  };
  for (auto [args, message] : cases) {
    args.insert(args.begin(), {"--socket", sock});
    const CtlResult r = RunCtl(args);
    EXPECT_EQ(r.exit_code, 2) << message;
    EXPECT_EQ(r.err, "adaspringctl: " + message + "\n");
  }
}

TEST(CtlHelpTest, UnknownOptionsAndCommandsNameTheChoices) {
  SKIP_WITHOUT_CTL();
  const CtlResult option = RunCtl({"infer", "--model", "m", "--input", "x", "--modle", "y"});
  EXPECT_EQ(option.exit_code, 2);
  EXPECT_EQ(option.err,
            "adaspringctl: unknown option '--modle' for 'adaspringctl infer' (did you mean "
            "'--model'?)\n");
  const CtlResult sub = RunCtl({"models", "lst"});
  EXPECT_EQ(sub.exit_code, 2);
  EXPECT_EQ(sub.err,
            "adaspringctl: unknown command 'lst' for 'adaspringctl models' (did you mean 'list'? "
            "valid: list, load, unload)\n");
  const CtlResult missing = RunCtl({"override"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err,
            "adaspringctl: 'adaspringctl override' needs a command: set, clear (see "
            "'adaspringctl override --help')\n");
  const CtlResult extra = RunCtl({"status", "now"});
  EXPECT_EQ(extra.exit_code, 2);
  EXPECT_EQ(extra.err,
            "adaspringctl: unexpected argument 'now' for 'adaspringctl status' (see 'adaspringctl "
            "status --help')\n");
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
  EXPECT_EQ(unknown.err,
            "adaspringctl: unknown command 'stauts' (did you mean 'status'? see 'adaspringctl "
            "--help')\n");
  EXPECT_EQ(RunCtl({"--socket", "/x.sock", "logs"}).err,
            "adaspringctl: unknown command 'logs' (see 'adaspringctl --help')\n");
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
  // The longest kind still has a space before the text.
  EXPECT_NE(human[1].find("session_opened session s-1"), std::string::npos) << human[1];
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
  // Out-of-range values are refused here, as usage errors (exit 2), before the daemon sees them.
  EXPECT_EQ(Run({"override", "set", "--battery-pct", "120"}).exit_code, 2);
  EXPECT_EQ(Run({"override", "set"}).exit_code, 2);
  // Pointing the admin socket at the app socket: the daemon refuses the change.
  const CtlResult denied = Run({"--admin-socket", daemon_->app_socket(), "override", "clear"});
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_NE(denied.err.find("PERMISSION_DENIED"), std::string::npos);
}

TEST_F(CtlTest, AWrongAdminSocketIsNotADaemonThatIsNotRunning) {
  SKIP_WITHOUT_CTL();
  const CtlResult r = Run({"--admin-socket", "/nonexistent/admin.sock", "override", "clear"});
  EXPECT_EQ(r.exit_code, 3);
  ASSERT_EQ(Lines(r.err).size(), 1u) << r.err;
  EXPECT_EQ(r.err.find("adaspringctl: no admin socket at /nonexistent/admin.sock, although "
                       "adaspringd has its app socket at " +
                       daemon_->app_socket()),
            0u)
      << r.err;
  EXPECT_NE(r.err.find("--admin-socket"), std::string::npos) << r.err;
}

TEST_F(CtlTest, ModelsLoadSendsAnAbsolutePath) {
  SKIP_WITHOUT_CTL();
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  const std::string base = std::string(cwd) == "/" ? "" : cwd;
  // Missing files too: the daemon, whose working directory is not ours, names the file.
  EXPECT_EQ(RunJson({"models", "load", "no/such/../other.asb"})["model"]["path"],
            base + "/no/other.asb");
  WriteFile(dir_.path() + "/m.asb", "x");
  EXPECT_EQ(RunJson({"models", "load", dir_.path() + "/./m.asb"})["model"]["path"],
            dir_.path() + "/./m.asb");  // absolute paths are sent as given
}

TEST_F(CtlTest, ProfileSaysWhenItWasCached) {
  SKIP_WITHOUT_CTL();
  const CtlResult cached = Run({"profile", "fake"});
  ASSERT_EQ(cached.exit_code, 0) << cached.err;
  EXPECT_NE(cached.out.find("Profile of fake on Fake CPU, 2 threads, cached (measured earlier; "
                            "--force measures again)"),
            std::string::npos)
      << cached.out;
  const CtlResult fresh = Run({"profile", "fake", "--force"});
  EXPECT_NE(fresh.out.find("Profile of fake on Fake CPU, 2 threads, measured in 850 ms"),
            std::string::npos)
      << fresh.out;
}

TEST_F(CtlTest, InferRefusesInputsThatAreNotRegularFiles) {
  SKIP_WITHOUT_CTL();
  const std::string fifo = dir_.path() + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::string big = dir_.path() + "/big-images-idx3-ubyte";
  WriteFile(big, "");
  ASSERT_EQ(truncate(big.c_str(), off_t{257} << 20), 0);  // sparse: no disk space used
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--input", "/dev/zero"}, "--input /dev/zero is a device; give a regular IDX or PNG file"},
      {{"--input", fifo}, "--input " + fifo + " is a FIFO; give a regular IDX or PNG file"},
      {{"--input", dir_.path()},
       "--input " + dir_.path() + " is a directory; give an IDX or PNG file"},
      {{"--input", big},
       "--input " + big + " is 257 MiB; adaspringctl reads files of at most 256 MiB"},
      {{"--input", dir_.path() + "/none"}, "--input " + dir_.path() + "/none: no such file"},
  };
  for (auto [args, message] : cases) {
    args.insert(args.begin(), {"infer", "--model", "fake"});
    const CtlResult r = Run(args);
    EXPECT_EQ(r.exit_code, 2) << message;
    EXPECT_EQ(r.err, "adaspringctl: " + message + "\n");
  }
  WriteFile(dir_.path() + "/six.png", GrayPng(4, 4, std::vector<uint8_t>(16, 6)));
  const CtlResult labels =
      Run({"infer", "--model", "fake", "--input", dir_.path() + "/six.png", "--labels", fifo});
  EXPECT_EQ(labels.exit_code, 2);
  EXPECT_EQ(labels.err,
            "adaspringctl: --labels " + fifo + " is a FIFO; give a regular IDX or PNG file\n");
}

}  // namespace
}  // namespace adaspring::testing
