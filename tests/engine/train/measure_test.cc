// MeasureValidationConfigs on the shipped bundle and real Fashion-MNIST (skipped without it):
// the validation split is derived again and reproduces the bundle's measured table exactly; a
// different split is refused before anything new is measured (by the split the bundle records,
// or, for a bundle that records none, by its table not reproducing).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "adaspring/engine/bundle.h"
#include "adaspring/engine/train.h"

namespace adaspring::engine {
namespace {

constexpr char kData[] = "/usr/share/datasets/fashion-mnist";
const std::string kBundle = std::string(ADASPRING_SOURCE_DIR) + "/models/smallres28.asb";

class MeasureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(std::string(kData) + "/train-images-idx3-ubyte.gz"))
      GTEST_SKIP() << "Fashion-MNIST not installed (apt install dataset-fashion-mnist)";
    auto model = ReadBundle(kBundle);
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = *model;
  }
  MeasureOptions Options() const {
    MeasureOptions o;
    o.data_dir = kData;
    o.val_images = 5000;  // the shipped bundle's training run
    o.threads = 1;
    return o;
  }
  // The shipped model as an older bundle would read: no recorded table split. A fresh copy
  // read from the file (a non-const object behind the const interface), changed only here.
  std::shared_ptr<const Model> WithoutRecordedSplit() const {
    auto fresh = ReadBundle(kBundle);
    EXPECT_TRUE(fresh.ok()) << fresh.status();
    if (!fresh.ok()) return model_;
    const_cast<ModelMeta&>((*fresh)->meta()).provenance.table_split.reset();
    return *fresh;
  }
  std::shared_ptr<const Model> model_;
};

TEST_F(MeasureTest, ReproducesTheTableAndAddsNewValidationConfigurations) {
  MeasureOptions o = Options();
  o.count = 2;
  o.verify = 2;
  o.verify_tolerance_images = 0;  // one thread, as the table was measured: exact
  auto more = MeasureValidationConfigs(model_, o);
  ASSERT_TRUE(more.ok()) << more.status();
  ASSERT_EQ(more->size(), 2u);
  std::set<std::string> table;
  for (const MeasuredConfig& m : model_->measured) table.insert(m.config);
  for (const MeasuredConfig& m : *more) {
    EXPECT_EQ(m.split, "val");
    EXPECT_FALSE(m.heldout);
    EXPECT_GT(m.accuracy, 0.5);
    EXPECT_LE(m.accuracy, 1.0);
    EXPECT_FALSE(table.count(m.config)) << m.config << " is already in the table";
    EXPECT_TRUE(model_->space().Parse(m.config).ok());
  }
}

TEST_F(MeasureTest, MeasuresOnTheFirstMeasureValImages) {
  // --measure-val-images 49: every new accuracy is k/49 (on all 5000 images it would be k/5000,
  // which is a multiple of 1/49 only for 0 and 1). Without verification, which would (rightly)
  // refuse: the table was measured on all 5000.
  MeasureOptions o = Options();
  o.measure_val_images = 49;
  o.count = 2;
  o.verify = 0;
  // The shipped bundle records that its table was measured on all 5000: 49 is refused at once.
  const absl::Status refused = MeasureValidationConfigs(model_, o).status();
  EXPECT_TRUE(IsOptionError(refused)) << refused;
  EXPECT_NE(refused.message().find("--measure-val-images 49 is not the bundle's: its table was "
                                   "measured with --measure-val-images 0"),
            std::string::npos)
      << refused;
  const std::shared_ptr<const Model> unrecorded = WithoutRecordedSplit();
  auto more = MeasureValidationConfigs(unrecorded, o);
  ASSERT_TRUE(more.ok()) << more.status();
  ASSERT_EQ(more->size(), 2u);
  for (const MeasuredConfig& m : *more) {
    EXPECT_NEAR(m.accuracy * 49, std::round(m.accuracy * 49), 1e-9) << m.accuracy;
    EXPECT_GT(m.accuracy, 0.0);
    EXPECT_LT(m.accuracy, 1.0);
  }
  o.measure_val_images = -1;
  EXPECT_TRUE(IsOptionError(MeasureValidationConfigs(unrecorded, o).status()));
  o.measure_val_images = 0;
  o.threads = kMaxTrainThreads + 1;
  const absl::Status s = MeasureValidationConfigs(model_, o).status();
  EXPECT_TRUE(IsOptionError(s)) << s;
  EXPECT_NE(s.message().find("--threads must be 1..256"), std::string::npos) << s;
}

TEST_F(MeasureTest, AnotherSplitIsRefused) {
  MeasureOptions o = Options();
  o.val_images = 4000;
  o.count = 1;
  o.verify = 1;
  // Named from the split the bundle records, before anything is measured...
  const absl::Status named = MeasureValidationConfigs(model_, o).status();
  EXPECT_TRUE(IsOptionError(named)) << named;
  EXPECT_NE(named.message().find("--val-images 4000 is not the bundle's: its table was measured "
                                 "with --val-images 5000"),
            std::string::npos)
      << named;
  // ...and, without that record, by the table not reproducing on the other split.
  auto more = MeasureValidationConfigs(WithoutRecordedSplit(), o);
  EXPECT_EQ(more.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(more.status().message().find("does not reproduce"), std::string::npos) << more.status();
  o.val_images = 0;
  const absl::Status s = MeasureValidationConfigs(model_, o).status();
  EXPECT_TRUE(IsOptionError(s)) << s;
  EXPECT_NE(s.message().find("--val-images 0 is not in [1, 60000)"), std::string::npos) << s;
}

}  // namespace
}  // namespace adaspring::engine
