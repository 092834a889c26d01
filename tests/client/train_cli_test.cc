// adaspring-train's command line as a user meets it: an invalid option value is refused
// before any training with exit 2 and one line naming the option, the value and what to do;
// data files that cannot be used exit 1 naming the file. Every case here ends before the
// first training step (synthetic IDX files, no Fashion-MNIST needed).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "ctl_runner.h"
#include "test_files.h"

namespace adaspring::testing {
namespace {

std::string TrainPath() { return std::string(ADASPRING_BINARY_DIR) + "/engine/adaspring-train"; }

#define SKIP_WITHOUT_TRAIN()                       \
  struct stat train_st;                            \
  if (::stat(TrainPath().c_str(), &train_st) != 0) \
  GTEST_SKIP() << "adaspring-train not built at " << TrainPath()

CtlResult RunTrain(const std::vector<std::string>& args) { return RunProgram(TrainPath(), args); }

// 28x28 training and test sets with labels 0..9 in `dir`.
void WriteData(const std::string& dir, int train, int test,
               const std::vector<uint8_t>& test_labels = {}) {
  auto write = [&](const std::string& split, int n, std::vector<uint8_t> labels) {
    std::vector<uint8_t> pixels(static_cast<size_t>(n) * 28 * 28);
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i % 251);
    if (labels.empty())
      for (int i = 0; i < n; ++i) labels.push_back(static_cast<uint8_t>(i % 10));
    WriteFile(dir + "/" + split + "-images-idx3-ubyte", IdxImagesBytes(n, 28, 28, pixels));
    WriteFile(dir + "/" + split + "-labels-idx1-ubyte", IdxLabelsBytes(labels));
  };
  write("train", train, {});
  write("t10k", test, test_labels);
}

TEST(TrainCliTest, InvalidValuesExit2BeforeTrainingNamingTheOption) {
  SKIP_WITHOUT_TRAIN();
  TempDir dir;
  const std::string out = dir.path() + "/m.asb";
  // The data directory does not exist: these are all refused before it is read.
  const std::vector<std::string> base = {"--data", dir.path() + "/no-data"};
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  } cases[] = {
      {{"--out", ""}, "--out is empty"},
      {{"--out", out, "--threads", "100000"},
       "--threads must be 0..256 (0 = all cores), got 100000"},
      {{"--out", out, "--threads", "-1"}, "--threads must be 0..256 (0 = all cores), got -1"},
      {{"--out", out, "--predictor-configs", "20", "--heldout-configs", "-3"},
       "--heldout-configs must be >= 2"},
      {{"--out", out, "--predictor-configs", "20", "--heldout-configs", "30"},
       "--predictor-configs 20 with --heldout-configs 30 leaves -10"},
      {{"--out", out, "--predictor-configs", "-1"}, "--predictor-configs must be >= 4"},
      {{"--out", out, "--val-images", "0"}, "--val-images must be >= 1"},
      {{"--out", out, "--val-images", "-10"}, "--val-images must be >= 1"},
      {{"--out", dir.path()}, "--out " + dir.path() + " is a directory"},
      {{"--out", dir.path() + "/nodir/m.asb"},
       "the directory " + dir.path() + "/nodir does not exist; create it first"},
      {{"--out", out, "--lr", "0"}, "--lr must be a finite number > 0"},
      {{"--out", out, "--lr", "-0.5"}, "--lr must be a finite number > 0"},
      {{"--out", out, "--lr", "nan"}, "--lr must be a finite number > 0"},
      {{"--out", out, "--lr", "inf"}, "--lr must be a finite number > 0"},
      {{"--out", out, "--epochs", "0"}, "--epochs must be >= 1, got 0"},
      {{"--out", out, "--batch", "0"}, "--batch must be 2..1024, got 0"},
      {{"--out", out, "--random-configs", "17"}, "--random-configs must be 0..16, got 17"},
      {{"--out", out, "--arch", "nosuch"}, "--arch 'nosuch' is not a built-in architecture"},
      {{"--out", "", "--refit-predictor"}, "--out is empty"},
      {{"--out", out, "--refit-predictor", "--measure", "-1"}, "--measure must be >= 0"},
      {{"--out", out, "--refit-predictor", "--threads", "300"}, "--threads must be 0..256"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = base;
    args.insert(args.end(), c.args.begin(), c.args.end());
    const CtlResult r = RunTrain(args);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(c.args) << ": " << r.err;
    EXPECT_EQ(r.err.rfind("adaspring-train: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos)
        << ::testing::PrintToString(c.args) << ": " << r.err;
    EXPECT_EQ(Lines(r.err).size(), 1u) << r.err;
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path())) << "nothing written, not even a probe";
}

TEST(TrainCliTest, ValuesThatDoNotFitTheDataExit2) {
  SKIP_WITHOUT_TRAIN();
  TempDir dir;
  WriteData(dir.path(), 100, 20);
  const std::string out = dir.path() + "/m.asb";
  CtlResult r =
      RunTrain({"--data", dir.path(), "--out", out, "--threads", "1", "--val-images", "100"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--val-images 100 must be below the number of training images (100 in "),
            std::string::npos)
      << r.err;
  r = RunTrain({"--data", dir.path(), "--out", out, "--threads", "1", "--val-images", "20",
                "--batch", "128"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("than one --batch (128)"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(TrainCliTest, UnusableDataExits1NamingTheFile) {
  SKIP_WITHOUT_TRAIN();
  TempDir dir;
  std::vector<uint8_t> labels(20, 3);
  labels[4] = 12;
  WriteData(dir.path(), 100, 20, labels);
  const CtlResult r = RunTrain({"--data", dir.path(), "--out", dir.path() + "/m.asb", "--threads",
                                "1", "--val-images", "20", "--batch", "16"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(dir.path() + "/t10k-labels-idx1-ubyte: label 12 (image 4) is out of range"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace adaspring::testing
