// The trainer on real Fashion-MNIST (Debian's dataset-fashion-mnist; skipped without it):
// a short run on a small subset learns far above chance, and resuming from a checkpoint
// computes exactly what an uninterrupted run computes.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "adaspring/engine/bundle.h"
#include "adaspring/engine/train.h"
#include "adaspring/engine/train/layers.h"

namespace adaspring::engine {
namespace {

constexpr char kData[] = "/usr/share/datasets/fashion-mnist";

class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(std::string(kData) + "/train-images-idx3-ubyte.gz"))
      GTEST_SKIP() << "Fashion-MNIST not installed (apt install dataset-fashion-mnist)";
    dir_ = std::filesystem::temp_directory_path() /
           ("trainer_test_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  TrainOptions Small(int images, int epochs) const {
    TrainOptions o;
    o.data_dir = kData;
    o.arch = "smallres28";
    o.epochs = epochs;
    o.batch = 64;
    o.seed = 3;
    o.threads = 1;  // deterministic and light on a shared machine
    o.random_configs = 1;
    o.val_images = 1000;
    o.max_train_images = images;
    o.warmup_epochs = 0.3;
    o.full_only_epochs = 0;
    o.checkpoint_path = (dir_ / "run.ckpt").string();
    return o;
  }
  std::filesystem::path dir_;
};

TEST_F(TrainerTest, ShortRunOnASubsetLearnsFarAboveChance) {
  // 1920 images x 3 epochs (90 sandwich steps): chance is 0.10; the full network reaches
  // 0.568 on the 1000 validation images with the running BN statistics (seed 3, one thread;
  // measured). Assert 4.5x chance.
  auto trainer = Trainer::Create(Small(1920, 3));
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  ASSERT_TRUE((*trainer)->Train().ok());
  const ConfigSpace space(*BuiltinArch("smallres28"));
  const double full = (*trainer)->ValidationAccuracy(space.Full(Precision::kF32));
  EXPECT_GE(full, 0.45) << "full-network validation accuracy";
  const double smallest = (*trainer)->ValidationAccuracy(space.Smallest(Precision::kF32));
  EXPECT_GE(smallest, 0.35) << "smallest-configuration validation accuracy";
  EXPECT_TRUE((*trainer)->ExportModel()->CheckTensors().ok());
}

TEST_F(TrainerTest, DivergenceStopsWithAClearErrorBeforeAnyCheckpoint) {
  // A learning rate of 1e4 blows the weights up within a few steps of the first epoch.
  TrainOptions o = Small(640, 2);
  o.lr = 1e4;
  o.warmup_epochs = 0;
  auto trainer = Trainer::Create(o);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  const absl::Status st = (*trainer)->Train();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_NE(st.message().find("training diverged at epoch 1, step "), std::string::npos) << st;
  EXPECT_NE(st.message().find("no checkpoint was written"), std::string::npos) << st;
  EXPECT_NE(st.message().find("lower --lr (now 10000)"), std::string::npos) << st;
  EXPECT_FALSE(std::filesystem::exists(o.checkpoint_path));
}

TEST_F(TrainerTest, ResumingFromACheckpointEqualsNotStopping) {
  TrainOptions o = Small(256, 2);  // 4 steps per epoch
  auto straight = Trainer::Create(o);
  ASSERT_TRUE(straight.ok()) << straight.status();
  ASSERT_TRUE((*straight)->Train().ok());

  o.checkpoint_path = (dir_ / "stopped.ckpt").string();
  auto first = Trainer::Create(o);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->TrainEpoch().ok());  // checkpoints after the epoch, then "stops"
  first->reset();
  o.resume_path = o.checkpoint_path;
  o.checkpoint_path = (dir_ / "resumed.ckpt").string();
  auto resumed = Trainer::Create(o);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ((*resumed)->epochs_done(), 1);
  ASSERT_TRUE((*resumed)->Train().ok());

  auto a = (*straight)->ExportModel();
  auto b = (*resumed)->ExportModel();
  int compared = 0;
  for (const auto& [name, entry] : a->tensors().entries()) {
    const TensorStore::Entry* other = b->tensors().Find(name);
    ASSERT_NE(other, nullptr) << name;
    ASSERT_EQ(entry.numel, other->numel);
    for (int64_t i = 0; i < entry.numel; ++i)
      ASSERT_EQ(entry.data[i], other->data[i]) << name << "[" << i << "] differs";
    ++compared;
  }
  EXPECT_GT(compared, 50);
}

TEST_F(TrainerTest, TheStudentWeightScalesOnlyTheStudentsShareOfTheUpdate) {
  // One step of the largest configuration alone (at initialisation the classifier's output
  // is uniform, so no student could learn from it), then one sandwich step: its update is
  // -lr (momentum + g_largest + w g_students + decay), so the weights after it are affine in
  // w and x(1) - x(0.5) = 2 (x(0.5) - x(0.25)) for every weight, while the students' part is
  // not zero.
  auto weights_after_one_step = [&](double w) {
    TrainOptions o = Small(64, 2);  // one batch of 64: one step per epoch
    o.full_only_epochs = 1;
    o.student_weight = w;
    o.checkpoint_path.clear();
    auto t = Trainer::Create(o);
    EXPECT_TRUE(t.ok()) << t.status();
    std::map<std::string, std::vector<float>> out;
    if (!t.ok() || !(*t)->Train().ok()) return out;
    auto model = (*t)->ExportModel();
    for (const auto& [name, entry] : model->tensors().entries())
      out[name].assign(entry.data, entry.data + entry.numel);
    return out;
  };
  const auto x1 = weights_after_one_step(1.0), x05 = weights_after_one_step(0.5),
             x025 = weights_after_one_step(0.25);
  ASSERT_FALSE(x1.empty());
  double students = 0, residual = 0;
  for (const auto& [name, a] : x1) {
    const std::vector<float>& b = x05.at(name);
    const std::vector<float>& c = x025.at(name);
    for (size_t i = 0; i < a.size(); ++i) {
      const double d1 = static_cast<double>(a[i]) - b[i], d2 = static_cast<double>(b[i]) - c[i];
      students += d1 * d1;
      residual += (d1 - 2 * d2) * (d1 - 2 * d2);
    }
  }
  EXPECT_GT(students, 1e-8) << "the students' gradient moved no weight";
  // float32 rounding of the weights (~0.1) leaves ~1% of the students' part (~1e-5 per
  // weight) as residual; a weight applied other than linearly (w^2, or not at all) leaves 50%+.
  EXPECT_LT(std::sqrt(residual), 0.05 * std::sqrt(students))
      << "the update is not affine in the student weight";
}

TEST_F(TrainerTest, TheBundleRecordsItsValidationSplitAndMeasuringRefusesAnother) {
  TrainOptions o = Small(128, 1);
  o.measure_val_images = 300;
  auto t = Trainer::Create(o);
  ASSERT_TRUE(t.ok()) << t.status();
  std::shared_ptr<Model> model = (*t)->ExportModel();
  const Provenance::TableSplit expected{1000, 300};
  EXPECT_EQ(model->meta().provenance.table_split, expected);

  const std::string path = (dir_ / "m.asb").string();
  ASSERT_TRUE(WriteBundle(*model, path).ok());
  auto read = ReadBundle(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ((*read)->meta().provenance.table_split, expected);

  MeasureOptions m;
  m.data_dir = kData;
  m.threads = 1;
  m.count = 1;
  m.val_images = 5000;  // the default, not this bundle's
  m.measure_val_images = 300;
  absl::Status s = MeasureValidationConfigs(*read, m).status();
  EXPECT_TRUE(IsOptionError(s)) << s;
  EXPECT_NE(s.message().find("--val-images 5000 is not the bundle's: its table was measured "
                             "with --val-images 1000"),
            std::string::npos)
      << s;
  m.val_images = 1000;
  m.measure_val_images = 0;
  s = MeasureValidationConfigs(*read, m).status();
  EXPECT_TRUE(IsOptionError(s)) << s;
  EXPECT_NE(s.message().find("--measure-val-images 0 is not the bundle's"), std::string::npos) << s;
}

TEST_F(TrainerTest, DamagedOrForeignCheckpointIsRejected) {
  TrainOptions o = Small(128, 1);
  auto t = Trainer::Create(o);
  ASSERT_TRUE(t.ok());
  const std::string path = (dir_ / "c.ckpt").string();
  ASSERT_TRUE((*t)->SaveCheckpoint(path).ok());
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(200);
    f.put('\x7f');
  }
  o.resume_path = path;
  EXPECT_EQ(Trainer::Create(o).status().code(), absl::StatusCode::kDataLoss);
  ASSERT_TRUE((*t)->SaveCheckpoint(path).ok());
  o.seed = 99;  // another run's checkpoint
  EXPECT_EQ(Trainer::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace adaspring::engine
