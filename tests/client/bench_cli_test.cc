// adaspring-bench's command line as a user meets it: usage errors exit 2 whatever CLI11's own
// code, help texts name defaults and choices, and a missing daemon is one readable line.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "ctl_runner.h"

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
