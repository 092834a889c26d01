// The trainer's options are checked before any training: each bad value is an option error
// (IsOptionError) naming the option and the value; the output path must be a file in an
// existing, writable directory; the data must fit the architecture and each other (test images
// of the training images' shape, labels within the classes); the held-out count is used as
// given. Synthetic IDX files, no Fashion-MNIST needed.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>

#include "adaspring/engine/train.h"

namespace adaspring::engine {
namespace {

std::string Header(std::vector<uint32_t> dims) {
  std::string s = {0, 0, 0x08, static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>(d >> shift));
  return s;
}

std::string Images(int n, int h, int w) {
  std::string s =
      Header({static_cast<uint32_t>(n), static_cast<uint32_t>(h), static_cast<uint32_t>(w)});
  for (int i = 0; i < n * h * w; ++i) s.push_back(static_cast<char>((i * 7 + i / 97) % 251));
  return s;
}

std::string Labels(int n, int classes, int bad_index = -1, int bad_label = 0) {
  std::string s = Header({static_cast<uint32_t>(n)});
  for (int i = 0; i < n; ++i)
    s.push_back(static_cast<char>(i == bad_index ? bad_label : i % classes));
  return s;
}

class TrainOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("train_options_test_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Write(const std::string& name, const std::string& bytes) {
    std::ofstream((dir_ / name).string(), std::ios::binary) << bytes;
  }
  // 28x28 training and test sets with labels 0..9 (smallres28's shape and classes).
  void WriteData(int train = 320, int test = 40) {
    Write("train-images-idx3-ubyte", Images(train, 28, 28));
    Write("train-labels-idx1-ubyte", Labels(train, 10));
    Write("t10k-images-idx3-ubyte", Images(test, 28, 28));
    Write("t10k-labels-idx1-ubyte", Labels(test, 10));
  }
  TrainOptions Small() const {
    TrainOptions o;
    o.data_dir = dir_.string();
    o.epochs = 1;
    o.batch = 16;
    o.threads = 1;
    o.random_configs = 0;
    o.val_images = 32;
    o.calib_images = 32;
    o.int8_calib_images = 16;
    o.predictor_configs = 8;
    o.heldout_configs = 3;
    o.checkpoint_path = (dir_ / "run.ckpt").string();
    return o;
  }
  std::filesystem::path dir_;
};

TEST_F(TrainOptionsTest, DefaultsAreValid) {
  EXPECT_TRUE(ValidateTrainOptions(TrainOptions{}).ok());
  TrainOptions o;
  o.out_path = (dir_ / "model.asb").string();
  EXPECT_TRUE(ValidateTrainOptions(o).ok()) << ValidateTrainOptions(o);
}

TEST_F(TrainOptionsTest, EachBadValueIsAnOptionErrorNamingTheOptionAndValue) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    std::function<void(TrainOptions&)> set;
    std::string expect;  // in the message
  } cases[] = {
      {[](TrainOptions& o) { o.epochs = 0; }, "--epochs must be >= 1, got 0"},
      {[](TrainOptions& o) { o.batch = 0; }, "--batch must be 2..1024, got 0"},
      {[](TrainOptions& o) { o.batch = 1025; }, "--batch must be 2..1024, got 1025"},
      {[](TrainOptions& o) { o.random_configs = 17; }, "--random-configs must be 0..16, got 17"},
      {[](TrainOptions& o) { o.random_configs = -1; }, "--random-configs must be 0..16, got -1"},
      {[](TrainOptions& o) { o.student_weight = 0; },
       "--student-weight must be finite, > 0 and <= 10, got 0"},
      {[](TrainOptions& o) { o.student_weight = 11; }, "--student-weight must be finite"},
      {[](TrainOptions& o) { o.student_weight = std::nan(""); }, "got nan"},
      {[](TrainOptions& o) { o.threads = -1; }, "--threads must be 0..256 (0 = all cores), got -1"},
      {[](TrainOptions& o) { o.threads = 257; }, "--threads must be 0..256"},
      {[](TrainOptions& o) { o.threads = 100000; }, "got 100000"},
      {[](TrainOptions& o) { o.lr = 0; }, "--lr must be a finite number > 0 (e.g. 0.1), got 0"},
      {[](TrainOptions& o) { o.lr = -0.1; },
       "--lr must be a finite number > 0 (e.g. 0.1), got -0.1"},
      {[nan](TrainOptions& o) { o.lr = nan; },
       "--lr must be a finite number > 0 (e.g. 0.1), got nan"},
      {[inf](TrainOptions& o) { o.lr = inf; },
       "--lr must be a finite number > 0 (e.g. 0.1), got inf"},
      {[nan](TrainOptions& o) { o.warmup_epochs = nan; }, "--warmup-epochs"},
      {[](TrainOptions& o) { o.full_only_epochs = -2; }, "--full-only-epochs"},
      {[](TrainOptions& o) { o.val_images = 0; }, "--val-images must be >= 1"},
      {[](TrainOptions& o) { o.val_images = -5; }, "got -5"},
      {[](TrainOptions& o) { o.max_train_images = -1; }, "--max-train-images must be >= 0"},
      {[](TrainOptions& o) { o.measure_val_images = -1; }, "--measure-val-images must be >= 0"},
      {[](TrainOptions& o) { o.calib_images = -1; }, "--calib-images must be >= 0"},
      {[](TrainOptions& o) { o.predictor_configs = -1; }, "--predictor-configs must be >= 4"},
      {[](TrainOptions& o) { o.predictor_configs = 3; }, "got 3"},
      {[](TrainOptions& o) {
         o.predictor_configs = 20;
         o.heldout_configs = -3;
       },
       "--heldout-configs must be >= 2"},
      {[](TrainOptions& o) {
         o.predictor_configs = 20;
         o.heldout_configs = 30;  // was silently clamped to 10
       },
       "--predictor-configs 20 with --heldout-configs 30 leaves -10 configurations"},
      {[](TrainOptions& o) {
         o.predictor_configs = 20;
         o.heldout_configs = 19;
       },
       "raise --predictor-configs to at least 21"},
      {[](TrainOptions& o) { o.arch = "nosuch"; }, "--arch 'nosuch' is not a built-in"},
  };
  for (const Case& c : cases) {
    TrainOptions o;
    c.set(o);
    const absl::Status s = ValidateTrainOptions(o);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.expect << ": " << s;
    EXPECT_TRUE(IsOptionError(s)) << s;
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << s;
    // Trainer::Create refuses it the same way before reading any data (there is none).
    o.data_dir = (dir_ / "no-data").string();
    const absl::Status created = Trainer::Create(o).status();
    EXPECT_TRUE(IsOptionError(created)) << created;
    EXPECT_EQ(created.message(), s.message());
  }
  TrainOptions fine;
  fine.predictor_configs = 20;
  fine.heldout_configs = 18;  // used as given (no longer clamped to half)
  EXPECT_TRUE(ValidateTrainOptions(fine).ok());
  EXPECT_FALSE(IsOptionError(absl::InvalidArgumentError("x")));
  EXPECT_FALSE(IsOptionError(absl::OkStatus()));
}

TEST_F(TrainOptionsTest, OutputMustBeAFileInAnExistingWritableDirectory) {
  struct Case {
    std::string out, expect;
  } cases[] = {
      {dir_.string(), " is a directory: give a file name in it"},
      {(dir_ / "missing" / "m.asb").string(),
       ": the directory " + (dir_ / "missing").string() + " does not exist"},
      {"/proc/m.asb", ": cannot create files in /proc"},  // unwritable even for root
  };
  for (const Case& c : cases) {
    TrainOptions o;
    o.out_path = c.out;
    const absl::Status s = ValidateTrainOptions(o);
    EXPECT_TRUE(IsOptionError(s)) << s;
    EXPECT_NE(s.message().find("--out " + c.out + c.expect), std::string::npos) << s;
  }
  // A good one passes, and the probe file is gone again.
  TrainOptions o;
  o.out_path = (dir_ / "m.asb").string();
  EXPECT_TRUE(ValidateTrainOptions(o).ok());
  EXPECT_TRUE(std::filesystem::is_empty(dir_));
}

TEST_F(TrainOptionsTest, OptionsThatDoNotFitTheDataAreOptionErrors) {
  WriteData(320, 40);
  TrainOptions o = Small();
  o.val_images = 320;
  absl::Status s = Trainer::Create(o).status();
  EXPECT_TRUE(IsOptionError(s)) << s;
  EXPECT_NE(s.message().find("--val-images 320 must be below the number of training images (320"),
            std::string::npos)
      << s;
  o = Small();
  o.batch = 512;
  s = Trainer::Create(o).status();
  EXPECT_TRUE(IsOptionError(s)) << s;
  EXPECT_NE(s.message().find("fewer training images (288 after --val-images 32) than one --batch "
                             "(512)"),
            std::string::npos)
      << s;
}

TEST_F(TrainOptionsTest, TestSetOfAnotherShapeIsRejectedNamingTheFile) {
  WriteData();
  Write("t10k-images-idx3-ubyte", Images(40, 14, 56));
  const absl::Status s = Trainer::Create(Small()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_FALSE(IsOptionError(s)) << s;  // the data is wrong, not an option
  EXPECT_NE(s.message().find((dir_ / "t10k-images-idx3-ubyte").string() +
                             ": images are 1x14x56, but the training images ("),
            std::string::npos)
      << s;
  EXPECT_NE(s.message().find(") are 1x28x28"), std::string::npos) << s;
}

TEST_F(TrainOptionsTest, LabelsOutOfRangeAreRejectedNamingTheFileAndLabel) {
  WriteData();
  Write("t10k-labels-idx1-ubyte", Labels(40, 10, 17, 10));
  absl::Status s = Trainer::Create(Small()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find((dir_ / "t10k-labels-idx1-ubyte").string() +
                             ": label 10 (image 17) is out of range: architecture 'smallres28' "
                             "has 10 classes, labels 0..9"),
            std::string::npos)
      << s;
  WriteData();
  Write("train-labels-idx1-ubyte", Labels(320, 10, 5, 200));
  s = Trainer::Create(Small()).status();
  EXPECT_NE(s.message().find((dir_ / "train-labels-idx1-ubyte").string() +
                             ": label 200 (image 5) is out of range"),
            std::string::npos)
      << s;
  EXPECT_NE(s.message().find("the largest label in the file is 200"), std::string::npos) << s;
}

TEST_F(TrainOptionsTest, ACheckpointInAMissingDirectorySaysSo) {
  WriteData();
  auto t = Trainer::Create(Small());
  ASSERT_TRUE(t.ok()) << t.status();
  const std::string path = (dir_ / "gone" / "c.ckpt").string();
  const absl::Status s = (*t)->SaveCheckpoint(path);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_NE(s.message().find("the directory " + (dir_ / "gone").string() + " does not exist"),
            std::string::npos)
      << s;
}

TEST_F(TrainOptionsTest, HeldOutCountIsUsedAsGiven) {
  // 8 measured configurations, 5 held out: before, more than half was silently cut to 4.
  WriteData(320, 40);
  TrainOptions o = Small();
  o.predictor_configs = 8;
  o.heldout_configs = 5;
  o.out_path = (dir_ / "m.asb").string();
  auto t = Trainer::Create(o);
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_TRUE((*t)->Train().ok());
  auto report = (*t)->Finish();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->heldout_configs, 5);
  EXPECT_EQ(report->fitted_configs, 3);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "m.asb"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "m.report.json"));
}

}  // namespace
}  // namespace adaspring::engine
