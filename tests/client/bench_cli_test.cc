// adaspring-bench's command line as a user meets it: usage errors (and out-of-range values)
// exit 2 whatever CLI11's own code, help texts name defaults and choices, an unusable model file
// exits 1 in every command, and a missing daemon socket is one readable line naming it.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>

#include "ctl_runner.h"
#include "test_files.h"

namespace adaspring::testing {
namespace {

std::string BenchPath() { return std::string(ADASPRING_BINARY_DIR) + "/client/adaspring-bench"; }

#define SKIP_WITHOUT_BENCH()                       \
  struct stat bench_st;                            \
  if (::stat(BenchPath().c_str(), &bench_st) != 0) \
  GTEST_SKIP() << "adaspring-bench not built at " << BenchPath()

CtlResult RunBench(const std::vector<std::string>& args) { return RunProgram(BenchPath(), args); }

TEST(BenchCliTest, UsageErrorsExitWith2) {
  SKIP_WITHOUT_BENCH();
  const std::vector<std::vector<std::string>> cases = {
      {"engine", "--reps", "abc"},
      {"serve", "--clients", "abc"},
      {"accuracy"},
      {"engine", "--bogus"},
      {"evolve", "--bogus"},
      {"search", "--bogus"},
      {"react", "--sessions", "0"},
      {"soak", "--churn-ms", "1"},
      // Out-of-range values: refused before any work (they used to crash or hang).
      {"engine", "--arch", "smallres28", "--batch", "-1"},
      {"engine", "--arch", "smallres28", "--batch", "0"},
      {"engine", "--arch", "smallres28", "--batch", "257"},
      {"engine", "--arch", "smallres28", "--threads", "100000"},
      {"engine", "--arch", "smallres28", "--threads", "-1"},
      {"accuracy", "--model", "m.asb", "--data", "d", "--threads", "257"},
      {"accuracy", "--model", "m.asb", "--data", "d", "--threads", "-1"},
      {"accuracy", "--model", "m.asb", "--data", "d", "--max-images", "-1"},
      {"evolve", "--arch", "smallres28", "--switches", "0"},
      {"search", "--threads", "0"},
      {"search", "--queries", "-1"},
      {"serve", "--workers", "100000"},
      {"serve", "--workers", "-1"},
      {"serve", "--rate", "-5"},
      {"react", "--settle-ms", "-1"},
      {"nosuchcommand"},
      {},
  };
  for (const auto& args : cases) {
    const CtlResult r = RunBench(args);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args) << ": " << r.err;
  }
  EXPECT_EQ(RunBench({"engine", "--help"}).exit_code, 0);
  EXPECT_EQ(RunBench({"--help"}).exit_code, 0);
}

TEST(BenchCliTest, HelpNamesTheCommandDefaultsAndArchitectures) {
  SKIP_WITHOUT_BENCH();
  const CtlResult engine = RunBench({"engine", "--help"});
  EXPECT_NE(engine.out.find("adaspring-bench engine"), std::string::npos) << engine.out;
  for (const char* text : {"smallres28, resnet18, mobilenetv2", "default 200", "default 1;"}) {
    EXPECT_NE(engine.out.find(text), std::string::npos) << text << "\n" << engine.out;
  }
  const CtlResult evolve = RunBench({"evolve", "--help"});
  EXPECT_NE(evolve.out.find("adaspring-bench evolve"), std::string::npos) << evolve.out;
  EXPECT_NE(evolve.out.find("default 100"), std::string::npos) << evolve.out;
  EXPECT_NE(RunBench({"accuracy", "--help"}).out.find("adaspring-bench accuracy"),
            std::string::npos);
}

TEST(BenchCliTest, OutOfRangeValuesNameTheOptionAndRange) {
  SKIP_WITHOUT_BENCH();
  CtlResult r = RunBench({"engine", "--arch", "smallres28", "--threads", "100000"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--threads: Value 100000 not in range 0 to 256"), std::string::npos)
      << r.err;
  r = RunBench({"engine", "--arch", "smallres28", "--batch", "-1"});
  EXPECT_NE(r.err.find("--batch: Value -1 not in range 1 to 256"), std::string::npos) << r.err;
  r = RunBench({"evolve", "--arch", "smallres28", "--switches", "0"});
  EXPECT_NE(r.err.find("--switches: Value 0 not in range 1"), std::string::npos) << r.err;
}

TEST(BenchCliTest, DamagedModelExits1InEngineEvolveAndSearch) {
  SKIP_WITHOUT_BENCH();
  TempDir dir;
  const std::string bundle = dir.path() + "/damaged.asb";
  WriteFile(bundle, "ASB-not-a-bundle");
  for (const char* command : {"engine", "evolve", "search"}) {
    const CtlResult r = RunBench({command, "--model", bundle});
    EXPECT_EQ(r.exit_code, 1) << command << ": " << r.err;
    EXPECT_EQ(r.err.rfind(std::string(command) + ": ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(bundle), std::string::npos) << command << ": " << r.err;
  }
}

TEST(BenchCliTest, MissingSocketIsTheOneTheUserGave) {
  SKIP_WITHOUT_BENCH();
  for (const char* command : {"react", "soak"}) {
    const CtlResult r = RunBench({command, "--socket", "/nonexistent/none.sock"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err, std::string(command) +
                         ": adaspringd is not running (no socket at /nonexistent/none.sock; see "
                         "--socket)\n");
  }
  // An app socket without the admin socket beside it: that one is named, and how it was found.
  TempDir dir;
  const std::string app = dir.path() + "/app.sock";
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", app.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  for (const char* command : {"react", "soak"}) {
    CtlResult r = RunBench({command, "--socket", app});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err, std::string(command) + ": no admin socket at " + dir.path() +
                         "/admin.sock (derived from --socket " + app +
                         "); give the daemon's admin socket with --admin-socket\n");
    r = RunBench({command, "--socket", app, "--admin-socket", dir.path() + "/adm.sock"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err, std::string(command) + ": no admin socket at " + dir.path() +
                         "/adm.sock (see --admin-socket), although adaspringd has its app "
                         "socket at " +
                         app + "\n");
  }
  ::close(fd);
}

TEST(BenchCliTest, AccuracyWithoutConfigurationsPrintsNullNotZero) {
  SKIP_WITHOUT_BENCH();
  const std::string model = std::string(ADASPRING_SOURCE_DIR) + "/models/smallres28.asb";
  const std::string data = "/usr/share/datasets/fashion-mnist";
  struct stat st;
  if (::stat(model.c_str(), &st) != 0 || ::stat((data + "/t10k-images-idx3-ubyte.gz").c_str(), &st))
    GTEST_SKIP() << "needs the shipped model and dataset-fashion-mnist";
  const std::vector<std::string> args = {"accuracy", "--model",   model, "--data",
                                         data,       "--configs", "0",   "--max-images",
                                         "64",       "--threads", "1"};
  std::vector<std::string> json_args = args;
  json_args.push_back("--json");
  CtlResult r = RunBench(json_args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* key : {"\"kendall_tau\":null", "\"mae_pt\":null", "\"split_half_tau\":null",
                          "\"tau_noise_ceiling\":null", "\"configs\":0"})
    EXPECT_NE(r.out.find(key), std::string::npos) << key << " in " << r.out;
  r = RunBench(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Kendall tau n/a, MAE n/a\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("nan"), std::string::npos) << r.out;
}

TEST(BenchCliTest, AccuracyRefusesTestLabelsBeyondTheModelsClasses) {
  SKIP_WITHOUT_BENCH();
  const std::string model = std::string(ADASPRING_SOURCE_DIR) + "/models/smallres28.asb";
  struct stat st;
  if (::stat(model.c_str(), &st) != 0) GTEST_SKIP() << "needs the shipped model";
  TempDir dir;
  std::vector<uint8_t> pixels(8 * 28 * 28, 100), labels = {0, 1, 2, 3, 10, 5, 6, 7};
  WriteFile(dir.path() + "/t10k-images-idx3-ubyte", IdxImagesBytes(8, 28, 28, pixels));
  WriteFile(dir.path() + "/t10k-labels-idx1-ubyte", IdxLabelsBytes(labels));
  const CtlResult r =
      RunBench({"accuracy", "--model", model, "--data", dir.path(), "--threads", "1"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(dir.path() +
                       "/t10k-labels-idx1-ubyte: label 10 (image 4) is out of range: the model "
                       "has 10 classes"),
            std::string::npos)
      << r.err;
}

TEST(BenchCliTest, NoDaemonIsOneReadableLine) {
  SKIP_WITHOUT_BENCH();
  const CtlResult r = RunBench({"serve", "--socket", "/nonexistent/adaspringd.sock"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "serve: adaspringd is not running (no socket at /nonexistent/adaspringd.sock; see "
            "--socket)\n");
}

}  // namespace
}  // namespace adaspring::testing
